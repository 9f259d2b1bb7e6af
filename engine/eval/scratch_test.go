package eval

import (
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

var scratchSink bool

func scratchSetup(b *testing.B) (*Program, []*event.Event) {
	s := event.NewSchema("T", []event.Field{{Name: "sym", Type: event.String}, {Name: "price", Type: event.Float}}, "", 0)
	env := NewEnv()
	env.Event(s)
	p, err := Compile(`price > 100 and sym == "AAPL"`, env)
	if err != nil {
		b.Fatal(err)
	}
	var evs []*event.Event
	for i, sym := range []string{"AAPL", "MSFT", "AAPL", "GOOG"} {
		evs = append(evs, &event.Event{Fields: []event.Value{event.StringValue(sym), event.FloatValue(float64(90 + i*7))}})
	}
	return p, evs
}

func BenchmarkScratch(b *testing.B) {
	p, evs := scratchSetup(b)
	m := NewMachine()
	f := &Frame{}
	b.Run("hand", func(b *testing.B) {
		i := 0
		for b.Loop() {
			e := evs[i&3]
			scratchSink = e.Fields[1].Float() > 100 && e.Fields[0].Str() == "AAPL"
			i++
		}
	})
	b.Run("evalbool", func(b *testing.B) {
		i := 0
		for b.Loop() {
			f.Current = evs[i&3]
			scratchSink = m.EvalBool(p, f)
			i++
		}
	})
	b.Run("branch", func(b *testing.B) {
		i := 0
		for b.Loop() {
			f.Current = evs[i&3]
			scratchSink = m.EvalBool(p, f)
			i++
		}
	})
	b.Run("truth", func(b *testing.B) {
		i := 0
		for b.Loop() {
			f.Current = evs[i&3]
			scratchSink = m.truth(p.root, f) == triTrue
			i++
		}
	})
}

func BenchmarkScratchRatio(b *testing.B) {
	p, evs := scratchSetup(b)
	m := NewMachine()
	f := &Frame{}
	const batch = 1024
	variants := []func(){
		func() {
			for i := 0; i < batch; i++ {
				e := evs[i&3]
				scratchSink = e.Fields[1].Float() > 100 && e.Fields[0].Str() == "AAPL"
			}
		},
		func() {
			for i := 0; i < batch; i++ {
				f.Current = evs[i&3]
				scratchSink = m.EvalBool(p, f)
			}
		},
		func() {
			for i := 0; i < batch; i++ {
				f.Current = evs[i&3]
				scratchSink = m.EvalBool(p, f)
			}
		},
		func() {
			for i := 0; i < batch; i++ {
				f.Current = evs[i&3]
				scratchSink = m.truth(p.root, f) == triTrue
			}
		},
	}
	variants = append(variants, func() {
		for i := 0; i < batch; i++ {
			f.Current = evs[2]
			scratchSink = m.EvalBool(p, f)
		}
	}, func() {
		for i := 0; i < batch; i++ {
			scratchSink = fixed2(p.tests, evs[i&3].Fields)
		}
	}, func() {
		for i := 0; i < batch; i++ {
			scratchSink = m.branch2(p.tests, evs[i&3].Fields)
		}
	})
	names := []string{"hand", "evalbool", "branch", "truth", "branchSameEvent", "fixed2", "branch2"}
	best := make([]time.Duration, len(variants))
	for i := range best {
		best[i] = time.Hour
	}
	for b.Loop() {
		for i, v := range variants {
			t0 := time.Now()
			v()
			if d := time.Since(t0); d < best[i] {
				best[i] = d
			}
		}
	}
	for i, n := range names {
		b.ReportMetric(float64(best[i])/batch, "ns/"+n)
	}
}

//go:noinline
func fixed2(code []test, fields []event.Value) bool {
	t := &code[0]
	x := currentField(fields, t.slot)
	if x.IsNil() || !(x.Float() > t.num) {
		return false
	}
	t = &code[1]
	x = currentField(fields, t.slot)
	return !x.IsNil() && x.Str() == t.str
}

func (m *Machine) branch2(code []test, fields []event.Value) bool {
	pc := int32(0)
	for {
		t := &code[pc]
		var ok bool
		switch t.op {
		case tFloatGt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Float() > t.num) != t.neg
		case tStrEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Str() == t.str) != t.neg
		case tIntEq:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() == t.i) != t.neg
		case tIntNe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() != t.i) != t.neg
		case tIntLt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() < t.i) != t.neg
		case tIntLe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() <= t.i) != t.neg
		case tIntGt:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() > t.i) != t.neg
		case tIntGe:
			x := currentField(fields, t.slot)
			ok = !x.IsNil() && (x.Int() >= t.i) != t.neg
		}
		if ok {
			pc = t.yes
		} else {
			pc = t.no
		}
		if pc < 0 {
			return pc == accept
		}
	}
}
