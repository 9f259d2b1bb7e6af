package window

// Distinct counts the distinct uint64 keys of a window exactly: a hash
// table from each key to its occurrences (countTable), whose buffer a
// Reset keeps, so that a window that has reached its working size
// allocates nothing more however often it closes, drains or refills. (A
// roaring bitmap, used before, drops its containers on Clear and
// allocates them again, about ten allocations per closed window; and the
// keys of strings are hashes, spread over the whole 64-bit range, where a
// roaring bitmap costs tens of bytes a key, the table about 16 to 32.)
// The zero Distinct is empty and supports Remove.
type Distinct struct {
	t       countTable
	addOnly bool // no removal will come: count each key once (no count overflows)
}

// Add adds one occurrence of k.
func (d *Distinct) Add(k uint64) {
	if d.addOnly {
		d.t.insert(k)
		return
	}
	d.t.inc(k)
}

// Remove removes one occurrence of k and reports whether k was present.
func (d *Distinct) Remove(k uint64) bool { return d.t.dec(k) }

// Len returns the number of distinct keys.
func (d *Distinct) Len() uint64 { return uint64(d.t.len()) }

// Reset empties the set, keeping its buffer.
func (d *Distinct) Reset() { d.t.reset() }

// sizeBytes estimates the heap bytes held.
func (d *Distinct) sizeBytes() int { return 12 * len(d.t.keys) }
