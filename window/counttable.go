package window

// countTable is an open-addressing hash table from uint64 keys to positive
// counts, with linear probing and backward-shift deletion (no tombstones),
// so that a table that has reached its working size allocates nothing more
// however keys come and go. A count of zero marks an empty slot.
type countTable struct {
	keys  []uint64
	cnt   []uint32
	n     int
	shift uint8 // 64 - log2(len(keys))
}

const fibHash = 0x9E3779B97F4A7C15 // 2^64 / golden ratio: Fibonacci hashing

func (t *countTable) home(k uint64) int { return int((k * fibHash) >> t.shift) }

// find returns the slot of k, or -1.
func (t *countTable) find(k uint64) int {
	if t.n == 0 {
		return -1
	}
	mask := len(t.keys) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		if t.cnt[i] == 0 {
			return -1
		}
		if t.keys[i] == k {
			return i
		}
	}
}

// get returns the count of k (0 if absent).
func (t *countTable) get(k uint64) uint32 {
	if i := t.find(k); i >= 0 {
		return t.cnt[i]
	}
	return 0
}

// inc adds one to the count of k.
func (t *countTable) inc(k uint64) {
	if i := t.find(k); i >= 0 {
		t.cnt[i]++
		return
	}
	if (t.n+1)*4 > len(t.keys)*3 {
		t.grow()
	}
	mask := len(t.keys) - 1
	i := t.home(k)
	for t.cnt[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.cnt[i] = k, 1
	t.n++
}

// insert adds k with a count of one if it is absent.
func (t *countTable) insert(k uint64) {
	if t.find(k) < 0 {
		t.inc(k)
	}
}

// dec subtracts one from the count of k and reports whether k was present.
func (t *countTable) dec(k uint64) bool {
	i := t.find(k)
	if i < 0 {
		return false
	}
	if t.cnt[i] > 1 {
		t.cnt[i]--
		return true
	}
	t.cnt[i] = 0
	t.n--
	// Backward shift: move later members of the probe run into the hole
	// when the hole lies on their path from their home slot.
	mask := len(t.keys) - 1
	for j := (i + 1) & mask; t.cnt[j] != 0; j = (j + 1) & mask {
		h := t.home(t.keys[j])
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			t.keys[i], t.cnt[i] = t.keys[j], t.cnt[j]
			t.cnt[j] = 0
			i = j
		}
	}
	return true
}

// len returns the number of keys with a positive count.
func (t *countTable) len() int { return t.n }

func (t *countTable) reset() {
	if t.n > 0 {
		clear(t.cnt)
		t.n = 0
	}
}

func (t *countTable) grow() {
	oldKeys, oldCnt := t.keys, t.cnt
	size := 2 * len(oldKeys)
	if size == 0 {
		size = 8
	}
	t.keys, t.cnt = make([]uint64, size), make([]uint32, size)
	t.shift = uint8(64 - log2(size))
	mask := size - 1
	for j, c := range oldCnt {
		if c == 0 {
			continue
		}
		i := t.home(oldKeys[j])
		for t.cnt[i] != 0 {
			i = (i + 1) & mask
		}
		t.keys[i], t.cnt[i] = oldKeys[j], c
	}
}

func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}
