package event

import (
	"math"
	"time"
	"unsafe"
)

// Value is a small tagged value: 24 bytes, no interface boxing. Strings keep
// their bytes behind p (n is the length); lists keep a *[]Value behind p;
// bools, ints, float bits, times (Unix nanoseconds, UTC) and durations
// (nanoseconds) live in n. The zero Value is nil.
type Value struct {
	p unsafe.Pointer
	n uint64
	k Kind
}

// Nil is the missing value.
var Nil Value

// BoolValue returns a bool value.
func BoolValue(b bool) Value {
	if b {
		return Value{n: 1, k: KindBool}
	}
	return Value{k: KindBool}
}

// IntValue returns an int value.
func IntValue(i int64) Value { return Value{n: uint64(i), k: KindInt} }

// FloatValue returns a float value.
func FloatValue(f float64) Value { return Value{n: math.Float64bits(f), k: KindFloat} }

// StringValue returns a string value. It does not copy s.
func StringValue(s string) Value {
	return Value{p: unsafe.Pointer(unsafe.StringData(s)), n: uint64(len(s)), k: KindString}
}

// TimeValue returns a time value from Unix nanoseconds (UTC).
func TimeValue(unixNano int64) Value { return Value{n: uint64(unixNano), k: KindTime} }

// DurationValue returns a duration value.
func DurationValue(d time.Duration) Value { return Value{n: uint64(d), k: KindDuration} }

// ListValue returns a list value. It does not copy items; the caller must not
// modify them afterwards.
func ListValue(items []Value) Value {
	return Value{p: unsafe.Pointer(&items), n: uint64(len(items)), k: KindList}
}

// Kind returns the value's kind; KindNil for a missing value.
func (v Value) Kind() Kind { return v.k }

// IsNil reports whether v is the missing value.
func (v Value) IsNil() bool { return v.k == KindNil }

// Bool returns the value of a bool; false for other kinds.
func (v Value) Bool() bool { return v.k == KindBool && v.n != 0 }

// Bits returns the value's payload word: an int's, time's or duration's
// two's complement, a bool's 0 or 1, a float's IEEE bits, a string's or
// list's length. With the kind, it is a scalar's identity (hash keys).
func (v Value) Bits() uint64 { return v.n }

// Int returns the value of an int; 0 for other kinds.
func (v Value) Int() int64 {
	if v.k != KindInt {
		return 0
	}
	return int64(v.n)
}

// Float returns the value of a float, or of an int converted; 0 otherwise.
func (v Value) Float() float64 {
	switch v.k {
	case KindFloat:
		return math.Float64frombits(v.n)
	case KindInt:
		return float64(int64(v.n))
	}
	return 0
}

// Str returns the value of a string; "" for other kinds.
func (v Value) Str() string {
	if v.k != KindString || v.n == 0 {
		return ""
	}
	return unsafe.String((*byte)(v.p), int(v.n))
}

// Time returns a time value as Unix nanoseconds; 0 for other kinds.
func (v Value) Time() int64 {
	if v.k != KindTime {
		return 0
	}
	return int64(v.n)
}

// Duration returns a duration value; 0 for other kinds.
func (v Value) Duration() time.Duration {
	if v.k != KindDuration {
		return 0
	}
	return time.Duration(v.n)
}

// List returns the items of a list; nil for other kinds. The caller must not
// modify them.
func (v Value) List() []Value {
	if v.k != KindList || v.p == nil {
		return nil
	}
	return *(*[]Value)(v.p)
}

// Equal reports whether two values are equal: same kind and same payload,
// except that ints and floats compare by numeric value.
func (v Value) Equal(w Value) bool {
	if v.k != w.k {
		if (v.k == KindInt && w.k == KindFloat) || (v.k == KindFloat && w.k == KindInt) {
			return v.Float() == w.Float()
		}
		return false
	}
	switch v.k {
	case KindNil:
		return true
	case KindString:
		return v.Str() == w.Str()
	case KindFloat:
		return v.Float() == w.Float()
	case KindList:
		a, b := v.List(), w.List()
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !a[i].Equal(b[i]) {
				return false
			}
		}
		return true
	}
	return v.n == w.n
}
