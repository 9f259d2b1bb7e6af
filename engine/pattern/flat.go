package pattern

import (
	"fmt"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// Flat runs every partition of a simple-shaped pattern (simple.go) in one
// structure: the same matches, in the same order, with the same deadlines
// and overflow as one Matcher per partition on the simple path, at a
// fraction of the memory and of the cache lines an event touches.
//
// Why. A keyed pattern over a million keys (W4) is bound by memory: a
// Matcher is a few hundred bytes and half a dozen heap objects (runs,
// trace nodes, a ring of every event of the partition since its oldest
// run, their fields), so an event at a cold key costs a dozen cache
// misses. Here a partition is a FlatPart of 56 bytes that the caller
// keeps beside its own per-key state, holding its oldest run (most
// partitions have one at most: the key's state is then one cache line);
// its other runs live in one arena of the pattern, linked in start order;
// their takes in another; and only the events a run took are copied, into
// an arena of event slots shared by the runs that took them, and only if
// something reads them (not with Config.NoEvents). An event that completes
// the run that takes it (W4's B) is never copied. Runs and slots are
// reused last freed first, so their memory is warm: what a partition
// costs is its key, its runs and the events they hold.
//
// A stale slot keeps the strings its last event's fields pointed to until
// it is reused: the arenas never hold more slots than were live at once.
//
// The positions the simple path compares (a run's start, the last take
// of a match) are counted across all partitions: within one partition
// they keep their order, which is all skip past last needs.
type Flat struct {
	p    *Pattern
	m    *eval.Machine
	cfg  Config
	emit func(*Match)
	pl   *simplePlan
	nel  int32 // elements a run takes (len(pl.elems))
	tw   int32 // takes kept per run: nel, or 0 with Config.NoEvents

	runs      []frun  // the run arena; index 0 is no run
	takes     []int32 // take block b at [b*tw, b*tw+tw): slots, or curSlot
	freeRun   []int32
	freeTakes []int32

	slots    []fslot       // the event arena; index 0 is no slot
	vals     []event.Value // slot s's fields at [s*stride, s*stride+n)
	stride   int
	freeSlot []int32

	pos   int64        // the position of the event being processed
	cur   *event.Event // the event being processed
	held  bool         // some run took cur this call
	began bool         // Process started a run (see Began)
	key   []event.Value
	views []event.Event // the slots bound in a match, per element of the run
	sc    scratch
	stats Stats
}

// FlatPart is one partition of a Flat. Its zero value is an empty
// partition; the caller keeps it (and must not copy a non-empty one
// between calls: it names runs of the Flat).
type FlatPart struct {
	first frun  // the oldest run, when n > 0; its next links the others
	tail  int32 // the newest run in the arena; 0 when first is the only one
	n     int32 // how many runs
}

// Len returns the number of live partial matches of the partition.
func (pt *FlatPart) Len() int { return int(pt.n) }

// frun is a partial match of the flat path (the simple path's srun).
//
// A run is named by a ref: firstRef for the partition's first run, an
// arena index (> 0) for the others, 0 for none.
type frun struct {
	start  int64 // position of the first take
	last   int64 // position of the last take
	firstT int64 // time of the first take
	time   int64 // time of the last take; the expiry for a trailing not
	next   int32 // the next run in the arena, or 0
	k      int32 // next element; nel when complete
	tk     int32 // its take block (Flat.takes); 0 with NoEvents
	wait   bool  // complete, waiting for its trailing nots to expire
}

// firstRef names a partition's first run (FlatPart.first).
const firstRef = -1

// head returns the ref of pt's first run, or 0.
func head(pt *FlatPart) int32 {
	if pt.n > 0 {
		return firstRef
	}
	return 0
}

// run returns the run r of pt names.
func (f *Flat) run(pt *FlatPart, r int32) *frun {
	if r == firstRef {
		return &pt.first
	}
	return &f.runs[r]
}

// fslot is a copied event: its fields are in Flat.vals.
type fslot struct {
	time int64
	seq  uint64
	typ  int32
	n    int32 // number of fields
	refs int32 // takes that hold it
}

// curSlot in a take stands for the event being processed (Flat.cur),
// copied only if a run that took it outlives the call.
const curSlot = -1

// NewFlat returns a Flat for p, or false when p does not run on the
// simple path with cfg (not its shape, reads prev, or reports timeouts).
func NewFlat(p *Pattern, m *eval.Machine, cfg Config, emit func(*Match)) (*Flat, bool) {
	if !simpleShape(p, &cfg) || p.readsPrev {
		return nil, false
	}
	if cfg.MaxPartials <= 0 {
		cfg.MaxPartials = 10000
	}
	f := &Flat{p: p, m: m, cfg: cfg, emit: emit, pl: p.simple, nel: int32(len(p.simple.elems))}
	if !cfg.NoEvents {
		f.tw = f.nel
	}
	f.runs = make([]frun, 1)
	f.takes = make([]int32, f.tw) // block 0 is no block
	f.slots = make([]fslot, 1)
	f.views = make([]event.Event, f.nel)
	f.sc.init(p)
	f.sc.frame = eval.Frame{Bound: f.sc.bound, Lists: f.sc.lists}
	return f, true
}

// Stats returns the counters of all partitions; Partials is not kept.
func (f *Flat) Stats() Stats { return f.stats }

// Idle reports whether the partition holds nothing: no partial match, no
// deadline.
func (f *Flat) Idle(pt *FlatPart) bool { return pt.n == 0 }

// Starts reports whether ev may start a partial match: an empty partition
// stays empty under an event that does not. A caller that keeps no
// partition for an empty key need not make one for such an event.
func (f *Flat) Starts(ev *event.Event) bool {
	return ev.Type == f.p.steps[f.pl.elems[0]].el.Type
}

// Process feeds the partition with key the next event of its stream, in
// (time, sequence) order; it fires the partition's timers due before
// ev.Time first. Matches go to emit before it returns. The error wraps
// ErrOverflow when MaxPartials refused a partial match.
func (f *Flat) Process(pt *FlatPart, key []event.Value, ev *event.Event) error {
	f.key = key
	if pt.n > 0 && f.p.within > 0 {
		f.expire(pt, ev.Time)
	}
	f.pos++
	f.cur, f.held, f.began = ev, false, false
	pl := f.pl
	steps := f.p.steps
	m := f.nel
	// The runs are updated in place: each stays or ends, in order.
	lastK, acc, hit := int32(-1), false, false
	prev := int32(0)
	for r := head(pt); r != 0; {
		run := f.run(pt, r)
		if run.k < m || run.wait {
			if run.k != lastK {
				lastK = run.k
				acc = run.k < m && f.accepts(steps[pl.elems[run.k]].el, ev)
				hit = !acc && len(pl.guards[run.k]) > 0 && f.notHit(pl.guards[run.k], ev)
			}
			if hit {
				r = f.unlink(pt, prev, r)
				continue
			}
			if acc {
				if f.tw > 0 {
					f.takes[run.tk*m+run.k] = curSlot
					f.held = true
				}
				run.k++
				run.time, run.last = ev.Time, f.pos
				run.wait = run.k == m && len(pl.guards[m]) > 0
			}
		}
		prev, r = r, run.next
	}
	overflow := false
	if f.accepts(steps[pl.elems[0]].el, ev) {
		if int(pt.n) >= f.cfg.MaxPartials {
			f.stats.Dropped++
			overflow = true
		} else {
			nr := frun{start: f.pos, last: f.pos, firstT: ev.Time, time: ev.Time, k: 1,
				wait: m == 1 && len(pl.guards[1]) > 0}
			if f.tw > 0 {
				nr.tk = f.newTakes()
				f.takes[nr.tk*m] = curSlot
				f.held = true
			}
			switch {
			case pt.n == 0:
				pt.first = nr
			default:
				r := f.newRun()
				f.runs[r] = nr
				if pt.tail != 0 {
					f.runs[pt.tail].next = r
				} else {
					pt.first.next = r
				}
				pt.tail = r
			}
			pt.n++
			f.began = nr.k < m || nr.wait // (else it is complete: no deadline)
		}
	}
	f.settle(pt)
	if f.held {
		f.keep(pt)
	}
	f.cur = nil
	if overflow {
		return fmt.Errorf("%w: partition holds %d live starts (MaxPartials)", ErrOverflow, f.cfg.MaxPartials)
	}
	return nil
}

// Began reports whether the last Process started a partial match. Its
// expiry, the event's time plus Within, is then one of the partition's
// deadlines: every deadline Deadline gives is the expiry of a run it
// started, so a caller that notes each one as it begins (in time order,
// as events come) has noted every deadline in advance.
func (f *Flat) Began() bool { return f.began }

// Within returns the pattern's within, or 0 (no deadlines).
func (f *Flat) Within() int64 { return max(f.p.within, 0) }

// EmitsAtExpiry reports whether Expire may emit (a match completed by a
// trailing not's end, or a timeout): only then does it read its key.
func (f *Flat) EmitsAtExpiry() bool {
	return f.cfg.Timeout != nil || len(f.pl.guards[f.nel]) > 0
}

// Expire fires the partition's timers due at or before watermark. key
// may be nil when EmitsAtExpiry is false.
func (f *Flat) Expire(pt *FlatPart, key []event.Value, watermark int64) {
	if pt.n > 0 && f.p.within > 0 {
		f.key = key
		f.expire(pt, watermark)
	}
}

// Deadline returns when the partition next has work without an event: the
// expiry of its earliest run not yet final.
func (f *Flat) Deadline(pt *FlatPart) (int64, bool) {
	if f.p.within <= 0 {
		return 0, false
	}
	for r := head(pt); r != 0; {
		run := f.run(pt, r)
		if run.k < f.nel || run.wait {
			return run.firstT + f.p.within, true
		}
		r = run.next
	}
	return 0, false
}

// Flush ends the partition's input: every timer fires (runs not complete
// end, completed ones waiting for trailing nots are matches at their
// expiry), then the matches are emitted. The partition is empty after.
func (f *Flat) Flush(pt *FlatPart, key []event.Value) {
	f.key = key
	prev := int32(0)
	for r := head(pt); r != 0; {
		run := f.run(pt, r)
		if run.k < f.nel {
			r = f.unlink(pt, prev, r)
			continue
		}
		if run.wait {
			run.wait, run.time = false, run.firstT+f.p.within
		}
		prev, r = r, run.next
	}
	f.settle(pt)
}

// expire: runs not complete whose first take is at least W before t end;
// completed runs waiting for their trailing nots become matches at their
// expiry. Then it emits what that lets through.
func (f *Flat) expire(pt *FlatPart, t int64) {
	if d, ok := f.Deadline(pt); !ok || d > t {
		return
	}
	w := f.p.within
	prev := int32(0)
	for r := head(pt); r != 0; {
		run := f.run(pt, r)
		if d := run.firstT + w; d <= t && (run.k < f.nel || run.wait) {
			if run.k < f.nel {
				r = f.unlink(pt, prev, r)
				continue
			}
			run.wait, run.time = false, d
		}
		prev, r = r, run.next
	}
	f.settle(pt)
}

// settle emits the completed matches no earlier run holds back, and drops
// the runs each one skips past (skip past last: those that began at or
// before its last take).
func (f *Flat) settle(pt *FlatPart) {
	for pt.n > 0 {
		run := &pt.first
		if run.k < f.nel || run.wait {
			return
		}
		f.send(run.tk, run.time)
		last := run.last
		f.unlink(pt, 0, firstRef)
		for pt.n > 0 && pt.first.start <= last {
			f.unlink(pt, 0, firstRef)
		}
	}
}

// unlink removes run r (after the run prev, 0 when r is the first) from
// the partition, frees it and its takes, and returns the ref of the run
// that followed it (the first's successor becomes the first: firstRef).
func (f *Flat) unlink(pt *FlatPart, prev, r int32) int32 {
	run := f.run(pt, r)
	if f.tw > 0 {
		base := run.tk * f.nel
		for j := range run.k {
			if s := f.takes[base+j]; s > 0 {
				if f.slots[s].refs--; f.slots[s].refs == 0 {
					f.freeSlot = append(f.freeSlot, s)
				}
			}
		}
		f.freeTakes = append(f.freeTakes, run.tk)
	}
	pt.n--
	next := run.next
	if r == firstRef {
		if next == 0 {
			pt.first = frun{}
			return 0
		}
		pt.first = f.runs[next] // the second becomes the first
		if pt.tail == next {
			pt.tail = 0
		}
		f.freeRun = append(f.freeRun, next)
		return firstRef
	}
	f.run(pt, prev).next = next
	if pt.tail == r {
		pt.tail = max(prev, 0) // the first is never the tail
	}
	f.freeRun = append(f.freeRun, r)
	return next
}

func (f *Flat) newRun() int32 {
	if n := len(f.freeRun); n > 0 {
		r := f.freeRun[n-1]
		f.freeRun = f.freeRun[:n-1]
		return r
	}
	f.runs = append(f.runs, frun{})
	return int32(len(f.runs) - 1)
}

// newTakes returns a free take block (tw > 0).
func (f *Flat) newTakes() int32 {
	if n := len(f.freeTakes); n > 0 {
		b := f.freeTakes[n-1]
		f.freeTakes = f.freeTakes[:n-1]
		return b
	}
	for range f.tw {
		f.takes = append(f.takes, 0)
	}
	return int32(len(f.takes)/int(f.tw) - 1)
}

// keep copies the event being processed into a slot for the runs that
// took it and outlive the call.
func (f *Flat) keep(pt *FlatPart) {
	s := int32(0)
	for r := head(pt); r != 0; {
		run := f.run(pt, r)
		r = run.next
		base := run.tk * f.nel
		for j := range run.k {
			if f.takes[base+j] != curSlot {
				continue
			}
			if s == 0 {
				s = f.copyCur()
			}
			f.takes[base+j] = s
			f.slots[s].refs++
		}
	}
}

// copyCur copies Flat.cur into a free slot and returns it.
func (f *Flat) copyCur() int32 {
	ev := f.cur
	if len(ev.Fields) > f.stride {
		f.restride(len(ev.Fields))
	}
	var s int32
	if n := len(f.freeSlot); n > 0 {
		s = f.freeSlot[n-1]
		f.freeSlot = f.freeSlot[:n-1]
	} else {
		f.slots = append(f.slots, fslot{})
		for range f.stride {
			f.vals = append(f.vals, event.Value{})
		}
		s = int32(len(f.slots) - 1)
	}
	f.slots[s] = fslot{time: ev.Time, seq: ev.Seq, typ: ev.Type, n: int32(len(ev.Fields))}
	copy(f.vals[int(s)*f.stride:], ev.Fields)
	return s
}

// restride widens every slot to n fields.
func (f *Flat) restride(n int) {
	vals := make([]event.Value, len(f.slots)*n)
	for s := range f.slots {
		copy(vals[s*n:], f.vals[s*f.stride:s*f.stride+f.stride])
	}
	f.vals, f.stride = vals, n
}

// send emits the match whose takes are block tk, stamped t: each element
// took one event.
func (f *Flat) send(tk int32, t int64) {
	sc := &f.sc
	if f.tw > 0 {
		clear(sc.bound) // (without events nothing reads it)
	}
	base := tk * f.nel
	for j := range f.tw {
		var ev *event.Event
		if s := f.takes[base+j]; s == curSlot {
			ev = f.cur
		} else {
			sl := &f.slots[s]
			v := &f.views[j]
			off := int(s) * f.stride
			*v = event.Event{Type: sl.typ, Time: sl.time, Seq: sl.seq, Fields: f.vals[off : off+int(sl.n) : off+int(sl.n)]}
			ev = v
		}
		el := f.p.steps[f.pl.elems[j]].elem
		if sl := f.p.spec.Elements[el].Slot; sl >= 0 {
			sc.bound[sl] = ev
		}
		sc.elems[el] = append(sc.elems[el][:0], ev)
	}
	sc.frame.Current, sc.frame.Vars = nil, f.key // Bound and Lists are set once
	sc.match.Time = t
	f.stats.Matches++
	f.emit(&sc.match)
}

// accepts reports whether el takes ev (its conditions read no alias but
// its own, and no prev).
func (f *Flat) accepts(el *Element, ev *event.Event) bool {
	if ev.Type != el.Type {
		return false
	}
	if el.Cond == nil {
		return true
	}
	sc := &f.sc
	sc.frame.Current, sc.frame.Vars = ev, f.key
	if el.Slot >= 0 && !el.List {
		sc.bound[el.Slot] = ev
	}
	return f.m.EvalBool(el.Cond, &sc.frame)
}

// notHit reports whether one of the not steps gs accepts ev.
func (f *Flat) notHit(gs []int32, ev *event.Event) bool {
	for _, g := range gs {
		if f.accepts(f.p.steps[g].el, ev) {
			return true
		}
	}
	return false
}
