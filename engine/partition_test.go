package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/cepengine/cep/engine/event"
)

// TestKeyTable_reference drives a key table with random lookups, inserts,
// retirements and revivals against a Go map, checking after every step
// that each key maps to its id (the backward-shift deletion keeps every
// probe sequence whole) and that the counts agree.
func TestKeyTable_reference(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var tb keyTable[struct{}]
		tb.init(2)
		type entry struct {
			id   int32
			live bool
		}
		model := map[string]*entry{}
		live := 0
		vals := make([]event.Value, 2)
		for step := range 20000 {
			k := rng.IntN(3000)
			vals[0] = event.StringValue(fmt.Sprint("key", k%1500))
			vals[1] = event.IntValue(int64(k / 1500))
			name := fmt.Sprint(k)
			h := tb.hash(vals)
			id := tb.find(vals, h)
			e := model[name]
			switch {
			case e == nil && id >= 0:
				t.Fatalf("seed %d step %d: key %s found (id %d) but never inserted or deleted", seed, step, name, id)
			case e != nil && e.live && (id != e.id || tb.dormant(id)):
				t.Fatalf("seed %d step %d: live key %s: id %d, want %d", seed, step, name, id, e.id)
			case e != nil && !e.live && id >= 0 && id != e.id:
				t.Fatalf("seed %d step %d: dormant key %s: id %d, want %d", seed, step, name, id, e.id)
			}
			switch {
			case e != nil && e.live: // retire it
				tb.retire(id)
				e.live = false
				live--
			case id >= 0: // dormant: revive
				tb.revive(id)
				e.live = true
				live++
			default: // new, or dormant and deleted since
				id = tb.insert(vals, h)
				model[name] = &entry{id: id, live: true}
				live++
			}
			if tb.Len() != live {
				t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, tb.Len(), live)
			}
			if tb.sleep > max(minDormant, tb.peak) {
				t.Fatalf("seed %d step %d: %d dormant keys, bound %d", seed, step, tb.sleep, max(minDormant, tb.peak))
			}
		}
	}
}

// TestKeyTable_identity pins key equality: kinds apart, -0 == +0, NaN one
// key, strings by bytes and owned by the table.
func TestKeyTable_identity(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	id := func(v event.Value) int32 {
		vals := []event.Value{v}
		h := tb.hash(vals)
		if i := tb.find(vals, h); i >= 0 {
			return i
		}
		return tb.insert(vals, h)
	}
	buf := []byte("abc")
	s := event.StringValue(string(buf[:2]))
	a := id(s)
	if id(event.StringValue("ab")) != a {
		t.Error("equal strings are different keys")
	}
	if id(event.FloatValue(0)) != id(event.FloatValue(math.Copysign(0, -1))) {
		t.Error("-0 and +0 are different keys")
	}
	if id(event.FloatValue(math.NaN())) != id(event.FloatValue(math.Float64frombits(0x7ff8dead00000000))) {
		t.Error("two NaNs are different keys")
	}
	if id(event.IntValue(1)) == id(event.FloatValue(1)) {
		t.Error("int 1 and float 1 are one key")
	}
	if n := id(event.Nil); n != id(event.Nil) || n == id(event.StringValue("")) {
		t.Error("nil key")
	}
	l1 := event.ListValue([]event.Value{event.StringValue("x"), event.IntValue(2)})
	l2 := event.ListValue([]event.Value{event.StringValue("x"), event.IntValue(2)})
	if id(l1) != id(l2) || id(l1) == id(event.ListValue([]event.Value{event.StringValue("x")})) {
		t.Error("list keys")
	}
	if got := tb.key(a)[0].Str(); got != "ab" {
		t.Errorf("key %q", got)
	}
}

// TestKeyTable_prefetch: the prefetch hints take any id, live, freed or
// out of range, and change nothing.
func TestKeyTable_prefetch(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	vals := []event.Value{event.IntValue(7)}
	id := tb.insert(vals, tb.hash(vals))
	gone := []event.Value{event.IntValue(8)}
	tb.delete(tb.insert(gone, tb.hash(gone)))
	for _, i := range []int32{-1, id, id + 1, 1 << 30} {
		tb.prefetchRecord(i)
		tb.prefetchSlot(i)
	}
	if tb.find(vals, tb.hash(vals)) != id || tb.find(gone, tb.hash(gone)) >= 0 || tb.Len() != 1 {
		t.Error("the hints changed the table")
	}
}

// TestKeyTable_allocs: looking up an existing key allocates nothing, and
// neither does reviving a retired one.
func TestKeyTable_allocs(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(2)
	keys := make([][]event.Value, 100)
	for i := range keys {
		keys[i] = []event.Value{event.StringValue(fmt.Sprint("sym", i)), event.IntValue(int64(i))}
		tb.insert(keys[i], tb.hash(keys[i]))
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		k := keys[i%100]
		i++
		id := tb.find(k, tb.hash(k))
		tb.retire(id)
		tb.revive(tb.find(k, tb.hash(k)))
	}); n != 0 {
		t.Errorf("%v allocations per lookup", n)
	}
}

// TestKeyTable_retireBounded: keys retired and revived forever do not
// grow the number of dormant keys.
func TestKeyTable_retireBounded(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	vals := []event.Value{event.StringValue("")}
	for i := range 100000 {
		vals[0] = event.StringValue(fmt.Sprint(i % 10))
		h := tb.hash(vals)
		id := tb.find(vals, h)
		switch {
		case id < 0:
			id = tb.insert(vals, h)
		case tb.dormant(id):
			tb.revive(id)
		}
		tb.retire(id)
	}
	if tb.sleep > 10 {
		t.Errorf("%d dormant keys, want at most 10", tb.sleep)
	}
}

// TestKeyTable_loneScalarValues: the value of a key of one int, time,
// duration or bool is not stored until asked for (its hash is its value),
// and comes back right, live, dormant and revived; other keys' are stored.
func TestKeyTable_loneScalarValues(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	keys := []event.Value{event.IntValue(-7), event.TimeValue(math.MaxInt64), event.DurationValue(-time.Second),
		event.BoolValue(true), event.BoolValue(false), event.StringValue("s"), event.FloatValue(-2.5)}
	ids := make([]int32, len(keys))
	for i, v := range keys {
		vals := []event.Value{v}
		ids[i] = tb.insert(vals, tb.hash(vals))
		if i == 4 && len(tb.vals) != 0 {
			t.Errorf("values stored for %d lone scalar keys, want none", len(tb.vals))
		}
	}
	check := func(when string) {
		for i, v := range keys {
			if got := tb.key(ids[i])[0]; !sameKey(got, v) || got.Kind() != v.Kind() {
				t.Errorf("%s: key %d: %v, want %v", when, ids[i], got, v)
			}
		}
	}
	check("live")
	for i, v := range keys {
		tb.retire(ids[i])
		vals := []event.Value{v}
		if id := tb.find(vals, tb.hash(vals)); id != ids[i] || !tb.dormant(id) {
			t.Errorf("%v retired: id %d, want %d, dormant", v, id, ids[i])
		}
	}
	check("dormant")
	for _, id := range ids {
		tb.revive(id)
	}
	check("revived")
}

// TestKeyTable_dormantBound: retired keys that own strings stay dormant up
// to the most keys ever live at once; lone scalars up to minDormant.
func TestKeyTable_dormantBound(t *testing.T) {
	for _, tc := range []struct {
		name string
		val  func(i int) event.Value
		want int
	}{
		{"int", func(i int) event.Value { return event.IntValue(int64(i)) }, minDormant},
		{"time", func(i int) event.Value { return event.TimeValue(int64(i)) }, minDormant},
		{"string", func(i int) event.Value { return event.StringValue(fmt.Sprint(i)) }, 5000},
		{"float", func(i int) event.Value { return event.FloatValue(float64(i)) }, 5000},
	} {
		var tb keyTable[struct{}]
		tb.init(1)
		ids := make([]int32, 5000)
		for i := range ids {
			vals := []event.Value{tc.val(i)}
			ids[i] = tb.insert(vals, tb.hash(vals))
		}
		for _, id := range ids {
			tb.retire(id)
		}
		if tb.sleep != tc.want || tb.Len() != 0 {
			t.Errorf("%s: %d dormant, %d live after retiring 5000; want %d, 0", tc.name, tb.sleep, tb.Len(), tc.want)
		}
	}
}

// TestKeyTable_findString holds the one-string-key lookup to hash and
// find: the same hash, the same id, over keys inserted either way, with
// non-string keys of the same payload kept apart.
func TestKeyTable_findString(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	vals := make([]event.Value, 1)
	for i := range 5000 {
		// 2 to 24 bytes: one word (shortWord), two, and maphash.
		s := fmt.Sprint("k", i%2000) + strings.Repeat("x", i%20)
		vals[0] = event.StringValue(s)
		h, id := tb.findString(s)
		if want := tb.hash(vals); h != want {
			t.Fatalf("%s: hash %x, want %x", s, h, want)
		}
		if want := tb.find(vals, h); id != want {
			t.Fatalf("%s: id %d, want %d", s, id, want)
		}
		if id < 0 {
			if i%2 == 0 {
				tb.insert(vals, h)
			} else {
				tb.insert([]event.Value{event.IntValue(int64(i))}, tb.hash([]event.Value{event.IntValue(int64(i))}))
			}
		}
	}
	if _, id := tb.findString(""); id >= 0 {
		t.Error("empty string found")
	}
	// Short strings compare by hash and length: one of 4 bytes and one of
	// 8 whose words differ by exactly their lengths' bits in the hash
	// (hashShort: w ^ n<<59) share a hash, and are two keys all the same.
	for _, p := range [][2]string{{"abcd", "abcdabc\x04"}, {"wxyz", "wxyzwxy\x1a"}} {
		var w [2]uint64
		for i, s := range p {
			w[i] = shortWord(s) ^ uint64(len(s))<<59
		}
		if w[0] != w[1] {
			t.Fatalf("%q and %q: words %x and %x, want one", p[0], p[1], w[0], w[1])
		}
		a := []event.Value{event.StringValue(p[0])}
		tb.insert(a, tb.hash(a))
		if h, id := tb.findString(p[1]); id >= 0 {
			t.Errorf("findString(%q) = %d (hash %x), the key %q", p[1], id, h, p[0])
		}
		b := []event.Value{event.StringValue(p[1])}
		idB := tb.insert(b, tb.hash(b))
		if _, id := tb.findString(p[1]); id != idB {
			t.Errorf("findString(%q) = %d, want %d", p[1], id, idB)
		}
		if _, id := tb.findString(p[0]); id < 0 || id == idB {
			t.Errorf("findString(%q) = %d, want the first key", p[0], id)
		}
	}
	for _, s := range []string{"k12", "k12xxxxxxxx", "k12xxxxxxxxxxxxxxxxx"} {
		if n := testing.AllocsPerRun(100, func() { tb.findString(s) }); n != 0 {
			t.Errorf("findString(%q): %v allocations", s, n)
		}
	}
}

// TestKeyTable_findScalar holds the one-scalar-key lookup (findScalar, for
// ints, times, durations and bools) against the general path (hash and
// find: the same hash, the same id) and both against a Go map keyed by
// (kind, value), over random keys of every scalar kind (ints near 0, negatives, the extremes, payloads shared by
// several kinds, -0 and +0, NaNs) inserted, retired, revived and deleted.
func TestKeyTable_findScalar(t *testing.T) {
	type ref struct {
		kind event.Kind
		bits uint64
	}
	refOf := func(v event.Value) ref {
		r := ref{kind: v.Kind()}
		switch v.Kind() {
		case event.KindInt:
			r.bits = uint64(v.Int())
		case event.KindTime:
			r.bits = uint64(v.Time())
		case event.KindDuration:
			r.bits = uint64(v.Duration())
		case event.KindBool:
			if v.Bool() {
				r.bits = 1
			}
		case event.KindFloat:
			switch f := v.Float(); {
			case math.IsNaN(f):
				r.bits = 1 // every NaN one key
			case f == 0:
				r.bits = 0 // -0 == +0
			default:
				r.bits = math.Float64bits(f)
			}
		}
		return r
	}
	extremes := []int64{0, -1, 1, math.MinInt64, math.MaxInt64, math.MinInt64 + 1, 1 << 32, -1 << 32}
	value := func(rng *rand.Rand) event.Value {
		var n int64
		switch rng.IntN(4) {
		case 0:
			n = extremes[rng.IntN(len(extremes))]
		case 1:
			n = int64(rng.IntN(4000)) - 2000
		case 2:
			n = int64(rng.IntN(64)) << 32 // payloads equal in their low half
		default:
			n = int64(rng.Uint64())
		}
		switch rng.IntN(16) {
		case 0:
			return event.TimeValue(n)
		case 1:
			return event.DurationValue(time.Duration(n))
		case 2:
			return event.BoolValue(n&1 == 1)
		case 3:
			return event.FloatValue([]float64{0, math.Copysign(0, -1), math.NaN(), -math.NaN(), 1, -1, float64(n)}[rng.IntN(7)])
		case 4:
			return event.Nil
		}
		return event.IntValue(n)
	}
	for seed := range uint64(4) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var tb keyTable[struct{}]
		tb.init(1)
		type entry struct {
			id   int32
			live bool
		}
		model := map[ref]*entry{}
		vals := make([]event.Value, 1)
		for step := range 30000 {
			v := value(rng)
			vals[0] = v
			h := tb.hash(vals)
			id := tb.find(vals, h)
			switch v.Kind() {
			case event.KindInt, event.KindTime, event.KindDuration, event.KindBool:
				fh, fid := tb.findScalar(v, payload(v))
				if fh != h {
					t.Fatalf("seed %d step %d: %v: hash %x, want hash's %x", seed, step, v, fh, h)
				}
				if fid != id {
					t.Fatalf("seed %d step %d: %v: id %d, want find's %d", seed, step, v, fid, id)
				}
			}
			e := model[refOf(v)]
			switch {
			case e == nil && id >= 0:
				t.Fatalf("seed %d step %d: %v found (id %d), never inserted", seed, step, v, id)
			case e != nil && e.live && (id != e.id || tb.dormant(id)):
				t.Fatalf("seed %d step %d: live %v: id %d, want %d", seed, step, v, id, e.id)
			case e != nil && !e.live && id >= 0 && id != e.id:
				t.Fatalf("seed %d step %d: dormant %v: id %d, want %d", seed, step, v, id, e.id)
			}
			if id >= 0 && refOf(tb.key(id)[0]) != refOf(v) {
				t.Fatalf("seed %d step %d: %v found key %v", seed, step, v, tb.key(id)[0])
			}
			switch {
			case e != nil && e.live:
				if rng.IntN(2) == 0 {
					tb.retire(id)
					e.live = false
				}
			case id >= 0:
				tb.revive(id)
				e.live = true
			default:
				model[refOf(v)] = &entry{id: tb.insert(vals, h), live: true}
			}
		}
		if len(model) < 5000 {
			t.Fatalf("seed %d: only %d distinct keys", seed, len(model))
		}
	}
}

// TestKeyTable_findScalarTagCollisions: keys whose hashes share the slot's
// tag (found by a birthday search under the table's seed) are told apart
// by their values, in either order of insertion. The pairs share their
// home slot in a new table (16 slots) too, so that one probes the other.
func TestKeyTable_findScalarTagCollisions(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	seen := map[uint64]event.Value{}
	var pairs [][2]event.Value
	for i := int64(1); len(pairs) < 8 && i < 1<<22; i++ {
		// Small negatives, payloads that differ only in their high half,
		// and the same payloads as times.
		for _, v := range []event.Value{event.IntValue(-i), event.IntValue(i << 32), event.TimeValue(i << 32), event.TimeValue(-i)} {
			h := tb.hashScalar(v.Kind(), payload(v))
			tagSlot := h>>32<<32 | h&15
			if w, ok := seen[tagSlot]; ok {
				pairs = append(pairs, [2]event.Value{w, v})
				continue
			}
			seen[tagSlot] = v
		}
	}
	if len(pairs) < 8 {
		t.Fatalf("only %d tag collisions found", len(pairs))
	}
	for _, p := range pairs {
		for _, order := range [][2]event.Value{p, {p[1], p[0]}} {
			var tb2 keyTable[struct{}]
			tb2.init(1)
			tb2.seed64 = tb.seed64 // the same hashes, so the same tags
			first, second := order[0], order[1]
			h, _ := tb2.findScalar(first, payload(first))
			id1 := tb2.insert([]event.Value{first}, h)
			h, id := tb2.findScalar(second, payload(second))
			if id >= 0 {
				t.Fatalf("%v: found %v's id %d (their tags are equal)", second, first, id1)
			}
			id2 := tb2.insert([]event.Value{second}, h)
			if _, id := tb2.findScalar(first, payload(first)); id != id1 {
				t.Fatalf("%v: id %d, want %d", first, id, id1)
			}
			if _, id := tb2.findScalar(second, payload(second)); id != id2 {
				t.Fatalf("%v: id %d, want %d", second, id, id2)
			}
		}
	}
}

// TestKeyTable_bits: findOne takes an int's, time's, duration's or bool's
// Bits as its payload; they must agree.
func TestKeyTable_bits(t *testing.T) {
	for _, v := range []event.Value{event.IntValue(-5), event.IntValue(1 << 62), event.TimeValue(-1), event.TimeValue(1e18),
		event.DurationValue(-time.Second), event.BoolValue(true), event.BoolValue(false)} {
		if v.Bits() != payload(v) {
			t.Errorf("%v: Bits %#x, payload %#x", v, v.Bits(), payload(v))
		}
	}
}

// TestKeyTable_hashString: the short-string hash (up to 16 bytes, read as
// two words) tells apart strings of every length that share their first
// and last bytes, as the long one (maphash) does: no 64-bit collision over
// 200,000 such strings, and every string hashes the same each time.
func TestKeyTable_hashString(t *testing.T) {
	var tb keyTable[struct{}]
	tb.init(1)
	seen := map[uint64]string{}
	rng := rand.New(rand.NewPCG(3, 3))
	for i := range 200000 {
		n := i % 21
		b := make([]byte, n)
		for j := range b {
			b[j] = "ab\x00\xff"[rng.IntN(4)]
		}
		s := string(b)
		h := tb.hashString(s)
		if h != tb.hashString(string(b)) {
			t.Fatalf("%q hashes differently", s)
		}
		if o, ok := seen[h]; ok && o != s {
			t.Fatalf("%q and %q share hash %x", o, s, h)
		}
		seen[h] = s
	}
	if len(seen) < 100000 {
		t.Fatalf("only %d distinct strings", len(seen))
	}
}

// TestKeyTable_recordSize pins the key record of a window rule's table:
// the key's birth (uint32) lives in the padding after its status and
// kind, so that the record stays 16 bytes (docs/performance.md, memory
// per key).
func TestKeyTable_recordSize(t *testing.T) {
	if n := unsafe.Sizeof(keyMeta[uint32]{}); n != 16 {
		t.Errorf("keyMeta[uint32] is %d bytes, want 16", n)
	}
}
