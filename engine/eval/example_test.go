package eval_test

import (
	"fmt"
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

func Example() {
	login := event.NewSchema("Login", []event.Field{
		{Name: "user", Type: event.String},
		{Name: "ok", Type: event.Bool},
		{Name: "at", Type: event.Time},
	}, "at", 0)

	// A pattern condition: bare names are the current event, prev is the
	// previous event of the partition.
	env := eval.NewEnv()
	env.Event(login)
	env.Prev(login)
	cond, err := eval.Compile(`not ok and at - prev.at < duration("1m")`, env, eval.ExpectBool())
	if err != nil {
		fmt.Println(err)
		return
	}

	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := func(ok bool, at time.Duration) *event.Event {
		return &event.Event{Fields: []event.Value{
			event.StringValue("ann"), event.BoolValue(ok), event.TimeValue(t0.Add(at).UnixNano()),
		}}
	}
	m := eval.NewMachine()
	fmt.Println(cond.Lowered(), m.EvalBool(cond, &eval.Frame{Current: ev(false, 30*time.Second), Prev: ev(false, 0)}))
	fmt.Println(m.EvalBool(cond, &eval.Frame{Current: ev(false, 30*time.Second)})) // no prev: false

	_, err = eval.Compile(`usr == "ann"`, env)
	fmt.Println(err)
	// Output:
	// true true
	// false
	// 1:1: unknown name usr; did you mean user?
}
