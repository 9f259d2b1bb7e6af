package engine

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/internal/prefetch"
)

// keyTable maps partition keys (a tuple of values) to dense ids, for the
// per-key state of window and output operators. It is an open-addressing
// hash table with linear probing and backward-shift deletion (no
// tombstones), owned by one operator of one matcher.
//
// A lookup hashes the key values in place and allocates nothing. An insert
// copies the values it keeps: strings are cloned (interned per key, so a
// key never holds on to the buffer its first event came in) and lists are
// deep-copied.
//
// A key whose state is freed is retired, not deleted: it stays in the table,
// dormant, with its interned values, so that a key that comes back (the
// same keys in every tumbling window) is revived without allocating. Up to
// the most keys ever live at once (at least 1024) stay dormant: dormant
// keys never take more memory than the live ones did; keys of one int,
// time, duration or bool, which own nothing to save, up to 1024 only
// (dormantBound). A key retired when that many are dormant is deleted on
// the spot: that reads its record,
// which retiring it reads anyway, where deleting the oldest dormant key
// instead would cost a key that churns (a million accounts, each idle
// most of the time) the cache misses of another key's record and values,
// untouched for long. Ids of deleted keys are reused, last freed first
// (warm). Retiring or reviving a key touches its record and nothing else.
//
// Key identity: two keys are equal when every value has the same kind and
// payload. Strings compare by bytes; floats by value, with -0 equal to +0
// and every NaN equal to every other (so a NaN key is one key); an int and
// a float are different keys even when equal in value (a key's type is
// fixed at compile time, so they only meet in keys of type any).
type keyTable[S any] struct {
	width int           // values per key
	vals  []event.Value // key id i holds vals[i*width : (i+1)*width]
	meta  []keyMeta[S]  // per key id
	fresh S             // the state of a new key id
	free  []int32       // ids of deleted keys
	// slots: 0 = empty, else the hash's top 32 bits << 32 | key id + 1;
	// len is a power of two, 2^(64-shift). A key's home slot is its
	// hash's top bits (h >> shift), which the slot holds: deleting one
	// shifts the entries after it back without visiting their keys.
	slots  []uint64
	shift  uint
	live   int
	sleep  int // dormant keys
	peak   int // most keys live at once
	seed   maphash.Seed
	seed64 uint64
	// hole is the empty slot at which findScalar last missed the key of
	// hash holeH, while holeOK (no slot has changed since): the place an
	// insert of that key takes, without probing again.
	hole   uint64
	holeH  uint64
	holeOK bool
	// scalars: some key was a lone scalar (see loneScalar); until then
	// no key is, and key reads no key's record to tell (a string key's
	// result, emitted at its window's expiry, costs one cache miss less).
	scalars bool
}

// keyMeta is what the table keeps of a key beside its values, in one
// place: a lookup, a retirement or a deletion touches one cache line of it,
// and the operator's state of the key (st) is beside it, so that finding
// a key and reading its state is one visit, not two.
type keyMeta[S any] struct {
	hash   uint64
	status keyStatus
	kind   event.Kind // the kind of the key's first value
	// short is 1 + the length of a key that is one string of at most 8
	// bytes, else 0: with the hash, it is the key (see findString).
	short uint8
	st    S
}

type keyStatus uint8

const (
	keyFree keyStatus = iota
	keyLive
	keyDormant
)

// minDormant is how many dormant keys a table may keep even when it never
// had as many live.
const minDormant = 1024

func (t *keyTable[S]) init(width int) {
	t.width = width
	t.seed = maphash.MakeSeed()
	t.seed64 = maphash.String(t.seed, "cep")
	t.slots, t.shift = make([]uint64, 16), 60
}

// state returns the operator's state of key id (live, dormant or
// deleted: it outlives the key, for its id's next use).
func (t *keyTable[S]) state(id int32) *S { return &t.meta[id].st }

// ids returns the number of key ids in use or free: ids are below it.
func (t *keyTable[S]) ids() int { return len(t.meta) }

// Len returns the number of live keys.
func (t *keyTable[S]) Len() int { return t.live }

// key returns the values of key id, in storage that stays the key's
// while it lives.
//
// A lone exact scalar (see loneScalar) is not stored at insert: its hash
// is its value, and writing it would cost a key that churns (a million
// accounts, each seen now and then) a cache miss for a value that the
// common paths never read. It is written here, when something asks.
func (t *keyTable[S]) key(id int32) []event.Value {
	i := int(id) * t.width
	if n := i + t.width; n > len(t.vals) {
		t.vals = slices.Grow(t.vals, n-len(t.vals))[:max(n, cap(t.vals))]
	}
	if t.loneScalar(id) {
		t.vals[i] = t.scalarKey(id)
	}
	return t.vals[i : i+t.width : i+t.width]
}

// loneScalar reports whether key id is one int, time, duration or bool
// value: a key whose hash (hashScalar) is a bijection of its value.
func (t *keyTable[S]) loneScalar(id int32) bool {
	return t.scalars && t.width == 1 && exactScalar(t.meta[id].kind)
}

// scalarKey returns the value of key id, a lone scalar (loneScalar), from
// its hash, reading nothing but the key's record.
func (t *keyTable[S]) scalarKey(id int32) event.Value {
	h := t.meta[id].hash
	k := t.meta[id].kind
	x := h ^ h>>32                                       // hashScalar's fold is its own inverse
	p := x*0xf1de83e19937733d ^ uint64(k)<<56 ^ t.seed64 // the multiplier's inverse mod 2^64
	switch k {
	case event.KindInt:
		return event.IntValue(int64(p))
	case event.KindTime:
		return event.TimeValue(int64(p))
	case event.KindDuration:
		return event.DurationValue(time.Duration(p))
	case event.KindBool:
		return event.BoolValue(p != 0)
	}
	panic("engine: scalarKey of a key that is not a lone scalar")
}

// hash hashes a key's values. Random per table (maphash's seed), so that
// crafted keys cannot force collisions; results never depend on it.
//
// A key of one scalar value (not a string or list) takes hashScalar's one
// multiply instead, as findScalar does.
func (t *keyTable[S]) hash(vals []event.Value) uint64 {
	if len(vals) == 1 {
		switch k := vals[0].Kind(); k {
		case event.KindString:
			// hashString is seeded and mixes every bit already. (A key of
			// type any that holds a string may share its hash with one that
			// holds another kind: keys compare by kind too.)
			return t.hashString(vals[0].Str())
		case event.KindList:
		default:
			return t.hashScalar(k, payload(vals[0]))
		}
	}
	h := t.seed64
	for i := range vals {
		h = mix64(h ^ t.hashValue(vals[i]))
	}
	return h
}

func (t *keyTable[S]) hashValue(v event.Value) uint64 {
	k := uint64(v.Kind())
	switch v.Kind() {
	case event.KindString:
		return t.hashString(v.Str()) ^ k<<56
	case event.KindList:
		h := k
		for _, x := range v.List() {
			h = mix64(h ^ t.hashValue(x))
		}
		return h
	}
	return mix64(payload(v) ^ k<<56)
}

// hashString hashes a string key value. Up to 8 bytes (most keys:
// symbols, names, short ids) the bytes are one word (shortWord), folded
// with a seeded finalizer; up to 16 bytes, two words, each folded: seeded
// as maphash is, so that crafted keys cannot aim at one slot, and a few
// instructions where maphash's calls cost a hundred or more. Longer
// strings take maphash.
func (t *keyTable[S]) hashString(s string) uint64 {
	n := len(s)
	switch {
	case n <= 8:
		return t.hashShort(shortWord(s), n)
	case n > 16:
		return maphash.String(t.seed, s)
	}
	b := unsafe.Slice(unsafe.StringData(s), n)
	// Two words, overlapping when n < 16.
	lo, hi := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	return mix64(mix64(lo^t.seed64) ^ hi ^ uint64(n)<<56)
}

// hashShort is hashString of a string of n <= 8 bytes whose shortWord is w.
func (t *keyTable[S]) hashShort(w uint64, n int) uint64 {
	return mix64(w ^ t.seed64 ^ uint64(n)<<59)
}

// shortWord packs a string of at most 8 bytes in a word: with its length,
// the word is the string (for 4 to 8 bytes, its first four and last four,
// overlapping; for 1 to 3, its first, middle and last byte, which are all
// of them).
func shortWord(s string) uint64 {
	n := len(s)
	if n == 0 {
		return 0
	}
	b := unsafe.Slice(unsafe.StringData(s), n)
	if n >= 4 {
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
	}
	return uint64(b[0])<<16 | uint64(b[n>>1])<<8 | uint64(b[n-1])
}

// payload is a scalar value's identity as 64 bits (see keyTable).
func payload(v event.Value) uint64 {
	switch v.Kind() {
	case event.KindBool:
		if v.Bool() {
			return 1
		}
		return 0
	case event.KindInt:
		return uint64(v.Int())
	case event.KindFloat:
		f := v.Float()
		switch {
		case f != f:
			return 0x7ff8000000000001
		case f == 0:
			return 0
		}
		return math.Float64bits(f)
	case event.KindTime:
		return uint64(v.Time())
	case event.KindDuration:
		return uint64(v.Duration())
	}
	return 0
}

// sameKey reports whether two values are the same key value.
func sameKey(a, b event.Value) bool {
	if a.Kind() != b.Kind() {
		return false
	}
	switch a.Kind() {
	case event.KindString:
		return a.Str() == b.Str()
	case event.KindList:
		x, y := a.List(), b.List()
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameKey(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return payload(a) == payload(b)
}

// mix64 is a 64-bit finalizer (splitmix64's): every input bit affects
// every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// find returns the id of the key vals (live or dormant), or -1.
func (t *keyTable[S]) find(vals []event.Value, h uint64) int32 {
	mask := uint64(len(t.slots) - 1)
	tag := h >> 32 << 32
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return -1
		}
		// The tag in the slot spares a visit to the key's values (and
		// its cache line) for most mismatches.
		if s&^0xffffffff == tag {
			if id := int32(uint32(s)) - 1; t.equal(id, vals) {
				return id
			}
		}
	}
}

// findOne looks up a key of one value by the fast path of its kind: a
// string by findString, an int, time, duration or bool by findScalar. ok
// is false for the other kinds (float, nil, list), which take hash and
// find. Each path hashes as hash does, so a table may mix them.
func (t *keyTable[S]) findOne(v event.Value) (h uint64, id int32, ok bool) {
	switch v.Kind() {
	case event.KindString:
		h, id = t.findString(v.Str())
	case event.KindInt, event.KindTime, event.KindDuration, event.KindBool:
		h, id = t.findScalar(v, v.Bits()) // payload(v), for these kinds
	default:
		return 0, -1, false
	}
	return h, id, true
}

// findString is hash and find for a key of one string value s, without
// the loops and kind switches: it returns the key's hash (the one hash
// gives) and its id, or -1, in a table of width 1. A string of up to 8
// bytes is hashed as its shortWord, without a call, and compared by its
// hash and length alone.
func (t *keyTable[S]) findString(s string) (uint64, int32) {
	if len(s) > 8 {
		return t.findLong(s)
	}
	w := shortWord(s)
	h := t.hashShort(w, len(s))
	mask := uint64(len(t.slots) - 1)
	tag := h >> 32 << 32
	for i := h >> t.shift; ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			return h, -1
		}
		// hashShort is a bijection of the word for one length (mix64
		// is): the hash and the length are the key, and the key's meta
		// (which its caller reads next) is compared instead of its
		// values, whose cache lines, and the string's, are spared.
		if e&^0xffffffff == tag {
			if id := int32(uint32(e)) - 1; t.meta[id].hash == h && t.meta[id].short == uint8(len(s))+1 && t.meta[id].kind == event.KindString {
				return h, id
			}
		}
	}
}

// findLong is findString for strings of more than 8 bytes: the general
// find, with hashString's hash.
func (t *keyTable[S]) findLong(s string) (uint64, int32) {
	h := t.hashString(s)
	v := [1]event.Value{event.StringValue(s)}
	return h, t.find(v[:], h)
}

// hashScalar is the hash of a key of one scalar value of kind k and
// payload p: a seeded multiply, whose high half (the slot's tag) mixes
// every input bit, folded into the low half (the slot index). The multiply
// is a bijection, so distinct ints never share a 64-bit hash.
func (t *keyTable[S]) hashScalar(k event.Kind, p uint64) uint64 {
	x := (p ^ uint64(k)<<56 ^ t.seed64) * 0x9e3779b97f4a7c15
	return x ^ x>>32
}

// findScalar is hash and find for a key of one int, time, duration or bool
// value v, of payload p (payload(v)), without the loops and kind switches
// of the general path: it returns the key's hash (the one hash gives) and
// its id, or -1. Values of these kinds are equal keys exactly when they
// are equal Go values (their payload and kind, no pointer), which floats
// (-0, NaN) and strings are not.
func (t *keyTable[S]) findScalar(v event.Value, p uint64) (uint64, int32) {
	h := t.hashScalar(v.Kind(), p)
	mask := uint64(len(t.slots) - 1)
	tag := h >> 32 << 32
	for i := h >> t.shift; ; i = (i + 1) & mask {
		e := t.slots[i]
		if e == 0 {
			t.hole, t.holeH, t.holeOK = i, h, true // for an insert of it, next
			return h, -1
		}
		// hashScalar is a bijection of the payload for one kind: the
		// hash and the kind are the key, and the key's meta (which its
		// caller reads next) is compared instead of its values.
		if e&^0xffffffff == tag {
			if id := int32(uint32(e)) - 1; t.meta[id].hash == h && t.meta[id].kind == v.Kind() {
				return h, id
			}
		}
	}
}

func (t *keyTable[S]) equal(id int32, vals []event.Value) bool {
	k := t.key(id)
	for i := range vals {
		if !sameKey(k[i], vals[i]) {
			return false
		}
	}
	return true
}

// insert adds the key vals, not present, with hash h, and returns its id.
func (t *keyTable[S]) insert(vals []event.Value, h uint64) int32 {
	// At most 3/4 full: a hit probes ~2.5 slots at worst, most in one
	// cache line (eight slots), and a slot costs 8 bytes, 11-21 a key.
	if 4*(t.live+t.sleep+1) > 3*len(t.slots) {
		t.rehash(2 * len(t.slots))
	}
	var id int32
	if n := len(t.free); n > 0 {
		id = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		id = int32(len(t.meta))
		t.meta = append(t.meta, keyMeta[S]{st: t.fresh})
	}
	t.meta[id].hash = h
	t.meta[id].status = keyLive
	t.meta[id].short = 0
	if len(vals) > 0 {
		t.meta[id].kind = vals[0].Kind()
		if t.width == 1 && vals[0].Kind() == event.KindString && len(vals[0].Str()) <= 8 {
			t.meta[id].short = uint8(len(vals[0].Str())) + 1
		}
		t.scalars = t.scalars || t.width == 1 && exactScalar(vals[0].Kind())
	}
	if !t.loneScalar(id) { // (a lone scalar is its hash: see key)
		k := t.key(id)
		for i, v := range vals {
			k[i] = ownValue(v)
		}
	}
	t.place(id, h)
	t.live++
	t.peak = max(t.peak, t.live)
	return id
}

// dormant reports whether key id is retired (and may be revived).
func (t *keyTable[S]) dormant(id int32) bool { return t.meta[id].status == keyDormant }

// prefetchRecord hints key id's record into the caches (see
// internal/prefetch): its state, hash and status.
func (t *keyTable[S]) prefetchRecord(id int32) {
	if uint(id) < uint(len(t.meta)) {
		prefetch.Line(unsafe.Pointer(&t.meta[id]))
	}
}

// prefetchSlot hints the home slot of key id into the caches: where a
// deletion of the key begins to look. It reads the key's record (fetched
// by prefetchRecord a step before).
func (t *keyTable[S]) prefetchSlot(id int32) {
	if uint(id) < uint(len(t.meta)) {
		prefetch.Line(unsafe.Pointer(&t.slots[t.meta[id].hash>>t.shift]))
	}
}

// revive makes a dormant key live again.
func (t *keyTable[S]) revive(id int32) {
	t.meta[id].status = keyLive
	t.sleep--
	t.live++
	t.peak = max(t.peak, t.live)
}

// retire makes key id dormant, or deletes it when the table already keeps
// as many dormant keys as it may (see keyTable).
func (t *keyTable[S]) retire(id int32) {
	t.live--
	if t.sleep >= t.dormantBound(id) {
		t.drop(id)
		return
	}
	t.meta[id].status = keyDormant
	t.sleep++
}

// dormantBound is how many dormant keys the table may keep when key id
// retires: as many as were ever live at once, for a key that owns memory
// (strings, lists, or several values: its revival saves their copies);
// minDormant for a lone scalar (see loneScalar), whose revival saves
// nothing an insert would not do but whose record, kept, takes memory
// and cache from the live keys (a million accounts that come and go).
func (t *keyTable[S]) dormantBound(id int32) int {
	if t.loneScalar(id) {
		return minDormant
	}
	return max(minDormant, t.peak)
}

func (t *keyTable[S]) place(id int32, h uint64) {
	i := h >> t.shift
	if t.holeOK && t.holeH == h {
		i = t.hole // the lookup that missed it ended there
	} else {
		mask := uint64(len(t.slots) - 1)
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
	}
	t.holeOK = false
	t.slots[i] = h>>32<<32 | uint64(id+1)
}

func (t *keyTable[S]) rehash(n int) {
	t.holeOK = false
	t.slots, t.shift = make([]uint64, n), uint(64-bits.TrailingZeros(uint(n)))
	for id := range t.meta {
		if t.meta[id].status != keyFree {
			t.place(int32(id), t.meta[id].hash)
		}
	}
}

// delete deletes live key id.
func (t *keyTable[S]) delete(id int32) {
	t.live--
	t.drop(id)
}

// drop deletes key id (not dormant, not counted as live), shifting the
// entries after its slot back so that no probe sequence breaks (no
// tombstones).
func (t *keyTable[S]) drop(id int32) {
	t.holeOK = false
	mask := uint64(len(t.slots) - 1)
	i := t.meta[id].hash >> t.shift
	for uint32(t.slots[i]) != uint32(id+1) {
		i = (i + 1) & mask
	}
	t.slots[i] = 0
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		home := t.slots[j] >> t.shift
		// Move the entry at j into the hole at i if its home position is
		// not in the cyclic range (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i], t.slots[j] = t.slots[j], 0
			i = j
		}
	}
	if !t.loneScalar(id) {
		clear(t.key(id)) // drop references to the interned strings
	} // (a lone scalar refers to nothing: its values' cache line is spared)
	t.meta[id].status = keyFree
	t.free = append(t.free, id)
}

// ownValue copies what a key must own: string bytes, list items.
func ownValue(v event.Value) event.Value {
	switch v.Kind() {
	case event.KindString:
		return event.StringValue(strings.Clone(v.Str()))
	case event.KindList:
		items := v.List()
		own := make([]event.Value, len(items))
		for i, x := range items {
			own[i] = ownValue(x)
		}
		return event.ListValue(own)
	}
	return v
}

// sizeBytes estimates the table's heap bytes, interned strings included.
func (t *keyTable[S]) sizeBytes() int {
	b := 24*cap(t.vals) + int(unsafe.Sizeof(keyMeta[S]{}))*cap(t.meta) + 4*cap(t.free) + 8*cap(t.slots)
	for id := range t.meta {
		if t.meta[id].status != keyFree && !t.loneScalar(int32(id)) {
			for _, v := range t.key(int32(id)) {
				b += valueBytes(v)
			}
		}
	}
	return b
}

func valueBytes(v event.Value) int {
	switch v.Kind() {
	case event.KindString:
		return len(v.Str())
	case event.KindList:
		b := 24 + 24*len(v.List())
		for _, x := range v.List() {
			b += valueBytes(x)
		}
		return b
	}
	return 0
}
