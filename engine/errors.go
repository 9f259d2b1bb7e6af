package engine

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Pos is a source position: in a rule file (for Build errors) or in an input
// stream (for invalid and late records). Line and Col are 1-based; Col counts
// bytes. Offset is the 0-based byte offset in the input, -1 or 0 when unknown.
// The zero Pos is "unknown".
type Pos struct {
	File   string
	Line   int
	Col    int
	Offset int64
}

// IsValid reports whether the position is known.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "file:line:col", "file:line", "line:col" or "" as known.
func (p Pos) String() string {
	var b []byte
	b = p.appendTo(b)
	return string(b)
}

func (p Pos) appendTo(b []byte) []byte {
	if p.File != "" {
		b = append(b, p.File...)
		if p.Line > 0 {
			b = append(b, ':')
		}
	}
	if p.Line > 0 {
		b = strconv.AppendInt(b, int64(p.Line), 10)
		if p.Col > 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(p.Col), 10)
		}
	}
	return b
}

// Sentinel errors of the builder (wrapped by *BuildError) and of the matcher
// (in Record.Err). Test them with errors.Is.
var (
	ErrUnknownType    = errors.New("engine: unknown event type")
	ErrDuplicate      = errors.New("engine: duplicate declaration")
	ErrUnknownField   = errors.New("engine: unknown field")
	ErrReserved       = errors.New("engine: reserved name")
	ErrExpr           = errors.New("engine: invalid expression")
	ErrRule           = errors.New("engine: invalid rule")
	ErrSchemaMismatch = errors.New("engine: emitted fields do not match the event type")
	ErrCycle          = errors.New("engine: cycle between rules")

	ErrFieldType   = errors.New("engine: field of the wrong type")
	ErrFieldCount  = errors.New("engine: wrong number of fields")
	ErrMissingTime = errors.New("engine: missing event time")
	ErrLate        = errors.New("engine: event behind the watermark")
	ErrReentrant   = errors.New("engine: matcher called from its own handler")
	ErrClosed      = errors.New("engine: matcher closed")
)

// BuildError is one error found by Builder.Build: where, in which rule (""
// for declarations), what. Err wraps one of the sentinel errors.
type BuildError struct {
	Pos  Pos
	Rule string
	Msg  string
	Err  error

	order int // rule index (declarations -1), for a stable report order
	seq   int
}

func (e *BuildError) Error() string {
	var b strings.Builder
	if e.Pos.IsValid() || e.Pos.File != "" {
		b.WriteString(e.Pos.String())
		b.WriteString(": ")
	}
	if e.Rule != "" {
		b.WriteString("rule ")
		b.WriteString(e.Rule)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *BuildError) Unwrap() error { return e.Err }

// ErrorList is every error Build found, in declaration and rule order.
// Error() is the first one plus "(and N more errors)".
type ErrorList []*BuildError

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	return l[0].Error() + " (and " + strconv.Itoa(len(l)-1) + " more errors)"
}

// Unwrap lets errors.Is and errors.As see every error of the list.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.order != b.order {
			return a.order < b.order
		}
		return a.seq < b.seq
	})
}
