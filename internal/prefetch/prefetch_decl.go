//go:build amd64 || arm64

package prefetch

import "unsafe"

// Line hints that the cache line holding p will be read soon. p may be any
// address (nil, freed, out of range): a prefetch never faults.
//
//go:noescape
func Line(p unsafe.Pointer)

// Line3 is Line of p, q and r, in one call.
//
//go:noescape
func Line3(p, q, r unsafe.Pointer)
