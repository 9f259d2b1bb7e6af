package engine

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// t0 is 2024-01-01T00:00:00Z.
const t0 = int64(1704067200) * int64(time.Second)

func at(d time.Duration) int64 { return t0 + int64(d) }

// marketBuilder declares the types most tests use.
func marketBuilder() *Builder {
	b := NewBuilder()
	b.Event("Trade").Field("sym", event.String).Field("px", event.Float).Field("qty", event.Int).Field("at", event.Time).
		Time("at").Lateness(2 * time.Second)
	b.Event("Tick").Field("n", event.Int) // arrival time
	b.Const("big", event.FloatValue(100))
	return b
}

func trade(sym string, px float64, qty int64, t time.Duration) event.Event {
	return event.Event{Type: 0, Fields: []event.Value{event.StringValue(sym), event.FloatValue(px), event.IntValue(qty), event.TimeValue(at(t))}}
}

func mustBuild(t testing.TB, b *Builder) *Graph {
	t.Helper()
	g, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return g
}

// show renders a derived event as "rule Type@time {f=v, ...}", times as
// offsets from t0.
func show(d *Derived) string {
	var b strings.Builder
	if d.Rule != "" {
		b.WriteString(d.Rule)
		b.WriteByte(' ')
	}
	b.WriteString(d.Schema.Name)
	b.WriteByte('@')
	b.WriteString(time.Duration(d.Event.Time - t0).String())
	b.WriteString(" {")
	for i, v := range d.Event.Fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Schema.Fields[i].Name)
		b.WriteByte('=')
		b.WriteString(showValue(v))
	}
	b.WriteByte('}')
	if len(d.Inputs) > 0 {
		b.WriteString(" from")
		for _, in := range d.Inputs {
			b.WriteString(" #")
			b.WriteString(strconv.FormatUint(in.Seq, 10))
		}
	}
	return b.String()
}

func showValue(v event.Value) string {
	switch v.Kind() {
	case event.KindString:
		return strconv.Quote(v.Str())
	case event.KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case event.KindFloat:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case event.KindBool:
		return strconv.FormatBool(v.Bool())
	case event.KindTime:
		return time.Duration(v.Time() - t0).String()
	case event.KindDuration:
		return v.Duration().String()
	case event.KindNil:
		return "nil"
	}
	return v.Kind().String()
}

// recorder collects everything a matcher says, in order.
type recorder struct{ lines []string }

func (r *recorder) attach(t testing.TB, m *Matcher) {
	t.Helper()
	if _, err := m.Subscribe(AllDerived, func(d *Derived) { r.lines = append(r.lines, show(d)) }); err != nil {
		t.Fatal(err)
	}
	m.SubscribeLate(func(rec *Record) { r.lines = append(r.lines, rec.String()) })
	m.SubscribeInvalid(func(rec *Record) { r.lines = append(r.lines, rec.String()) })
}

func (r *recorder) String() string { return strings.Join(r.lines, "\n") }

func checkInvariant(t testing.TB, m *Matcher) {
	t.Helper()
	s := m.Stats()
	if s.In != s.Processed+s.Late+s.Invalid+s.Buffered {
		t.Fatalf("invariant broken: in %d != processed %d + late %d + invalid %d + buffered %d", s.In, s.Processed, s.Late, s.Invalid, s.Buffered)
	}
}
