package eval_test

import (
	"testing"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// aggregateEnvs returns the env of a window rule's having/emit (the
// partition key user in Vars[0]) and the env its aggregates' arguments
// compile against (the window's events).
func aggregateEnvs() (having, arg *eval.Env) {
	having = eval.NewEnv()
	having.Var("user", event.String, 0)
	having.Const("big", event.FloatValue(1000))
	arg = eval.NewEnv()
	arg.Event(trade)
	arg.Const("big", event.FloatValue(1000))
	return having, arg
}

type aggregateCase struct {
	src  string
	typ  string   // result type of the program
	aggs []string // Func(ArgSource)@Var:type of each aggregate
	err  string   // the whole compile error, if any
}

var aggregateCases = []aggregateCase{
	{`count() >= 5`, "bool", []string{"count()@1:int"}, ""},
	{`count()`, "int", []string{"count()@1:int"}, ""},
	{`sum(qty)`, "int", []string{"sum(qty)@1:int"}, ""},
	{`sum( price * qty )`, "float", []string{"sum(price * qty)@1:float"}, ""},
	{`avg(qty) > 2 and max(price) < big`, "bool", []string{"avg(qty)@1:float", "max(price)@2:float"}, ""},
	{`min(sym)`, "string", []string{"min(sym)@1:string"}, ""},
	{`first(at)`, "time", []string{"first(at)@1:time"}, ""},
	{`last(tags)`, "[string]", []string{"last(tags)@1:[string]"}, ""},
	{`count_distinct(sym)`, "int", []string{"count_distinct(sym)@1:int"}, ""},
	{`count(side)`, "int", []string{"count(side)@1:int"}, ""},
	{`stddev(price) + var(price)`, "float", []string{"stddev(price)@1:float", "var(price)@2:float"}, ""},
	{`percentile(price, 0.9)`, "float", []string{"percentile(price)@1:float"}, ""},
	{`sum(qty) / count()`, "float", []string{"sum(qty)@1:int", "count()@2:int"}, ""},
	{`count() + count()`, "int", []string{"count()@1:int", "count()@1:int"}, ""},
	{`max(count(), 3)`, "int", []string{"count()@1:int"}, ""},
	{`user == "u" ? sum(qty) : 0`, "int", []string{"sum(qty)@1:int"}, ""},
	{`max(at) - min(at) > duration("1m")`, "bool", []string{"max(at)@1:time", "min(at)@2:time"}, ""},

	{`sum(sym)`, "", nil, `1:5: sum needs a number, found string`},
	{`min(ok)`, "", nil, `1:5: min needs a number, string, time or duration, found bool`},
	{`count_distinct(tags)`, "", nil, `1:16: count_distinct needs a scalar, found [string]`},
	{`percentile(price, 2)`, "", nil, `1:19: percentile needs a constant q in [0,1], found 2`},
	{`percentile(price, qty)`, "", nil, `1:19: percentile needs a constant q in [0,1], found qty`},
	{`percentile(price)`, "", nil, `1:1: percentile takes two arguments (a value and q in [0,1]), found 1`},
	{`count(qty, 1)`, "", nil, `1:1: count takes at most one argument, found 2`},
	{`sum()`, "", nil, `1:1: sum takes one argument, found 0`},
	{`sum(count())`, "", nil, `1:5: aggregate count is not allowed inside an aggregate`},
	{`sum(prise)`, "", nil, `1:5: unknown name prise; did you mean price?`},
	{`sum(qty) + user`, "", nil, `1:10: invalid operation: + (mismatched types int and string)`},
	{`qty > 1`, "", nil, `1:1: unknown name qty`},
}

func aggString(a eval.Aggregate) string {
	arg := ""
	if a.Arg != nil {
		arg = a.Arg.Source()
	}
	return a.Func + "(" + arg + ")@" + itoa(a.Var) + ":" + a.Type.String()
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestCompile_aggregates(t *testing.T) {
	for _, tc := range aggregateCases {
		t.Run(tc.src, func(t *testing.T) {
			having, arg := aggregateEnvs()
			p, err := eval.Compile(tc.src, having, eval.Aggregates(arg))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if p.Type().String() != tc.typ {
				t.Errorf("type %v, want %s", p.Type(), tc.typ)
			}
			var got []string
			for _, a := range p.Aggregates() {
				got = append(got, aggString(a))
			}
			if len(got) != len(tc.aggs) {
				t.Fatalf("aggregates %v, want %v", got, tc.aggs)
			}
			for i := range got {
				if got[i] != tc.aggs[i] {
					t.Errorf("aggregate %d: %s, want %s", i, got[i], tc.aggs[i])
				}
			}
		})
	}
}

// TestCompile_aggregateSlots: expressions compiled against one Env share
// the slot of the same aggregate, and the results are read from Vars.
func TestCompile_aggregateSlots(t *testing.T) {
	having, arg := aggregateEnvs()
	cond, err := eval.Compile(`count() >= 2 and avg(price) > 10`, having, eval.Aggregates(arg), eval.ExpectBool())
	if err != nil {
		t.Fatal(err)
	}
	emit, err := eval.Compile(`sum(price) / count()`, having, eval.Aggregates(arg))
	if err != nil {
		t.Fatal(err)
	}
	all := having.Aggregates()
	if len(all) != 3 {
		t.Fatalf("env has %d aggregates, want 3: %v", len(all), all)
	}
	slot := map[string]int{}
	for _, a := range all {
		slot[a.Func] = a.Var
	}
	if slot["count"] != 1 || slot["avg"] != 2 || slot["sum"] != 3 {
		t.Errorf("slots %v, want count 1, avg 2, sum 3", slot)
	}
	if got := emit.Aggregates()[1].Var; got != slot["count"] {
		t.Errorf("count() in the second program reads slot %d, want %d", got, slot["count"])
	}
	if !cond.Lowered() || !emit.Lowered() {
		t.Errorf("aggregate reads should lower")
	}

	// The engine computes the aggregates from the arguments...
	m := eval.NewMachine()
	price := all[1].Arg
	var sum float64
	for _, p := range []float64{10, 20, 30} {
		e := tradeEvent("A", p, 1, 0, true)
		sum += m.Eval(price, &eval.Frame{Current: e}).Float()
	}
	// ...and stores them in Vars before evaluating.
	vars := make([]event.Value, 4)
	vars[0] = event.StringValue("u")
	vars[slot["count"]] = event.IntValue(3)
	vars[slot["avg"]] = event.FloatValue(sum / 3)
	vars[slot["sum"]] = event.FloatValue(sum)
	f := &eval.Frame{Vars: vars}
	if !m.EvalBool(cond, f) {
		t.Errorf("having is false, want true")
	}
	if got := m.Eval(emit, f).Float(); got != 20 {
		t.Errorf("emit = %v, want 20", got)
	}
	if all[0].Arg != nil || all[0].Line != 1 || all[0].Col != 1 {
		t.Errorf("count(): Arg %v, position %d:%d, want nil at 1:1", all[0].Arg, all[0].Line, all[0].Col)
	}
}
