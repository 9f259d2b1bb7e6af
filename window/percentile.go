package window

import (
	"math"
	"sort"
)

// Percentile bounds, fixed so that results do not depend on configuration.
const (
	// PercentileExactMax is the largest number of values (NaNs aside) a
	// Percentile holds exactly, in a sorted slice (8 bytes a value, insert
	// and remove by binary search and memmove).
	PercentileExactMax = 1024
	// PercentileAccuracy is the relative error bound of the sketch that
	// takes over beyond PercentileExactMax values: the answer v' for an
	// exact percentile v satisfies |v'-v| <= PercentileAccuracy*|v|.
	PercentileAccuracy = 0.01
)

// Percentile maintains the values of a window for nearest-rank percentile
// queries, with insertion and removal in any order.
//
// Up to PercentileExactMax values it is exact. When an Add would exceed
// that, the values move to a DDSketch-style sketch: values are counted in
// logarithmic buckets of ratio gamma = (1+a)/(1-a), a = PercentileAccuracy,
// kept apart for positive and negative values, with zeros, infinities and
// NaNs counted exactly. A query returns the representative of the bucket
// holding the k-th smallest value, within relative error a of it. Buckets
// are dense between the smallest and largest index present, at most 2048 a
// sign, which spans a ratio of about 6e17 between the smallest and largest
// magnitude of one sign; past that the buckets of smallest magnitude merge,
// and only percentiles that fall in the merged bucket lose the bound.
// Magnitudes below the smallest normal float64 (2.2e-308) count as zero.
//
// A sketch returns to exact mode when the Percentile empties or is Reset;
// windows that keep their values (Sliding, CountSliding) rebuild the exact
// form from them once the count falls to PercentileExactMax/2, so a sliding
// percentile is exact whenever the window has held at most
// PercentileExactMax/2 values since it last held fewer.
//
// The zero Percentile is empty and ready to use.
type Percentile struct {
	sorted []float64 // exact mode: the values in ascending order
	n      int64     // values held, NaN excluded
	nan    int64
	sk     *sketch // allocated when first needed, kept for reuse
	sketch bool    // sk holds the values (sorted is empty)
}

// Add adds x; Missing is ignored.
func (p *Percentile) Add(x float64) {
	if x != x {
		if !missingNaN(x) {
			p.nan++
		}
		return
	}
	p.n++
	if !p.sketch {
		if len(p.sorted) < PercentileExactMax {
			i := sort.SearchFloat64s(p.sorted, x)
			p.sorted = append(p.sorted, 0)
			copy(p.sorted[i+1:], p.sorted[i:])
			p.sorted[i] = x
			return
		}
		if p.sk == nil {
			p.sk = new(sketch)
		}
		for _, v := range p.sorted {
			p.sk.add(v)
		}
		p.sorted = p.sorted[:0]
		p.sketch = true
	}
	p.sk.add(x)
}

// Remove removes one occurrence of x and reports whether it was present
// (never for Missing). In
// sketch mode presence is judged by bucket: removing a value that was never
// added but shares a bucket with one that was succeeds, so remove only what
// was added.
func (p *Percentile) Remove(x float64) bool {
	if x != x {
		if p.nan == 0 || missingNaN(x) {
			return false
		}
		p.nan--
		return true
	}
	if p.sketch {
		if !p.sk.remove(x) {
			return false
		}
		p.n--
		if p.n == 0 {
			p.sketch = false
		}
		return true
	}
	i := sort.SearchFloat64s(p.sorted, x)
	if i == len(p.sorted) || p.sorted[i] != x {
		return false
	}
	p.sorted = append(p.sorted[:i], p.sorted[i+1:]...)
	p.n--
	return true
}

// Quantile returns the nearest-rank q-percentile, q in [0, 1]: the k-th
// smallest value, k = ceil(q*n) clamped to [1, n]. It is NaN if any value
// is NaN, and has no value (ok == false) when empty.
func (p *Percentile) Quantile(q float64) (v float64, ok bool) {
	if p.nan > 0 {
		return math.NaN(), true
	}
	if p.n == 0 {
		return 0, false
	}
	k := rankOf(q, p.n)
	if !p.sketch {
		return p.sorted[k-1], true
	}
	return p.sk.at(uint64(k)), true
}

// Len returns the number of values held, NaNs included.
func (p *Percentile) Len() int64 { return p.n + p.nan }

// Exact reports whether queries are exact (not answered by the sketch).
func (p *Percentile) Exact() bool { return !p.sketch }

// Reset empties p and returns it to exact mode, keeping its buffers.
func (p *Percentile) Reset() {
	p.sorted = p.sorted[:0]
	p.n, p.nan = 0, 0
	if p.sketch {
		p.sk.reset()
		p.sketch = false
	}
}

// needsRebuild reports whether a sketch holds few enough values for the
// owner to rebuild the exact form (Reset, then Add every value again).
func (p *Percentile) needsRebuild() bool {
	return p.sketch && p.n <= PercentileExactMax/2
}

func (p *Percentile) sizeBytes() int {
	b := 8 * cap(p.sorted)
	if p.sk != nil {
		b += 8*(len(p.sk.pos.buf)+len(p.sk.neg.buf)) + 96
	}
	return b
}

// rankOf returns the 1-based nearest rank of quantile q among n > 0 values.
func rankOf(q float64, n int64) int64 {
	k := int64(math.Ceil(q * float64(n)))
	return min(max(k, 1), n)
}

const sketchMaxBuckets = 2048

var (
	sketchGamma = (1 + PercentileAccuracy) / (1 - PercentileAccuracy)
	sketchLnG   = math.Log(sketchGamma)
	// sketchRep is (1+a): bucket i covers (g^(i-1), g^i] and answers with
	// (1+a)*g^(i-1) = 2g^i/(g+1), within relative error a of every value in it.
	sketchRep = 1 + PercentileAccuracy
	minNormal = 0x1p-1022
)

// sketch is a DDSketch-style relative-error quantile sketch with exact
// deletion (bucket counts go down as well as up).
type sketch struct {
	pos, neg   logStore
	zero       uint64
	pinf, ninf uint64
}

func sketchIndex(m float64) int { return int(math.Ceil(math.Log(m) / sketchLnG)) }

func sketchValue(i int) float64 {
	v := math.Exp(float64(i-1)*sketchLnG) * sketchRep
	return min(v, math.MaxFloat64)
}

func (s *sketch) add(x float64) {
	switch {
	case math.IsInf(x, 1):
		s.pinf++
	case math.IsInf(x, -1):
		s.ninf++
	case math.Abs(x) < minNormal:
		s.zero++
	case x > 0:
		s.pos.add(sketchIndex(x))
	default:
		s.neg.add(sketchIndex(-x))
	}
}

func (s *sketch) remove(x float64) bool {
	switch {
	case math.IsInf(x, 1):
		return decrement(&s.pinf)
	case math.IsInf(x, -1):
		return decrement(&s.ninf)
	case math.Abs(x) < minNormal:
		return decrement(&s.zero)
	case x > 0:
		return s.pos.remove(sketchIndex(x))
	default:
		return s.neg.remove(sketchIndex(-x))
	}
}

func decrement(c *uint64) bool {
	if *c == 0 {
		return false
	}
	*c--
	return true
}

// at returns the estimate of the k-th smallest value, 1 <= k <= count.
func (s *sketch) at(k uint64) float64 {
	if k <= s.ninf {
		return math.Inf(-1)
	}
	k -= s.ninf
	neg := &s.neg
	for j := len(neg.buf) - 1; j >= 0; j-- { // most negative first
		if c := neg.buf[j]; c > 0 {
			if k <= c {
				return -sketchValue(neg.lo + j)
			}
			k -= c
		}
	}
	if k <= s.zero {
		return 0
	}
	k -= s.zero
	pos := &s.pos
	for j, c := range pos.buf {
		if c > 0 {
			if k <= c {
				return sketchValue(pos.lo + j)
			}
			k -= c
		}
	}
	return math.Inf(1)
}

func (s *sketch) reset() {
	s.pos.reset()
	s.neg.reset()
	s.zero, s.pinf, s.ninf = 0, 0, 0
}

// logStore counts bucket indices densely: buf[j] is the count of bucket
// lo+j. The buffer moves and grows (up to sketchMaxBuckets) to follow the
// indices present; beyond that span, indices below floor count in floor.
type logStore struct {
	buf       []uint64
	lo        int
	n         uint64
	floor     int
	collapsed bool
}

func (s *logStore) clampIndex(i int) int {
	if s.collapsed && i < s.floor {
		return s.floor
	}
	return i
}

func (s *logStore) add(i int) {
	i = s.clampIndex(i)
	if i < s.lo || i >= s.lo+len(s.buf) {
		i = s.makeRoom(i)
	}
	s.buf[i-s.lo]++
	s.n++
}

func (s *logStore) remove(i int) bool {
	i = s.clampIndex(i)
	if i < s.lo || i >= s.lo+len(s.buf) || s.buf[i-s.lo] == 0 {
		return false
	}
	s.buf[i-s.lo]--
	s.n--
	if s.n == 0 {
		s.collapsed = false
	}
	return true
}

func (s *logStore) reset() {
	clear(s.buf)
	s.n = 0
	s.collapsed = false
}

// makeRoom moves or grows the buffer so that it covers index i and every
// non-empty bucket, merging the lowest buckets if the span would exceed
// sketchMaxBuckets. It returns the index under which i is now counted.
func (s *logStore) makeRoom(i int) int {
	if s.n == 0 {
		if len(s.buf) == 0 {
			s.buf = make([]uint64, 64)
		}
		s.lo = i - len(s.buf)/2
		return i
	}
	dlo, dhi := s.dataRange()
	var carry uint64
	switch {
	case i < dlo && dhi-i+1 > sketchMaxBuckets:
		i = dhi - sketchMaxBuckets + 1
		s.collapsed, s.floor = true, i
	case i > dhi && i-dlo+1 > sketchMaxBuckets:
		f := i - sketchMaxBuckets + 1
		for j := dlo; j < f && j <= dhi; j++ {
			carry += s.buf[j-s.lo]
			s.buf[j-s.lo] = 0
		}
		s.collapsed, s.floor = true, f
		dlo = f
		dhi = max(dhi, f)
	}
	newLo, newHi := min(dlo, i), max(dhi, i)
	span := newHi - newLo + 1
	down := i < s.lo
	if span > len(s.buf) {
		size := min(max(2*len(s.buf), span), sketchMaxBuckets)
		nb := make([]uint64, size)
		base := newLo
		if down {
			base = newHi - size + 1
		}
		for j := max(s.lo, base); j < s.lo+len(s.buf) && j < base+size; j++ {
			nb[j-base] = s.buf[j-s.lo]
		}
		s.buf, s.lo = nb, base
	} else {
		base := newLo
		if down {
			base = newHi - len(s.buf) + 1
		}
		s.shift(base)
	}
	if carry > 0 {
		s.buf[s.floor-s.lo] += carry
	}
	return i
}

// shift moves the buffer in place to start at bucket base; every non-empty
// bucket must lie in the new range.
func (s *logStore) shift(base int) {
	d := base - s.lo
	switch {
	case d >= len(s.buf) || -d >= len(s.buf):
		clear(s.buf) // no bucket in common: the caller emptied them all
	case d > 0:
		copy(s.buf, s.buf[d:])
		clear(s.buf[len(s.buf)-d:])
	case d < 0:
		copy(s.buf[-d:], s.buf)
		clear(s.buf[:-d])
	}
	s.lo = base
}

// dataRange returns the lowest and highest non-empty bucket (n > 0).
func (s *logStore) dataRange() (lo, hi int) {
	a, b := 0, len(s.buf)-1
	for s.buf[a] == 0 {
		a++
	}
	for s.buf[b] == 0 {
		b--
	}
	return s.lo + a, s.lo + b
}
