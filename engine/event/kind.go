package event

import "strings"

// Kind is the kind of a value or of a declared field.
type Kind uint8

// The kinds. KindNil is the zero Value (a missing field); KindAny is only a
// declared type ("any"): a value of a field declared any has its own kind.
const (
	KindNil Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindTime
	KindDuration
	KindList
	KindAny
)

var kindNames = [...]string{
	KindNil:      "nil",
	KindBool:     "bool",
	KindInt:      "int",
	KindFloat:    "float",
	KindString:   "string",
	KindTime:     "time",
	KindDuration: "duration",
	KindList:     "list",
	KindAny:      "any",
}

// String returns the kind's name as written in rule files.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(?)"
}

// Type is a declared field type: a kind, and for lists the element type.
type Type struct {
	Kind Kind
	Elem *Type // element type of a list; nil otherwise
}

// Scalar types, for convenience.
var (
	Any      = Type{Kind: KindAny}
	Bool     = Type{Kind: KindBool}
	Int      = Type{Kind: KindInt}
	Float    = Type{Kind: KindFloat}
	String   = Type{Kind: KindString}
	Time     = Type{Kind: KindTime}
	Duration = Type{Kind: KindDuration}
)

// ListOf returns the type [elem].
func ListOf(elem Type) Type { return Type{Kind: KindList, Elem: &elem} }

// String returns the type as written in rule files: "float", "[string]".
func (t Type) String() string {
	if t.Kind == KindList {
		var b strings.Builder
		b.WriteByte('[')
		if t.Elem != nil {
			b.WriteString(t.Elem.String())
		} else {
			b.WriteString("any")
		}
		b.WriteByte(']')
		return b.String()
	}
	return t.Kind.String()
}

// Equal reports whether two types are the same.
func (t Type) Equal(u Type) bool {
	if t.Kind != u.Kind {
		return false
	}
	if t.Kind != KindList {
		return true
	}
	switch {
	case t.Elem == nil && u.Elem == nil:
		return true
	case t.Elem == nil || u.Elem == nil:
		return false
	}
	return t.Elem.Equal(*u.Elem)
}

// ParseType parses a scalar type name ("int", "string", ...). Lists are
// built with ListOf by the caller, which owns the list syntax.
func ParseType(name string) (Type, bool) {
	switch name {
	case "bool":
		return Bool, true
	case "int":
		return Int, true
	case "float":
		return Float, true
	case "string":
		return String, true
	case "time":
		return Time, true
	case "duration":
		return Duration, true
	case "any":
		return Any, true
	}
	return Type{}, false
}

// TypeNames lists the scalar type names, for "did you mean" suggestions.
var TypeNames = []string{"bool", "int", "float", "string", "time", "duration", "any"}
