package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cepengine/cep/engine/event"
)

// TestKeyTable_reference drives a key table with random lookups, inserts,
// retirements and revivals against a Go map, checking after every step
// that each key maps to its id (the backward-shift deletion keeps every
// probe sequence whole) and that the counts agree.
func TestKeyTable_reference(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 3))
		var tb keyTable
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
			if tb.live+tb.sleep > max(minDormant, tb.peak) {
				t.Fatalf("seed %d step %d: %d live + %d dormant keys, bound %d", seed, step, tb.live, tb.sleep, max(minDormant, tb.peak))
			}
		}
	}
}

// TestKeyTable_identity pins key equality: kinds apart, -0 == +0, NaN one
// key, strings by bytes and owned by the table.
func TestKeyTable_identity(t *testing.T) {
	var tb keyTable
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

// TestKeyTable_allocs: looking up an existing key allocates nothing, and
// neither does reviving a retired one.
func TestKeyTable_allocs(t *testing.T) {
	var tb keyTable
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

// TestKeyTable_retireQueueBounded: keys retired and revived forever do not
// grow the queue of retired keys.
func TestKeyTable_retireQueueBounded(t *testing.T) {
	var tb keyTable
	tb.init(1)
	vals := []event.Value{event.IntValue(0)}
	for i := range 100000 {
		vals[0] = event.IntValue(int64(i % 10))
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
	if n := tb.retired.Len(); n > 100 {
		t.Errorf("%d entries in the retired queue for 10 keys", n)
	}
}

// TestKeyTable_findString holds the one-string-key lookup to hash and
// find: the same hash, the same id, over keys inserted either way, with
// non-string keys of the same payload kept apart.
func TestKeyTable_findString(t *testing.T) {
	var tb keyTable
	tb.init(1)
	vals := make([]event.Value, 1)
	for i := range 5000 {
		s := fmt.Sprint("k", i%2000)
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
}
