package window

import "math"

// timeOK reports whether an event at ts, whose windows reach span before
// and after it, may enter a window whose time is now: not before now, and
// far enough from the ends of the int64 range that every window bound and
// expiry time is exact and below math.MaxInt64, the end-of-input watermark.
// This excludes only the first and last span of the years 1677 to 2262.
func timeOK(ts, now, span int64) bool {
	return ts >= now && ts >= math.MinInt64+span && ts < math.MaxInt64-span
}

// floorMod returns a mod b in [0, b) for b > 0, also for negative a (times
// before 1970), so that windows stay aligned to the epoch.
func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// floorDiv returns floor(a / b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
