package event

import (
	"math"
	"testing"
	"time"
	"unsafe"
)

func TestValue_kinds(t *testing.T) {
	items := []Value{IntValue(1), StringValue("x")}
	for _, tc := range []struct {
		v    Value
		kind Kind
		get  func(Value) any
		want any
	}{
		{Nil, KindNil, func(v Value) any { return v.IsNil() }, true},
		{BoolValue(true), KindBool, func(v Value) any { return v.Bool() }, true},
		{BoolValue(false), KindBool, func(v Value) any { return v.Bool() }, false},
		{IntValue(-42), KindInt, func(v Value) any { return v.Int() }, int64(-42)},
		{IntValue(7), KindInt, func(v Value) any { return v.Float() }, 7.0},
		{FloatValue(2.5), KindFloat, func(v Value) any { return v.Float() }, 2.5},
		{StringValue("héllo"), KindString, func(v Value) any { return v.Str() }, "héllo"},
		{StringValue(""), KindString, func(v Value) any { return v.Str() }, ""},
		{TimeValue(1_700_000_000_000_000_000), KindTime, func(v Value) any { return v.Time() }, int64(1_700_000_000_000_000_000)},
		{DurationValue(5 * time.Minute), KindDuration, func(v Value) any { return v.Duration() }, 5 * time.Minute},
		{ListValue(items), KindList, func(v Value) any { return len(v.List()) }, 2},
		// Accessors of another kind give the zero value, never a panic.
		{StringValue("x"), KindString, func(v Value) any { return v.Int() }, int64(0)},
		{IntValue(3), KindInt, func(v Value) any { return v.Str() }, ""},
		{FloatValue(1), KindFloat, func(v Value) any { return v.List() == nil }, true},
	} {
		if tc.v.Kind() != tc.kind {
			t.Errorf("%v: kind %v, want %v", tc.want, tc.v.Kind(), tc.kind)
		}
		if got := tc.get(tc.v); got != tc.want {
			t.Errorf("%v (%v): got %v", tc.want, tc.kind, got)
		}
	}
	if s := unsafe.Sizeof(Value{}); s != 24 {
		t.Errorf("Value is %d bytes; the engine's memory figures assume 24", s)
	}
}

func TestValue_equal(t *testing.T) {
	nan := FloatValue(math.NaN())
	for _, tc := range []struct {
		a, b Value
		want bool
	}{
		{IntValue(3), FloatValue(3), true},
		{FloatValue(3), IntValue(3), true},
		{IntValue(3), FloatValue(3.5), false},
		{StringValue("a"), StringValue("a"), true},
		{StringValue("a"), StringValue("b"), false},
		{Nil, Nil, true},
		{Nil, IntValue(0), false},
		{BoolValue(false), IntValue(0), false},
		{nan, nan, false},
		{ListValue([]Value{IntValue(1), StringValue("x")}), ListValue([]Value{FloatValue(1), StringValue("x")}), true},
		{ListValue([]Value{IntValue(1)}), ListValue([]Value{IntValue(1), IntValue(2)}), false},
		{TimeValue(5), DurationValue(5), false},
	} {
		if got := tc.a.Equal(tc.b); got != tc.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestType_strings(t *testing.T) {
	for _, tc := range []struct {
		t    Type
		want string
	}{
		{Int, "int"}, {ListOf(String), "[string]"}, {ListOf(ListOf(Float)), "[[float]]"}, {Type{Kind: KindList}, "[any]"},
	} {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
	for _, name := range TypeNames {
		typ, ok := ParseType(name)
		if !ok || typ.String() != name {
			t.Errorf("ParseType(%q) = %v, %v", name, typ, ok)
		}
	}
	if _, ok := ParseType("strng"); ok {
		t.Error("ParseType accepted strng")
	}
	if !ListOf(Int).Equal(ListOf(Int)) || ListOf(Int).Equal(ListOf(Float)) || Int.Equal(Float) {
		t.Error("Type.Equal is wrong")
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry()
	a := NewSchema("A", []Field{{"x", Int}, {"at", Time}}, "at", time.Second)
	b := NewSchema("B", []Field{{"y", String}}, "", 0)
	if !r.Add(a) || !r.Add(b) {
		t.Fatal("Add refused a new name")
	}
	if r.Add(NewSchema("A", nil, "", 0)) {
		t.Error("Add accepted a duplicate name")
	}
	if a.ID != 0 || b.ID != 1 || r.Len() != 2 || r.ByID(1) != b {
		t.Errorf("ids: a=%d b=%d len=%d", a.ID, b.ID, r.Len())
	}
	if s, ok := r.Lookup("B"); !ok || s != b {
		t.Error("Lookup(B) failed")
	}
	if a.TimeSlot != 1 || b.TimeSlot != -1 {
		t.Errorf("time slots %d, %d; want 1, -1", a.TimeSlot, b.TimeSlot)
	}
	if slot, ok := a.Slot("x"); !ok || slot != 0 {
		t.Errorf("Slot(x) = %d, %v", slot, ok)
	}
	if _, ok := a.Slot("nope"); ok {
		t.Error("Slot found an undeclared field")
	}
	e1, e2, e3 := Event{Time: 1, Seq: 2}, Event{Time: 1, Seq: 3}, Event{Time: 0, Seq: 9}
	if !e1.Before(&e2) || e2.Before(&e1) || !e3.Before(&e1) {
		t.Error("Before does not order by (time, seq)")
	}
}
