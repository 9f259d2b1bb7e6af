package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
)

// valueCase is an expression and its value on fixedFrame and emptyFrame
// ("" skips; "error" is a runtime error), and whether it lowers entirely.
type valueCase struct {
	src     string
	want    string
	empty   string
	lowered bool
}

var valueCases = []valueCase{
	// Field comparisons, and/or/not.
	{`price > 100`, `true`, ``, true},
	{`price > 100 and sym == "AAPL"`, `true`, ``, true},
	{`price > big`, `false`, ``, true},
	{`qty >= limit`, `true`, ``, true},
	{`qty == 7.0`, `true`, ``, true},
	{`price != 150.5`, `false`, ``, true},
	{`sym < "B"`, `true`, ``, true},
	{`ok`, `true`, ``, true},
	{`ok == true`, `true`, ``, true},
	{`not ok`, `false`, ``, true},
	{`!ok || qty > 10`, `false`, ``, true},
	{`1 < 2 && 2.5 >= 2`, `true`, ``, true},

	// Missing values: SQL NULL.
	{`side == "buy"`, `nil`, ``, true},
	{`side != "buy"`, `nil`, ``, true},
	{`side == nil`, `true`, ``, true},
	{`side != nil`, `false`, ``, true},
	{`nil == side`, `true`, ``, true},
	{`nil == nil`, `true`, ``, true},
	{`not (side == "x")`, `nil`, ``, true},
	{`side == "x" or ok`, `true`, ``, true},
	{`side == "x" and ok`, `nil`, ``, true},
	{`side == "x" and not ok`, `false`, ``, true},
	{`side == "x" or not ok`, `nil`, ``, true},
	{`not ok or side > "a"`, `nil`, ``, true},
	{`side ?? "none"`, `"none"`, ``, true},
	{`nothing == nil`, `true`, ``, true},
	{`nothing`, `nil`, ``, true},

	// in, string tests.
	{`sym in ["AAPL", "MSFT"]`, `true`, ``, true},
	{`sym in ["a", "b", "c", "d", "e", "AAPL"]`, `true`, ``, true},
	{`sym in watch`, `true`, ``, true},
	{`sym not in ["X"]`, `true`, ``, true},
	{`qty in [1, 2, 3]`, `false`, ``, true},
	{`qty in [1, 2, 3, 4, 5, 6, 7]`, `true`, ``, true},
	{`qty in [7.0, 8]`, `true`, ``, true},
	{`side in ["buy"]`, `nil`, ``, true},
	{`"x" in tags`, `true`, ``, true},
	{`"z" in tags`, `false`, ``, true},
	{`"x" in prev.tags`, `nil`, `nil`, true},
	{`qty in [1, a.qty, prev.qty, 7]`, `true`, `true`, true},
	{`sym contains "AP"`, `true`, ``, true},
	{`sym startsWith "AA"`, `true`, ``, true},
	{`sym endsWith "L"`, `true`, ``, true},
	{`sym matches "^A+P+L$"`, `true`, ``, true},
	{`side matches "b"`, `nil`, ``, true},
	{`sym + "-" + a.sym`, `"AAPL-MSFT"`, `nil`, true},
	{`len(sym)`, `4`, ``, true},
	{`len("é")`, `1`, ``, true},
	{`len(tags)`, `2`, ``, true},
	{`len(prev.tags)`, `nil`, `nil`, true},

	// Arithmetic.
	{`qty + 1`, `8`, ``, true},
	{`qty * 2 - 1`, `13`, ``, true},
	{`qty / 2`, `3.5f`, ``, true},
	{`qty % 4`, `3`, ``, true},
	{`price * qty`, `1053.5f`, ``, true},
	{`-qty`, `-7`, ``, true},
	{`-price`, `-150.5f`, ``, true},
	{`+qty`, `7`, ``, true},
	{`2 ** 10`, `1024f`, ``, true},
	{`2 ^ 3`, `8f`, ``, true},
	{`big / 8`, `125f`, ``, true},
	{`prev.qty + 1`, `nil`, `nil`, true},
	{`prev.qty + 1 > 0`, `nil`, `nil`, true},
	{`prev.qty ?? 42`, `42`, `42`, true},
	{`qty ?? 42`, `7`, ``, true},
	{`qty % (qty - 7)`, `error`, ``, true},

	// Times and durations.
	{`at - prev.at > duration("5m")`, `true`, `nil`, true},
	{`at - prev.at`, `10m0s`, `nil`, true},
	{`at > prev.at`, `true`, `nil`, true},
	{`at == a.at + duration("5m")`, `true`, `nil`, true},
	{`at - wait`, `2024-03-01T12:08:30Z`, ``, true},
	{`wait + at`, `2024-03-01T12:11:30Z`, ``, true},
	{`wait * 2`, `3m0s`, ``, true},
	{`2 * wait < duration("3m")`, `false`, ``, true},
	{`wait + prev.wait`, `2m0s`, `nil`, true},
	{`wait - prev.wait >= duration("1m")`, `true`, `nil`, true},
	{`wait * wait > wait`, `true`, ``, true},
	// Times hold Unix nanoseconds in an int64: beyond, an error on both
	// paths, never a time wrapped around.
	{`at + duration("2562047h") > at`, `error`, ``, true},
	{`duration("-2562047h") + at`, `1731-11-21T13:10:00Z`, ``, true},
	{`at - duration("-2562047h") > at`, `error`, ``, true},
	{`at - duration("2562047h") < at`, `true`, ``, true},
	{`at - date("0:00:00")`, `error`, ``, false},
	{`at.AddDate(300, 0, 0) > at`, `error`, ``, false},
	{`at.AddDate(200, 0, 0) > at`, `true`, ``, false},

	// Aliases, prev, lists, variables.
	{`a.sym`, `"MSFT"`, `nil`, true},
	{`a.price < price`, `true`, `nil`, true},
	{`prev.price`, `140f`, `nil`, true},
	{`f[0].price`, `140f`, `error`, true},
	{`f[-1].sym`, `"AAPL"`, `error`, true},
	{`f[1].qty + f[2].qty`, `10`, `error`, true},
	{`len(f)`, `3`, `0`, true},
	{`len(f) > 0 and f[0].ok`, `false`, `false`, true},
	{`f[len(f) - 1].price`, `150.5f`, `error`, true},
	{`f[3].qty`, `error`, `error`, true},
	{`f[-4].qty`, `error`, `error`, true},
	{`prev == nil`, `false`, `true`, true},
	{`prev != nil and prev.price < price`, `true`, `false`, true},
	{`nil != a`, `true`, `false`, true},
	{`prev?.price`, `140f`, `nil`, true},
	{`a?.sym ?? "none"`, `"MSFT"`, `"none"`, true},
	{`key == sym`, `true`, `nil`, true},
	{`n + qty`, `11`, `nil`, true},

	// Ternaries.
	{`qty > 5 ? "big" : "small"`, `"big"`, ``, true},
	{`side == "buy" ? 1 : 2`, `2`, ``, true},
	{`ok ? price : 0.0`, `150.5f`, ``, true},
	{`ok ? qty : price`, `7`, ``, true},

	// Reads of any and lists.
	{`note`, `"hello"`, ``, true},
	{`tags`, `["x", "y"]`, ``, true},

	// The VM fallback, alone and under lowered operators.
	{`note == "hello"`, `true`, ``, false},
	{`upper(sym)`, `"AAPL"`, ``, false},
	{`upper(sym) == "AAPL" and price > 100`, `true`, ``, false},
	// Predicates over a list alias lower; the element is read in place.
	{`sum(map(f, .price))`, `389.5f`, `0f`, true},
	{`sum(f, .price * 2)`, `779f`, `0f`, true},
	{`sum(map(f, .qty))`, `error`, `0`, true},
	{`all(f, .ok)`, `false`, `true`, true},
	{`all(f, .qty > 1)`, `false`, `true`, true},
	{`any(f, .qty > 5)`, `true`, `false`, true},
	{`none(f, .qty > 100)`, `true`, `true`, true},
	{`one(f, .sym == "MSFT")`, `true`, `false`, true},
	{`count(f, .qty > 1)`, `2`, `0`, true},
	{`count(f, .qty > limit) == 1`, `true`, `false`, true},
	{`any(f, .sym == sym and any(f, .qty > 5))`, `true`, `false`, true},
	{`all(f, .price > 0 and upper(.sym) != "")`, `true`, `true`, false},
	{`map(f, .sym)`, `["AAPL", "MSFT", "AAPL"]`, `[]`, false},
	{`first(tags)`, `"x"`, ``, false},
	{`max(qty, 10)`, `10`, ``, false},
	{`abs(-qty)`, `7`, ``, false},
	{`string(qty)`, `"7"`, ``, false},
	{`int(price)`, `150`, ``, false},
	{`at.Hour()`, `12`, ``, false},
	{`(at - prev.at).Minutes()`, `10f`, `error`, false},
	{`let x = qty * 2; x + 1`, `15`, ``, false},
	{`trim(" a ")`, `"a"`, ``, false},
	{`sym[0:2]`, `"AA"`, ``, false},
	{`date("2024-03-01") < at`, `true`, ``, false},
	{`f[0]?.side`, `"buy"`, `error`, false},
	{`[qty, price]`, `[7, 150.5f]`, ``, false},
	{`prev.qty > 1 ? upper(sym) : lower(sym)`, `"aapl"`, `"aapl"`, false},
	{`upper(side)`, `error`, ``, false},
	// Fuzz regression: a ternary of an event and a string is not a value
	// the lowered code can hold, so its nil test runs on the VM.
	{`(sym != "0" ? prev : sym) != nil`, `true`, ``, false},
}

func evalString(m *eval.Machine, p *eval.Program, f *eval.Frame) string {
	before := m.Errors()
	v := m.Eval(p, f)
	if m.Errors() != before {
		return "error"
	}
	return evaltest.Format(v)
}

func TestEval_values(t *testing.T) {
	env := newEnv()
	m := eval.NewMachine()
	for _, tc := range valueCases {
		t.Run(tc.src, func(t *testing.T) {
			for _, force := range []bool{false, true} {
				var opts []eval.Option
				if force {
					opts = append(opts, eval.ForceVM())
				}
				p, err := eval.Compile(tc.src, env, opts...)
				if err != nil {
					t.Fatalf("compile: %v", err)
				}
				if !force && p.Lowered() != tc.lowered {
					t.Errorf("Lowered() = %v, want %v", p.Lowered(), tc.lowered)
				}
				if force && p.Lowered() {
					t.Errorf("ForceVM program reports Lowered()")
				}
				if got := evalString(m, p, fixedFrame()); got != tc.want {
					t.Errorf("force=%v: got %s, want %s (%v)", force, got, tc.want, m.LastError())
				}
				if tc.empty != "" {
					if got := evalString(m, p, emptyFrame()); got != tc.empty {
						t.Errorf("force=%v on the empty frame: got %s, want %s (%v)", force, got, tc.empty, m.LastError())
					}
				}
			}
		})
	}
}
