package prefetch

import (
	"testing"
	"unsafe"
)

// A prefetch of any address returns: nil, a live object, past its end.
func TestLine(t *testing.T) {
	b := make([]uint64, 8)
	Line(nil)
	Line(unsafe.Pointer(&b[0]))
	Line(unsafe.Add(unsafe.Pointer(&b[0]), 1<<40))
	Line3(nil, unsafe.Pointer(&b[7]), unsafe.Add(unsafe.Pointer(&b[0]), 64))
}
