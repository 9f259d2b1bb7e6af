package eval_test

import (
	"time"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/eval/evaltest"
	"github.com/cepengine/cep/engine/event"
)

// The fixture: one event type read as the current event, prev, an alias a
// (Bound[0]) and a list alias f (Lists[0]), with constants and variables.
var trade = event.NewSchema("Trade", []event.Field{
	{Name: "sym", Type: event.String},
	{Name: "price", Type: event.Float},
	{Name: "qty", Type: event.Int},
	{Name: "at", Type: event.Time},
	{Name: "ok", Type: event.Bool},
	{Name: "tags", Type: event.ListOf(event.String)},
	{Name: "wait", Type: event.Duration},
	{Name: "note", Type: event.Any},
	{Name: "side", Type: event.String},
}, "at", 0)

const (
	fSym = iota
	fPrice
	fQty
	fAt
	fOk
	fTags
	fWait
	fNote
	fSide
)

var base = evaltest.Base

func newEnv() *eval.Env {
	env := eval.NewEnv()
	env.Event(trade)
	env.Prev(trade)
	env.Alias("a", trade, 0)
	env.ListAlias("f", trade, 0)
	env.Const("big", event.FloatValue(1000))
	env.Const("limit", event.IntValue(5))
	env.Const("watch", event.ListValue([]event.Value{event.StringValue("AAPL"), event.StringValue("GOOG")}))
	env.Const("nothing", event.Nil)
	env.Var("key", event.String, 0)
	env.Var("n", event.Int, 1)
	return env
}

var shape = evaltest.Shape{
	Current: trade, Prev: trade,
	Bound: []*event.Schema{trade}, Lists: []*event.Schema{trade},
	Vars: []event.Type{event.String, event.Int},
}

func tradeEvent(sym string, price float64, qty int64, at time.Duration, ok bool) *event.Event {
	e := &event.Event{Fields: make([]event.Value, len(trade.Fields))}
	e.Fields[fSym] = event.StringValue(sym)
	e.Fields[fPrice] = event.FloatValue(price)
	e.Fields[fQty] = event.IntValue(qty)
	e.Fields[fAt] = event.TimeValue(base.Add(at).UnixNano())
	e.Fields[fOk] = event.BoolValue(ok)
	e.Time = base.Add(at).UnixNano()
	return e
}

// fixedFrame is the frame the value tables are evaluated on.
func fixedFrame() *eval.Frame {
	cur := tradeEvent("AAPL", 150.5, 7, 10*time.Minute, true)
	cur.Fields[fTags] = event.ListValue([]event.Value{event.StringValue("x"), event.StringValue("y")})
	cur.Fields[fWait] = event.DurationValue(90 * time.Second)
	cur.Fields[fNote] = event.StringValue("hello")
	// side is missing

	prev := tradeEvent("AAPL", 140, 0, 0, false)
	prev.Fields[fQty] = event.Nil
	prev.Fields[fWait] = event.DurationValue(30 * time.Second)
	prev.Fields[fNote] = event.IntValue(3)
	prev.Fields[fSide] = event.StringValue("buy")

	a := tradeEvent("MSFT", 99, 3, 5*time.Minute, true)
	a.Fields[fSide] = event.StringValue("sell")

	return &eval.Frame{
		Current: cur,
		Prev:    prev,
		Bound:   []*event.Event{a},
		Lists:   [][]*event.Event{{prev, a, cur}},
		Vars:    []event.Value{event.StringValue("AAPL"), event.IntValue(4)},
	}
}

// emptyFrame has no prev, an unbound alias, an empty list and nil vars.
func emptyFrame() *eval.Frame {
	f := fixedFrame()
	f.Prev = nil
	f.Bound = []*event.Event{nil}
	f.Lists = [][]*event.Event{{}}
	f.Vars = []event.Value{event.Nil, event.Nil}
	return f
}
