package engine_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
)

// A pattern rule through the fluent pattern API (Flink's Pattern API for
// Go): a fraud warning, then a PIN change, then one or more large
// withdrawals (the longest run), all within 10 minutes, per account. The
// same rule in the language is
//
//	rule takeover
//	  partition by acct
//	  match f:FraudWarning(score >= 5) -> p:PINChange -> w:Withdrawal(amount > 500)+!
//	        -> Logout
//	  within 10m
//	  emit Alert { acct, withdrawals: len(w), total: sum(map(w, .amount)) }
func ExampleBegin() {
	b := engine.NewBuilder()
	b.Event("FraudWarning").Field("acct", event.String).Field("score", event.Int).Field("at", event.Time).Time("at")
	b.Event("PINChange").Field("acct", event.String).Field("at", event.Time).Time("at")
	b.Event("Withdrawal").Field("acct", event.String).Field("amount", event.Float).Field("at", event.Time).Time("at")
	b.Event("Logout").Field("acct", event.String).Field("at", event.Time).Time("at")

	pat := engine.Begin("f", "FraudWarning").Where("score >= 5").
		FollowedBy("p", "PINChange").
		FollowedBy("w", "Withdrawal").Where("amount > 500").OneOrMore().Greedy().
		FollowedBy("", "Logout").
		Within(10 * time.Minute)
	b.Rule("takeover").Pattern(pat).PartitionBy("acct").
		Emit("Alert", engine.Field{Name: "acct"},
			engine.Field{Name: "withdrawals", Expr: "len(w)"},
			engine.Field{Name: "total", Expr: "sum(map(w, .amount))"})
	g, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pat)

	m := g.NewMatcher(engine.Config{})
	enc := codec.NewEncoder(os.Stdout, g.Registry(), false)
	m.Subscribe(engine.AllDerived, func(d *engine.Derived) { enc.Encode(d) })
	input := `{"type":"FraudWarning","acct":"A1","score":7,"at":"2024-01-01T00:00:00Z"}
{"type":"PINChange","acct":"A1","at":"2024-01-01T00:01:00Z"}
{"type":"Withdrawal","acct":"A1","amount":800,"at":"2024-01-01T00:02:00Z"}
{"type":"Withdrawal","acct":"B2","amount":900,"at":"2024-01-01T00:02:30Z"}
{"type":"Withdrawal","acct":"A1","amount":20,"at":"2024-01-01T00:03:00Z"}
{"type":"Withdrawal","acct":"A1","amount":950,"at":"2024-01-01T00:04:00Z"}
{"type":"Logout","acct":"A1","at":"2024-01-01T00:05:00Z"}
`
	dec, _ := codec.NewJSONDecoder(strings.NewReader(input), g.Registry(), codec.Options{Source: "bank.jsonl"})
	if err := codec.Feed(dec, m); err != nil {
		fmt.Println(err)
	}
	m.Close()
	// Output:
	// f:FraudWarning(score >= 5) -> p:PINChange -> w:Withdrawal(amount > 500)+! -> Logout within 10m
	// {"type":"Alert","time":"2024-01-01T00:05:00Z","rule":"takeover","acct":"A1","withdrawals":2,"total":1750}
}

// Mistakes in a fluent pattern are reported with what was expected and
// found, all of them at once.
func ExampleBuilder_CompilePattern_errors() {
	b := engine.NewBuilder()
	b.Event("Login").Field("user", event.String).Field("ok", event.Bool).Field("at", event.Time).Time("at")
	_, err := b.CompilePattern(engine.Begin("f", "Login").Where("not ok").OneOrMore().
		FollowedBy("s", "Login").Where("ok and user == f.user").
		FollowedBy("x", "Logn"))
	fmt.Println(err)
	_, err = b.CompilePattern(engine.Begin("f", "Login").Where("not ok").OneOrMore().
		FollowedBy("s", "Login").Where("ok and user == f.user").At(engine.Pos{File: "rules.go", Line: 12, Col: 3}).
		NotFollowedBy("Login"))
	for _, e := range err.(engine.ErrorList) {
		fmt.Println(e)
	}
	// Output:
	// unknown event type Logn; did you mean Login?
	// pattern: a trailing NotFollowedBy(Login) needs Within: the absence is established when within expires
	// rules.go:12:3: pattern: the condition of element s:Login: f is a list of Login events (its element repeats); write f[0].user, f[-1].user or map(f, .user)
}
