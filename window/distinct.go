package window

import "github.com/RoaringBitmap/roaring/v2/roaring64"

// Distinct counts the distinct uint64 keys of a window exactly. The set is a
// roaring bitmap (about 2 bytes per key in sparse blocks, 1 bit per possible
// key in dense ones); to support removal, keys present more than once also
// get an entry in a hash table holding their extra occurrences, so the table
// stays empty while keys are unique. The zero Distinct is empty and
// supports Remove.
type Distinct struct {
	bm      roaring64.Bitmap
	card    uint64
	dups    countTable
	addOnly bool // no removal will come: skip the duplicate counts
}

// Add adds one occurrence of k.
func (d *Distinct) Add(k uint64) {
	if d.bm.CheckedAdd(k) {
		d.card++
		return
	}
	if !d.addOnly {
		d.dups.inc(k)
	}
}

// Remove removes one occurrence of k and reports whether k was present.
func (d *Distinct) Remove(k uint64) bool {
	if d.dups.dec(k) {
		return true
	}
	if d.bm.CheckedRemove(k) {
		d.card--
		return true
	}
	return false
}

// Len returns the number of distinct keys.
func (d *Distinct) Len() uint64 { return d.card }

// Reset empties the set. The hash table keeps its buffer; the bitmap frees
// its containers.
func (d *Distinct) Reset() {
	if d.card > 0 {
		d.bm.Clear()
		d.card = 0
	}
	d.dups.reset()
}

// sizeBytes estimates the heap bytes held.
func (d *Distinct) sizeBytes() int {
	return int(d.bm.GetSizeInBytes()) + 12*len(d.dups.keys)
}
