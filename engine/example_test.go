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

// A small program through the Go API: declare a type, two rules (the second
// reads what the first emits), subscribe, feed JSON Lines, print the derived
// events as JSON Lines and the bad input.
func Example() {
	b := engine.NewBuilder()
	b.Event("Purchase").
		Field("user", event.String).
		Field("amount", event.Float).
		Field("at", event.Time).
		Time("at").Lateness(5 * time.Second)
	b.Const("big", event.FloatValue(1000))
	b.Rule("large_purchase").
		From("Purchase").Where("amount > big").
		Emit("LargePurchase", engine.Field{Name: "user"}, engine.Field{Name: "amount"})
	b.Rule("escalate").
		From("LargePurchase").Where("amount >= 5000").
		Emit("Page", engine.Field{Name: "user"}, engine.Field{Name: "reason", Expr: `"large purchase by " + user`})
	g, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}

	m := g.NewMatcher(engine.Config{})
	enc := codec.NewEncoder(os.Stdout, g.Registry(), false)
	m.Subscribe(engine.AllDerived, func(d *engine.Derived) { enc.Encode(d) })
	m.SubscribeLate(func(r *engine.Record) { fmt.Println(r) })
	m.SubscribeInvalid(func(r *engine.Record) { fmt.Println(r) })

	input := `{"type":"Purchase","user":"ann","amount":1200.5,"at":"2024-01-01T00:00:03Z"}
{"type":"Purchase","user":"bob","amount":20,"at":"2024-01-01T00:00:01Z"}
{"type":"Purchase","user":"cid","amount":9000,"at":"2024-01-01T00:00:02.5Z"}
{"type":"Purchase","user":"dan","amount":"lots","at":"2024-01-01T00:00:04Z"}
{"type":"Purchase","user":"eve","amount":7000,"at":"2024-01-01T00:00:10Z"}
{"type":"Purchase","user":"fay","amount":8000,"at":"2024-01-01T00:00:01Z"}
`
	dec, _ := codec.NewJSONDecoder(strings.NewReader(input), g.Registry(), codec.Options{Source: "purchases.jsonl"})
	if err := codec.Feed(dec, m); err != nil {
		fmt.Println(err)
	}
	m.Close()
	s := m.Stats()
	fmt.Printf("in %d = processed %d + late %d + invalid %d; derived %d\n", s.In, s.Processed, s.Late, s.Invalid, s.Derived)
	// Output:
	// purchases.jsonl:4:42: invalid: field amount: expected float, found string
	// {"type":"LargePurchase","time":"2024-01-01T00:00:02.5Z","rule":"large_purchase","user":"cid","amount":9000}
	// {"type":"Page","time":"2024-01-01T00:00:02.5Z","rule":"escalate","user":"cid","reason":"large purchase by cid"}
	// {"type":"LargePurchase","time":"2024-01-01T00:00:03Z","rule":"large_purchase","user":"ann","amount":1200.5}
	// purchases.jsonl:6:1: late: event time 2024-01-01T00:00:01Z is 4s behind the watermark 2024-01-01T00:00:05Z
	// {"type":"LargePurchase","time":"2024-01-01T00:00:10Z","rule":"large_purchase","user":"eve","amount":7000}
	// {"type":"Page","time":"2024-01-01T00:00:10Z","rule":"escalate","user":"eve","reason":"large purchase by eve"}
	// in 6 = processed 4 + late 1 + invalid 1; derived 5
}
