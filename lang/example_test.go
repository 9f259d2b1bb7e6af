package lang_test

import (
	"fmt"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// Example compiles a rule file, subscribes to the events it derives, feeds
// it typed events and prints what comes out.
func Example() {
	const rules = `
event Purchase { user: string, amount: float, at: time } time at

const big = 1000.0

rule large_purchase
  from Purchase where amount > big
  emit LargePurchase { user, amount }

rule page
  from LargePurchase where amount > 5 * big
  emit Page { user, reason: "huge purchase by " + user }
`
	prog, err := lang.LoadSource("shop.cep", []byte(rules))
	if err != nil {
		fmt.Println(err)
		return
	}
	graph, err := lang.Compile(prog)
	if err != nil {
		fmt.Println(err)
		return
	}
	m := graph.NewMatcher(engine.Config{})
	_, _ = m.Subscribe("*", func(d *engine.Derived) {
		fmt.Printf("%s %s %s %v\n", engine.FormatTime(d.Event.Time), d.Rule, d.Schema.Name, d.Event.Fields[0].Str())
	})

	purchase, _ := graph.Schema("Purchase")
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	for i, p := range []struct {
		user   string
		amount float64
	}{{"ann", 20}, {"bob", 1500}, {"cy", 9000}} {
		at := t0.Add(time.Duration(i) * time.Minute).UnixNano()
		m.Process(&event.Event{Type: purchase.ID, Fields: []event.Value{
			event.StringValue(p.user), event.FloatValue(p.amount), event.TimeValue(at),
		}})
	}
	if err := m.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2026-11-26T09:01:00Z large_purchase LargePurchase bob
	// 2026-11-26T09:02:00Z large_purchase LargePurchase cy
	// 2026-11-26T09:02:00Z page Page cy
}
