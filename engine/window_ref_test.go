package engine

// The reference model of window rules: given the input events in arrival
// order and a rule, it decides which events are late, puts the others in
// (time, arrival) order, filters them, groups them by key and recomputes
// every window, every aggregate, having and the output rate limit from
// scratch, per key. It is slow and obviously correct; TestWindow_reference
// compares the engine with it on random streams.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// refEv is an input event of the reference streams: R { k, g, x, s, at }.
type refEv struct {
	seq int // arrival order
	t   int64
	k   string
	g   int64
	x   *float64 // nil: missing
	s   *string
}

func (e refEv) event() event.Event {
	x, s := event.Nil, event.Nil
	if e.x != nil {
		x = event.FloatValue(*e.x)
	}
	if e.s != nil {
		s = event.StringValue(*e.s)
	}
	return event.Event{Type: 0, Fields: []event.Value{event.StringValue(e.k), event.IntValue(e.g), x, s, event.TimeValue(e.t)}}
}

// refRule is a window rule of the reference tests.
type refRule struct {
	window    WindowSpec
	partition []string // subset of k, g
	where     bool     // where g != 3
	having    string   // "", "count() >= 2", "sum(x) > 3"
	mode      OutputMode
	every     time.Duration
	spread    bool // var and stddev (not with sliding time windows: see refFields)
	narrow    bool // only max(x) and count_distinct(s): results that often do not change
	sums      bool // only count(), count(x), sum(x), avg(x), sum(g): windows in columns, direct emission
}

// subset returns the indexes in refFieldNames of the aggregates r emits,
// or nil for all of them.
func (r refRule) subset() []int {
	switch {
	case r.narrow:
		return narrowFields
	case r.sums:
		return sumFields
	}
	return nil
}

func (r refRule) String() string {
	s := r.window.String()
	if len(r.partition) > 0 {
		s += " by " + strings.Join(r.partition, ",")
	}
	if r.where {
		s += " where"
	}
	if r.having != "" {
		s += " having " + r.having
	}
	if r.mode != 0 {
		s += " output " + r.mode.String() + " " + r.every.String()
	}
	if r.narrow {
		s += " narrow"
	}
	if r.sums {
		s += " sums"
	}
	return s
}

// narrowFields are the aggregates of narrow rules (indexes in refFieldNames).
var narrowFields = []int{5, 11}

// sumFields are the aggregates of sums rules (indexes in refFieldNames).
var sumFields = []int{0, 1, 2, 3, 13}

// fieldName names field j of a rule's results.
func (r refRule) fieldName(j int) string {
	j -= len(r.partition)
	switch {
	case j < 0:
		return r.partition[j+len(r.partition)]
	case r.subset() != nil:
		return refFieldNames[r.subset()[j]]
	case j < len(refFieldNames):
		return refFieldNames[j]
	}
	return []string{"vr", "sd"}[j-len(refFieldNames)]
}

// refFieldNames are the aggregates every reference rule emits, after its
// keys.
var refFieldNames = []string{"n", "nx", "sx", "ax", "mn", "mx", "fs", "ls", "ms", "Ms", "mt", "cd", "p50", "sg", "mg"}

func (r refRule) build(lateness time.Duration) *Builder {
	b := NewBuilder()
	b.Event("R").Field("k", event.String).Field("g", event.Int).Field("x", event.Float).Field("s", event.String).
		Field("at", event.Time).Time("at").Lateness(lateness)
	rule := b.Rule("w").From("R")
	if r.where {
		rule.Where("g != 3")
	}
	if len(r.partition) > 0 {
		rule.PartitionBy(r.partition...)
	}
	rule.Window(r.window)
	if r.having != "" {
		rule.Having(r.having)
	}
	var fields []Field
	for _, k := range r.partition {
		fields = append(fields, Field{Name: k})
	}
	exprs := []string{"count()", "count(x)", "sum(x)", "avg(x)", "min(x)", "max(x)", "first(s)", "last(s)", "min(s)",
		"max(s)", "max(at)", "count_distinct(s)", "percentile(x, 0.5)", "sum(g)", "min(g)"}
	for i, e := range exprs {
		if sub := r.subset(); sub != nil && !slices.Contains(sub, i) {
			continue
		}
		fields = append(fields, Field{Name: refFieldNames[i], Expr: e})
	}
	if r.spread {
		fields = append(fields, Field{Name: "vr", Expr: "var(x)"}, Field{Name: "sd", Expr: "stddev(x)"})
	}
	rule.Emit("Out", fields...)
	if r.mode != 0 {
		rule.Output(r.mode, r.every)
	}
	return b
}

// refResult is one result of a key: its time and field values.
type refResult struct {
	t      int64
	fields []event.Value
}

// refRun computes the output of rule r over evs (in arrival order), per key
// (the key's rendering), with the lateness of type R.
func refRun(r refRule, evs []refEv, lateness time.Duration) map[string][]refResult {
	// Lateness: behind the largest time seen minus the lateness.
	maxSeen := int64(math.MinInt64)
	var ok []refEv
	for _, e := range evs {
		if maxSeen != math.MinInt64 && e.t < maxSeen-int64(lateness) {
			continue
		}
		maxSeen = max(maxSeen, e.t)
		ok = append(ok, e)
	}
	sort.SliceStable(ok, func(i, j int) bool {
		if ok[i].t != ok[j].t {
			return ok[i].t < ok[j].t
		}
		return ok[i].seq < ok[j].seq
	})
	byKey := map[string][]refEv{}
	var order []string
	for _, e := range ok {
		if r.where && e.g == 3 {
			continue
		}
		key := refKey(r, e)
		if _, seen := byKey[key]; !seen {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], e)
	}
	out := map[string][]refResult{}
	for _, key := range order {
		res := refWindows(r, byKey[key])
		res = refOutput(r, res)
		if len(res) > 0 {
			out[key] = res
		}
	}
	return out
}

func refKey(r refRule, e refEv) string {
	var parts []string
	for _, k := range r.partition {
		if k == "k" {
			parts = append(parts, "k="+e.k)
		} else {
			parts = append(parts, fmt.Sprint("g=", e.g))
		}
	}
	return strings.Join(parts, ",")
}

// refWindows computes the results of one key's events (in order) before
// the output rate limit: every window's aggregates, then having.
func refWindows(r refRule, evs []refEv) []refResult {
	var res []refResult
	keyEv := evs[0] // the key's values
	add := func(t int64, win []refEv) {
		f := refFields(r, keyEv, win)
		if refHaving(r, win) {
			res = append(res, refResult{t: t, fields: f})
		}
	}
	w := r.window
	switch w.Kind {
	case WindowTumbling, WindowHopping:
		size, step := int64(w.Size), int64(w.Step)
		if w.Kind == WindowTumbling {
			step = size
		}
		wins := map[int64][]refEv{} // by start
		for _, e := range evs {
			for k := floorDivTest(e.t, step); k*step+size > e.t; k-- {
				if k*step <= e.t {
					wins[k*step] = append(wins[k*step], e)
				}
			}
		}
		starts := make([]int64, 0, len(wins))
		for s := range wins {
			starts = append(starts, s)
		}
		slices.Sort(starts)
		for _, s := range starts {
			add(s+size, wins[s])
		}
	case WindowSession:
		gap := int64(w.Gap)
		var cur []refEv
		for _, e := range evs {
			if len(cur) > 0 && e.t-cur[len(cur)-1].t >= gap {
				add(cur[len(cur)-1].t+gap, cur)
				cur = nil
			}
			cur = append(cur, e)
		}
		if len(cur) > 0 {
			add(cur[len(cur)-1].t+gap, cur)
		}
	case WindowCount:
		for i := w.Count; i <= len(evs); i += w.Count {
			win := evs[i-w.Count : i]
			add(win[len(win)-1].t, win)
		}
	case WindowSlidingCount:
		for i := range evs {
			win := evs[max(0, i+1-w.Count) : i+1]
			add(evs[i].t, win)
		}
	case WindowSliding:
		d := int64(w.Size)
		// Emission points: every arrival, and every expiry instant (event
		// time + d) at which nothing arrives, in time order.
		type point struct {
			t       int64
			arrival int // index of the arriving event, -1 for an expiry
		}
		var pts []point
		arrivals := map[int64]bool{}
		for i, e := range evs {
			pts = append(pts, point{e.t, i})
			arrivals[e.t] = true
		}
		seen := map[int64]bool{}
		for _, e := range evs {
			if x := e.t + d; !arrivals[x] && !seen[x] {
				seen[x] = true
				pts = append(pts, point{x, -1})
			}
		}
		sort.SliceStable(pts, func(i, j int) bool {
			if pts[i].t != pts[j].t {
				return pts[i].t < pts[j].t
			}
			return pts[i].arrival < pts[j].arrival
		})
		var prev []event.Value
		hasPrev := false
		for _, p := range pts {
			var win []refEv
			for i, e := range evs {
				if (p.arrival < 0 && e.t <= p.t || p.arrival >= 0 && i <= p.arrival) && e.t > p.t-d {
					win = append(win, e)
				}
			}
			f := refFields(r, keyEv, win)
			changed := !hasPrev || !sameFields(prev, f)
			prev, hasPrev = f, true
			if len(win) == 0 {
				hasPrev = false // the key's state is freed: the next result is new
			}
			if changed && refHaving(r, win) {
				res = append(res, refResult{t: p.t, fields: f})
			}
		}
	}
	return res
}

func floorDivTest(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// refOutput applies the output rate limit to one key's results.
func refOutput(r refRule, res []refResult) []refResult {
	e := int64(r.every)
	switch r.mode {
	case OutputFirst:
		var out []refResult
		quiet := int64(math.MinInt64)
		for _, x := range res {
			if x.t >= quiet {
				out = append(out, x)
				quiet = x.t + e
			}
		}
		return out
	case OutputLast:
		var out []refResult
		for i, x := range res {
			end := (floorDivTest(x.t, e) + 1) * e
			if i+1 < len(res) && (floorDivTest(res[i+1].t, e)+1)*e == end {
				continue // not the last of its interval
			}
			out = append(out, refResult{t: end, fields: x.fields})
		}
		return out
	}
	return res
}

func refHaving(r refRule, win []refEv) bool {
	switch r.having {
	case "count() >= 2":
		return len(win) >= 2
	case "sum(x) > 3":
		s, n, nan := 0.0, 0, false
		for _, e := range win {
			if e.x != nil {
				s += *e.x
				n++
				nan = nan || math.IsNaN(*e.x)
			}
		}
		return n > 0 && !nan && s > 3
	}
	return true
}

// refFields computes the emitted fields of a window of key's key holding
// win.
func refFields(r refRule, key refEv, win []refEv) []event.Value {
	var f []event.Value
	for _, k := range r.partition {
		if k == "k" {
			f = append(f, event.StringValue(key.k))
		} else {
			f = append(f, event.IntValue(key.g))
		}
	}
	var xs []float64
	var ss []string
	nan := false
	for _, e := range win {
		if e.x != nil {
			xs = append(xs, *e.x)
			nan = nan || math.IsNaN(*e.x)
		}
		if e.s != nil {
			ss = append(ss, *e.s)
		}
	}
	numOr := func(ok bool, v float64) event.Value {
		if !ok {
			return event.Nil
		}
		if nan {
			return event.FloatValue(math.NaN())
		}
		return event.FloatValue(v)
	}
	sum := 0.0
	for _, x := range xs {
		sum += x // halves of small integers: exact in any order
	}
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		mn, mx = min(mn, x), max(mx, x)
	}
	strOf := func(p *string) event.Value {
		if p == nil {
			return event.Nil
		}
		return event.StringValue(*p)
	}
	first, last := event.Nil, event.Nil
	if len(win) > 0 {
		first, last = strOf(win[0].s), strOf(win[len(win)-1].s)
	}
	smin, smax := event.Nil, event.Nil
	if len(ss) > 0 {
		smin, smax = event.StringValue(slices.Min(ss)), event.StringValue(slices.Max(ss))
	}
	mt := event.Nil
	if len(win) > 0 {
		m := win[0].t
		for _, e := range win {
			m = max(m, e.t)
		}
		mt = event.TimeValue(m)
	}
	distinct := map[string]bool{}
	for _, s := range ss {
		distinct[s] = true
	}
	p50 := event.Nil
	if len(xs) > 0 {
		s := slices.Clone(xs)
		slices.Sort(s)
		k := int(math.Ceil(0.5 * float64(len(s))))
		p50 = numOr(true, s[max(k, 1)-1])
	}
	sg, mg := event.Nil, event.Nil
	if len(win) > 0 {
		var total, least int64 = 0, win[0].g
		for _, e := range win {
			total += e.g
			least = min(least, e.g)
		}
		sg, mg = event.IntValue(total), event.IntValue(least)
	}
	f = append(f,
		event.IntValue(int64(len(win))),
		event.IntValue(int64(len(xs))),
		numOr(len(xs) > 0, sum),
		numOr(len(xs) > 0, sum/float64(len(xs))),
		numOr(len(xs) > 0, mn),
		numOr(len(xs) > 0, mx),
		first, last, smin, smax, mt,
		event.IntValue(int64(len(distinct))),
		p50, sg, mg,
	)
	if sub := r.subset(); sub != nil {
		nk := len(r.partition)
		out := f[:nk:nk]
		for _, i := range sub {
			out = append(out, f[nk+i])
		}
		return out
	}
	if r.spread {
		v := event.Nil
		if len(xs) >= 2 {
			mean := sum / float64(len(xs))
			m2 := 0.0
			for _, x := range xs {
				m2 += (x - mean) * (x - mean)
			}
			v = numOr(true, m2/float64(len(xs)-1))
		}
		sd := v
		if !v.IsNil() {
			sd = event.FloatValue(math.Sqrt(v.Float()))
		}
		f = append(f, v, sd)
	}
	return f
}

// sameFields compares two results as a sliding window's "changed" does:
// same kinds and values, NaN equal to NaN.
func sameFields(a, b []event.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameResult(a[i], b[i]) {
			return false
		}
	}
	return true
}

// closeValue compares an engine field with the reference: exactly, except
// var and stddev (tolerance: the engine's recurrences round differently).
func closeValue(got, want event.Value, approx bool) bool {
	if !approx || got.Kind() != event.KindFloat || want.Kind() != event.KindFloat {
		return sameResult(got, want)
	}
	a, b := got.Float(), want.Float()
	if a != a || b != b {
		return a != a && b != b
	}
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}

// refStream generates n events: times on a 100ms grid moving forward, keys
// from a small set, missing values, rare NaNs; arrival order disordered
// within the lateness, and a few events delayed well beyond it (late).
func refStream(rng *rand.Rand, n int, lateness time.Duration) []refEv {
	evs := make([]refEv, n)
	t := t0 + int64(rng.IntN(10))*int64(100*time.Millisecond)
	keys := []string{"a", "b", "c"}
	names := []string{"p", "q", "r", "s"}
	for i := range evs {
		switch r := rng.IntN(10); {
		case r < 3: // same instant
		case r < 8:
			t += int64(rng.IntN(8)+1) * int64(100*time.Millisecond)
		default:
			t += int64(rng.IntN(30)+1) * int64(100*time.Millisecond)
		}
		e := refEv{t: t, k: keys[rng.IntN(len(keys))], g: int64(rng.IntN(4))}
		if rng.IntN(5) > 0 {
			x := float64(rng.IntN(17)-6) / 2
			if rng.IntN(60) == 0 {
				x = math.NaN()
			}
			e.x = &x
		}
		if rng.IntN(5) > 0 {
			e.s = &names[rng.IntN(len(names))]
		}
		evs[i] = e
	}
	// Arrival: by time plus a delay within the lateness; a few far beyond.
	type arr struct {
		at int64
		e  refEv
	}
	as := make([]arr, n)
	for i, e := range evs {
		delay := rng.Int64N(int64(lateness) + 1)
		if rng.IntN(25) == 0 {
			delay = int64(lateness) + int64(rng.IntN(30)+1)*int64(100*time.Millisecond)
		}
		as[i] = arr{e.t + delay, e}
	}
	sort.SliceStable(as, func(i, j int) bool { return as[i].at < as[j].at })
	for i := range as {
		evs[i] = as[i].e
		evs[i].seq = i
	}
	return evs
}

// engineRun runs rule r over evs and groups the derived events by key, as
// refRun does. It also returns the number of late events.
func engineRun(t *testing.T, r refRule, evs []refEv, lateness time.Duration, cfg Config) (map[string][]refResult, uint64, *Matcher) {
	t.Helper()
	g, err := r.build(lateness).Build()
	if err != nil {
		t.Fatalf("%s: %v", r, err)
	}
	m := g.NewMatcher(cfg)
	out := map[string][]refResult{}
	if _, err := m.Subscribe("Out", func(d *Derived) {
		var parts []string
		for i, k := range r.partition {
			v := d.Event.Fields[i]
			if k == "k" {
				parts = append(parts, "k="+v.Str())
			} else {
				parts = append(parts, fmt.Sprint("g=", v.Int()))
			}
		}
		key := strings.Join(parts, ",")
		out[key] = append(out[key], refResult{t: d.Event.Time, fields: slices.Clone(d.Event.Fields)})
	}); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		ev := e.event()
		m.Process(&ev)
	}
	m.Close()
	checkInvariant(t, m)
	return out, m.Stats().Late, m
}

func compareKeyed(t *testing.T, what string, r refRule, got, want map[string][]refResult) {
	t.Helper()
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		g, w := got[k], want[k]
		for i := range min(len(g), len(w)) {
			if g[i].t != w[i].t {
				t.Fatalf("%s: key %q result %d: time %s, want %s", what, k, i, time.Duration(g[i].t-t0), time.Duration(w[i].t-t0))
			}
			for j := range w[i].fields {
				name := r.fieldName(j)
				if !closeValue(g[i].fields[j], w[i].fields[j], name == "vr" || name == "sd") {
					t.Fatalf("%s: key %q result %d at %s: field %d (%s) = %s, want %s", what, k, i,
						time.Duration(w[i].t-t0), j, name, showValue(g[i].fields[j]), showValue(w[i].fields[j]))
				}
			}
		}
		if len(g) != len(w) {
			t.Fatalf("%s: key %q: %d results, want %d", what, k, len(g), len(w))
		}
		for i := range g {
			if len(g[i].fields) != len(w[i].fields) {
				t.Fatalf("%s: key %q result %d: %d fields, want %d", what, k, i, len(g[i].fields), len(w[i].fields))
			}
		}
	}
}

// FuzzWindowReference is TestWindow_reference with the rule and the
// stream drawn from the fuzzer's input: the window kind and size, the
// partition, where, having, the output limit, the aggregates (all, narrow
// or sums), the stream's seed and length.
func FuzzWindowReference(f *testing.F) {
	for _, c := range []struct {
		seed          uint64
		kind, size, x uint8
		n             uint16
	}{{1, 0, 10, 0, 250}, {2, 3, 15, 0x33, 300}, {3, 5, 4, 0x5a, 200}, {4, 3, 7, 0xc3, 120}, {5, 6, 8, 0x21, 250}, {6, 1, 20, 0x96, 180}} {
		f.Add(c.seed, c.kind, c.size, c.x, c.n)
	}
	const lateness = 700 * time.Millisecond
	f.Fuzz(func(t *testing.T, seed uint64, kind, size, x uint8, n uint16) {
		d := time.Duration(1+int(size)%40) * 100 * time.Millisecond // 0.1s to 4s
		c := 1 + int(size)%12
		w := []WindowSpec{Tumbling(d), Hopping(d+time.Second, d), Hopping(d, d+300*time.Millisecond),
			Sliding(d), CountWindow(c), SlidingCount(c), Session(d)}[int(kind)%7]
		r := refRule{window: w, partition: [][]string{{"k"}, {"k", "g"}, nil, {"g"}}[x&3], where: x&4 != 0}
		r.having = []string{"", "", "count() >= 2", "sum(x) > 3"}[x>>3&3]
		switch x >> 5 & 3 {
		case 1:
			r.mode, r.every = OutputFirst, d+500*time.Millisecond
		case 2:
			r.mode, r.every = OutputLast, d
		}
		switch x >> 7 {
		case 0:
			r.sums = true
		default:
			r.narrow = r.having == ""
			r.spread = !r.narrow && w.Kind != WindowSliding
		}
		evs := refStream(rand.New(rand.NewPCG(seed, 7)), 1+int(n)%400, lateness)
		want := refRun(r, evs, lateness)
		got, _, m := engineRun(t, r, evs, lateness, Config{})
		compareKeyed(t, r.String(), r, got, want)
		checkKeysFreed(t, r, m)
	})
}

// checkKeysFreed checks that a matcher run to Close holds no key of a
// window of time (count windows keep their keys' last events): each was
// freed, once.
func checkKeysFreed(t *testing.T, r refRule, m *Matcher) {
	t.Helper()
	if n := m.Stats().Keys; r.window.Kind != WindowSlidingCount && r.window.Kind != WindowCount && n != 0 {
		t.Fatalf("%s: %d keys live after Close, want 0", r, n)
	}
}

// TestWindow_reference runs every window kind, with and without having,
// output limits, partition keys and where, over random streams (fixed
// seeds) with disorder within the lateness and late events beyond it, and
// compares every result of every key with the reference model. Rules of
// count, sum and avg only (sums) run their windows in columns, and without
// having emit directly.
func TestWindow_reference(t *testing.T) {
	const lateness = 700 * time.Millisecond
	windows := []WindowSpec{
		Tumbling(time.Second),
		Hopping(2*time.Second, 700*time.Millisecond),
		Hopping(500*time.Millisecond, time.Second),
		Sliding(1500 * time.Millisecond),
		CountWindow(3),
		SlidingCount(4),
		Session(800 * time.Millisecond),
	}
	havings := []string{"", "count() >= 2", "sum(x) > 3"}
	outputs := []struct {
		mode  OutputMode
		every time.Duration
	}{{0, 0}, {OutputFirst, 1500 * time.Millisecond}, {OutputLast, time.Second}}
	partitions := [][]string{{"k"}, {"k", "g"}, nil}
	seed := uint64(0)
	var totalLate uint64
	for _, w := range windows {
		for _, h := range havings {
			for _, o := range outputs {
				for rep := range 4 {
					seed++
					r := refRule{window: w, having: h, mode: o.mode, every: o.every,
						partition: partitions[int(seed)%len(partitions)], where: seed%2 == 0,
						spread: w.Kind != WindowSliding && rep < 2, narrow: rep == 2, sums: rep == 3}
					if r.narrow && h != "" {
						continue
					}
					name := fmt.Sprintf("%s/seed%d", r, seed)
					t.Run(name, func(t *testing.T) {
						rng := rand.New(rand.NewPCG(seed, 7))
						evs := refStream(rng, 250, lateness)
						want := refRun(r, evs, lateness)
						got, late, m := engineRun(t, r, evs, lateness, Config{})
						compareKeyed(t, name, r, got, want)
						checkKeysFreed(t, r, m)
						totalLate += late
					})
				}
			}
		}
	}
	if totalLate == 0 {
		t.Errorf("no late events: the streams do not exercise them")
	}
}
