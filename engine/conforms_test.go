package engine

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/cepengine/cep/engine/event"
)

// TestConforms holds typeInfo.conforms, which reads kind bytes in place
// four at a time, to a plain loop over the fields: every kind, every
// field count from 0 to 13 (so every remainder of the quads), events one
// kind off at every position, and fields of the wrong count.
func TestConforms(t *testing.T) {
	samples := []event.Value{
		event.Nil, event.BoolValue(true), event.IntValue(-3), event.FloatValue(2.5),
		event.StringValue("s"), event.TimeValue(7), event.DurationValue(9),
		event.ListValue([]event.Value{event.IntValue(1)}),
	}
	// The layout conforms relies on.
	for _, v := range samples {
		if got := *(*event.Kind)(unsafe.Add(unsafe.Pointer(&v), kindOffset)); got != v.Kind() {
			t.Fatalf("kind byte at offset %d is %d, want %d (%v): event.Value's layout changed", kindOffset, got, v.Kind(), v.Kind())
		}
	}
	for _, c := range []struct {
		v    event.Value
		want int64
	}{{event.IntValue(-5), -5}, {event.TimeValue(1e18), 1e18}, {event.FloatValue(2.5), int64(math.Float64bits(2.5))}} {
		v := c.v
		if got, want := *(*int64)(unsafe.Add(unsafe.Pointer(&v), payloadOffset)), c.want; got != want {
			t.Fatalf("payload at offset %d is %d, want %d: event.Value's layout changed", payloadOffset, got, want)
		}
	}
	if valueSize != unsafe.Sizeof(samples[0]) {
		t.Fatal("valueSize is not event.Value's size")
	}
	want := func(ti *typeInfo, fields []event.Value) bool {
		if len(fields) != len(ti.kinds) || !ti.exact {
			return false
		}
		for i := range fields {
			if fields[i].Kind() != ti.kinds[i] {
				return false
			}
		}
		return true
	}
	r := rand.New(rand.NewPCG(3, 4))
	checks := 0
	for n := range 14 {
		for range 200 {
			kinds := make([]event.Kind, n)
			fields := make([]event.Value, n)
			for i := range kinds {
				v := samples[1+r.IntN(len(samples)-1)]
				kinds[i], fields[i] = v.Kind(), v
			}
			ti := &typeInfo{exact: true}
			ti.setKinds(kinds)
			cases := [][]event.Value{fields, fields[:max(n-1, 0)], append(fields[:n:n], event.IntValue(1))}
			for i := range n { // one kind off at i
				off := append([]event.Value(nil), fields...)
				off[i] = samples[r.IntN(len(samples))]
				cases = append(cases, off)
			}
			for _, c := range cases {
				if got, w := ti.conforms(c), want(ti, c); got != w {
					t.Fatalf("kinds %v, fields %v: conforms %v, want %v", kinds, c, got, w)
				}
				checks++
			}
		}
	}
	t.Logf("%d checks", checks)
}
