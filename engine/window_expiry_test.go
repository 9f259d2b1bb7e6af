package engine

import (
	"fmt"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// TestWindow_expiryTimers checks the expiry FIFO of sliding time windows
// against the matcher's timer: it fires once per instant at which a key
// is due, never for a stale entry (an arrival at an event's expiry instant
// has expired it; a key freed and revived), beside keys of other operators
// in the deadline queue (a tumbling rule) and a sliding window of derived
// events. The figures are those of the per-key deadline queue the FIFO
// replaced (same lines, same timers set and fired).
func TestWindow_expiryTimers(t *testing.T) {
	for _, c := range []struct {
		name       string
		evs        []event.Event
		lines      int
		set, fired uint64
	}{
		// A@10s folds the expiry of A@0 into its arrival: the entry at
		// 10s+1ns is stale; A leaves at 20s+1ns, B at 22s+1ns.
		{"arrival at expiry", []event.Event{trade("A", 1, 1, 0), trade("A", 2, 1, 10*time.Second),
			trade("B", 3, 1, 12*time.Second)}, 18, 10, 10},
		// A freed at 10s+1ns and revived at 15s: the same key id, a new
		// entry; the events of one instant share one expiry.
		{"freed and revived", []event.Event{trade("A", 1, 1, 0), trade("A", 1, 2, 0), trade("B", 1, 1, 5*time.Second),
			trade("A", 2, 1, 15*time.Second), trade("A", 3, 1, 16*time.Second)}, 29, 15, 15},
		// Many keys, each arrival later than the last: one timer per
		// expiry instant.
		{"keys in turn", func() []event.Event {
			var evs []event.Event
			for i := range 30 {
				evs = append(evs, trade(fmt.Sprint("k", i%4), float64(i), 1, time.Duration(i)*time.Second))
			}
			return evs
		}(), 200, 72, 72},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := marketBuilder()
			b.Rule("s10").From("Trade").PartitionBy("sym").Window(Sliding(10*time.Second)).
				Emit("S10", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"}, Field{Name: "v", Expr: "sum(px * qty)"})
			b.Rule("tumble").From("Trade").PartitionBy("sym").Window(Tumbling(7*time.Second)).
				Emit("T", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			b.Rule("s3").From("S10").PartitionBy("sym").Window(Sliding(3*time.Second)).
				Emit("S3", Field{Name: "sym"}, Field{Name: "n", Expr: "count()"})
			rec, m := runLines(t, b, Config{}, c.evs...)
			s := m.Stats()
			if len(rec.lines) != c.lines || s.TimersSet != c.set || s.TimersDone != c.fired {
				for _, l := range rec.lines {
					t.Log(l)
				}
				t.Errorf("%d lines, timers set %d, fired %d; want %d, %d, %d",
					len(rec.lines), s.TimersSet, s.TimersDone, c.lines, c.set, c.fired)
			}
			for _, op := range m.keyed.ops {
				if n := op.expN; n != 0 {
					t.Errorf("rule %s: %d expiries left after Close", op.rule.Name, n)
				}
			}
		})
	}
}

// expiries returns the entries of op's expiry FIFO in order.
func expiries(op *keyedOp) []keyExpiry {
	var r []keyExpiry
	for i := range op.expN {
		r = append(r, op.expiry[(op.expHead+i)&(len(op.expiry)-1)])
	}
	return r
}

// TestWindow_expiryFIFO checks the FIFO itself: an expiry behind the last
// goes in its place by time (events reach windows in time order, so only
// a bug elsewhere would send one), one instant of a key is one entry, the
// front drops stale entries, and the ring keeps its order as it wraps
// around and grows.
func TestWindow_expiryFIFO(t *testing.T) {
	op := &keyedOp{state: make([]keyState, 4)}
	for i := range op.state {
		op.state[i].due = noDeadline
	}
	push := func(when int64, id int32) { op.pushExpiry(when, id) }
	push(10, 0)
	push(10, 0) // the same instant of the same key: one entry
	push(20, 1)
	push(15, 2) // behind the last: in its place
	push(5, 3)  // behind all
	push(20, 3)
	push(15, 1) // equal times: after those already in
	want := []keyExpiry{{5, 3}, {10, 0}, {15, 2}, {15, 1}, {20, 1}, {20, 3}}
	if got := expiries(op); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FIFO %v, want %v", got, want)
	}
	// Key 3 is due at 20 (its entry at 5 is stale), key 2 at 15.
	op.state[3].due, op.state[2].due = 20, 15
	if w, ok := op.nextExpiry(); !ok || w != 15 || *op.frontExpiry() != (keyExpiry{15, 2}) {
		t.Fatalf("front %d %v at %v, want 15 at {15 2}", w, ok, expiries(op))
	}
	op.state[2].due = noDeadline
	if w, ok := op.nextExpiry(); !ok || w != 20 || *op.frontExpiry() != (keyExpiry{20, 3}) {
		t.Fatalf("front %d %v at %v, want 20 at {20 3}", w, ok, expiries(op))
	}
	op.state[3].due = noDeadline
	if w, ok := op.nextExpiry(); ok || op.expN != 0 {
		t.Fatalf("front %d %v, FIFO %v; want empty", w, ok, expiries(op))
	}

	// The ring wraps around (pushes and pops in turn, some behind the
	// last) and grows while wrapped; it holds what was pushed, in order.
	var ref []keyExpiry
	when := int64(100)
	for i := range 5000 {
		when += int64(i % 3)
		e := keyExpiry{when: when, id: int32(i % 4)}
		if i%11 == 0 {
			e.when -= 2 // behind the last
		}
		push(e.when, e.id)
		j := len(ref)
		for j > 0 && ref[j-1].when > e.when {
			j--
		}
		if len(ref) == 0 || ref[len(ref)-1] != e {
			ref = append(ref[:j], append([]keyExpiry{e}, ref[j:]...)...)
		}
		if i%3 == 0 && i < 3000 { // the FIFO grows in the second part
			op.popExpiry()
			ref = ref[1:]
		}
	}
	if got := expiries(op); fmt.Sprint(got) != fmt.Sprint(ref) {
		t.Fatalf("ring of %d holds %d entries, want %d; first %v, want %v", len(op.expiry), len(got), len(ref), got[:4], ref[:4])
	}
}
