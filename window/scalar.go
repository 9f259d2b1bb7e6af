package window

import "math"

// finite reports whether x is neither NaN nor infinite (x-x is NaN for both).
func finite(x float64) bool { return x-x == 0 }

// nonFinite counts the NaNs and infinities of a window apart from the
// running sums: IEEE arithmetic cannot undo them (Inf - Inf is NaN), so
// keeping them out lets a sliding window recover an exact finite result
// when they leave. It also counts the Missing values, which take no part
// in any result. uint32 counts bound the non-finite and the missing values
// (not the events) of one window to 2^32-1 each.
type nonFinite struct {
	nan, pinf, ninf, miss uint32
}

func (c *nonFinite) add(x float64) {
	switch {
	case x != x:
		if missingNaN(x) {
			c.miss++
		} else {
			c.nan++
		}
	case x > 0:
		c.pinf++
	default:
		c.ninf++
	}
}

func (c *nonFinite) remove(x float64) {
	switch {
	case x != x:
		if missingNaN(x) {
			c.miss--
		} else {
			c.nan--
		}
	case x > 0:
		c.pinf--
	default:
		c.ninf--
	}
}

// total counts the values kept out of the finite running state.
func (c nonFinite) total() int64 {
	return int64(c.nan) + int64(c.pinf) + int64(c.ninf) + int64(c.miss)
}

// special reports whether a NaN or an infinity is present.
func (c nonFinite) special() bool { return c.nan|c.pinf|c.ninf != 0 }

// sumOf returns the IEEE sum of the non-finite values counted, and whether
// there are any: the result of a sum or mean that includes them.
func (c nonFinite) sumOf() (float64, bool) {
	switch {
	case c.nan > 0 || (c.pinf > 0 && c.ninf > 0):
		return math.NaN(), true
	case c.pinf > 0:
		return math.Inf(1), true
	case c.ninf > 0:
		return math.Inf(-1), true
	}
	return 0, false
}

// scalar is the fixed-size state of one numeric aggregate, shared by several
// kinds so that an Acc keeps all of them in one slice:
//
//	sum, avg:  a = running sum, b = Neumaier compensation, nf = non-finite and missing values
//	var, std:  a = mean, b = M2 (Welford), nf = non-finite and missing values
//	min, max:  a = current extreme (add-only windows), nf.nan = NaNs (sliding), nf.miss = missing values
type scalar struct {
	a, b float64
	nf   nonFinite
}

// sumAdd adds x with Neumaier's compensation (Kahan's, also correct when x
// is larger than the running sum).
func (s *scalar) sumAdd(x float64) {
	if !finite(x) {
		s.nf.add(x)
		return
	}
	s.compensated(x)
}

func (s *scalar) compensated(x float64) { s.a, s.b = neumaier(s.a, s.b, x) }

// neumaier adds finite x to the running sum a with compensation b.
func neumaier(a, b, x float64) (float64, float64) {
	t := a + x
	if math.Abs(a) >= math.Abs(x) {
		b += (a - t) + x
	} else {
		b += (x - t) + a
	}
	return t, b
}

// present returns how many of the n values of the window are not missing.
func (s *scalar) present(n int64) int64 { return n - int64(s.nf.miss) }

func (s *scalar) sum() float64 {
	if s.nf.special() {
		v, _ := s.nf.sumOf()
		return v
	}
	return s.a + s.b
}

// welAdd adds x to Welford's mean and M2; n is the number of values in the
// window including x.
func (s *scalar) welAdd(x float64, n int64) {
	if !finite(x) {
		s.nf.add(x)
		return
	}
	k := float64(n - s.nf.total())
	d := x - s.a
	s.a += d / k
	s.b += d * (x - s.a)
}

// welRemove inverts welAdd; n is the number of values left after removing
// x. The inverse recurrence is mean' = mean - (x-mean)/k and
// M2' = M2 - (x-mean)(x-mean') with k values left. It reports whether the
// subtraction cancelled more than 16 bits of M2 (a removed outlier leaving
// a narrow window), or left a single value: then the owner should recompute
// from the values, as the recurrence alone would keep the rounding error.
func (s *scalar) welRemove(x float64, n int64) (lost bool) {
	if !finite(x) {
		s.nf.remove(x)
		return false
	}
	k := n - s.nf.total()
	if k <= 0 {
		s.a, s.b = 0, 0
		return false
	}
	d := x - s.a
	s.a -= d / float64(k)
	term := d * (x - s.a)
	s.b -= term
	if k == 1 || s.b < 0 {
		// One value has no spread; rounding must not make M2 negative.
		s.b = 0
		return true
	}
	return term > 0x1p16*s.b
}

// variance returns the sample variance of the values of a window of n
// events, missing values aside.
func (s *scalar) variance(n int64) (float64, bool) {
	k := s.present(n)
	if k < 2 {
		return 0, false
	}
	if s.nf.special() {
		return math.NaN(), true
	}
	return s.b / float64(k-1), true
}
