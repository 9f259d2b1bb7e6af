// Package engine is the core of cep: a Go builder API that declares event
// types and rules, compiles them into an immutable operator graph, and a
// Matcher that runs events through the graph in event-time order.
//
// Stage: execution. The rule language (package lang) compiles rule files into
// this package's Builder; Go programs may use the Builder directly, in the
// manner of Flink's Pattern API:
//
//	b := engine.NewBuilder()
//	b.Event("Purchase").Field("user", event.String).Field("amount", event.Float).
//		Field("at", event.Time).Time("at")
//	b.Rule("large").From("Purchase").Where("amount > 1000").
//		Emit("LargePurchase", engine.Field{Name: "user"}, engine.Field{Name: "amount"})
//	g, err := b.Build()
//	m := g.NewMatcher(engine.Config{})
//	m.Subscribe("LargePurchase", func(d *engine.Derived) { ... })
//	m.Process(&ev)
//	m.Close()
//
// Window rules add PartitionBy, Window (Tumbling, Hopping, Sliding,
// CountWindow, SlidingCount, Session), Having and Output clauses; their
// Having and Emit use aggregates (window_builder.go, window_op.go):
//
//	b.Rule("vwap").From("Trade").PartitionBy("sym").Window(engine.SlidingCount(1000)).
//		Emit("Vwap", engine.Field{Name: "sym"}, engine.Field{Name: "vwap", Expr: "sum(px * qty) / sum(qty)"})
//
// Imports: the standard library, engine/event, engine/eval (expressions)
// and window (window structures and aggregates).
// Never lang, participle or cmd; engine/codec imports this package, not the
// other way round. No time.Now and no goroutines: time comes in with the
// events (event time) or from the caller (arrival time, Config.Clock).
//
// Concurrency: a Graph is immutable and may be shared by any number of
// Matchers on any goroutines. A Matcher is NOT safe for concurrent use: one
// goroutine calls Process, ProcessBatch, Advance, Reject and Close, and every
// handler runs on that goroutine, synchronously, in a fixed order. Other
// goroutines receive derived events through SubscribeChan.
//
// Time. Every event has an event time: the value of its type's time field, or
// for types without one its arrival time (stamped by the caller into
// event.Event.Time, or read from Config.Clock). Events are totally ordered by
// (time, arrival sequence). A reorder buffer holds events until the watermark
// passes them; the watermark is the largest event time seen minus the largest
// lateness of any declared type, or more if the caller calls Advance. An
// event of type T whose time is behind the watermark, or more than T's
// lateness behind the largest event time seen, is late: it goes to the
// built-in stream "late" with its position and reason and is counted. Timers
// (used by window and pattern operators) fire when the watermark reaches
// them, before events of the same time. Close moves the watermark to
// +infinity: every buffered event is processed and every timer fires.
//
// Chaining. A derived event re-enters the graph in the same time step: after
// the rules that read the triggering event have run (in rule order, each in
// match order), the derived events they produced are processed in that
// order, first in, first out. Cycles between rules are a Build error.
//
// Bad input is never dropped silently: undecodable records (Reject), events
// of unknown types, fields of the wrong kind and missing times go to the
// built-in stream "invalid"; late events to "late". Stats counts them and the
// invariant In == Processed + Late + Invalid + Buffered always holds. An event
// a window rule cannot take (a new key beyond Config.MaxKeys) goes to the
// stream "refused" for that rule and is counted in Stats.Refused; the other
// rules still process it.
package engine
