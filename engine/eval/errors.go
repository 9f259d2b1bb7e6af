package eval

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Error is a compile error at a 1-based line and column of the expression's
// source text. Columns count characters (runes), as expr's lexer does.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
}

// ErrorList is every compile error of an expression, sorted by position and
// without duplicates. Compile always returns a non-empty *ErrorList; it
// unwraps to its *Error values, so errors.As(err, &e) with e *Error finds
// the first.
type ErrorList []*Error

func (l *ErrorList) Error() string {
	switch len(*l) {
	case 0:
		return "no errors"
	case 1:
		return (*l)[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", (*l)[0].Error(), len(*l)-1)
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l *ErrorList) Unwrap() []error {
	errs := make([]error, len(*l))
	for i, e := range *l {
		errs[i] = e
	}
	return errs
}

func (l *ErrorList) add(line, col int, format string, args ...any) {
	*l = append(*l, &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// sortDedup sorts by position and drops a later error at a position that
// already has one: the first (our own, more specific) message wins.
func (l *ErrorList) sortDedup() {
	sort.SliceStable(*l, func(i, j int) bool {
		a, b := (*l)[i], (*l)[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	out := (*l)[:0]
	for _, e := range *l {
		if n := len(out); n > 0 && out[n-1].Line == e.Line && out[n-1].Col == e.Col {
			continue
		}
		out = append(out, e)
	}
	*l = out
}

// Sentinel runtime errors, wrapped in a *RuntimeError by Machine.LastError.
var (
	ErrDivideByZero    = errors.New("eval: integer divide by zero")
	ErrIndexOutOfRange = errors.New("eval: index out of range")
	ErrNotBool         = errors.New("eval: condition is not a bool")
	ErrNotInt          = errors.New("eval: % needs two ints")
	ErrNotNumber       = errors.New("eval: sum needs numbers")
	ErrTimeRange       = errors.New("eval: time out of range (1677-09-21 to 2262-04-11)")
	ErrVM              = errors.New("eval: expression failed")
)

// RuntimeError is an evaluation failure at a position of a program's
// source. Err is one of the sentinel errors, possibly wrapping expr's.
type RuntimeError struct {
	Source    string // the text Line and Col refer to: the program's source, or for an aggregate's argument the whole expression
	Line, Col int
	Err       error
}

func (e *RuntimeError) Error() string {
	return strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Err.Error()
}

func (e *RuntimeError) Unwrap() error { return e.Err }

// position converts a rune offset of src to a 1-based line and column.
func position(src string, offset int) (line, col int) {
	line, col = 1, 1
	i := 0
	for _, r := range src {
		if i == offset {
			break
		}
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// suggest returns the candidate closest to name by edit distance, if it is
// close enough to be a plausible typo.
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	for _, c := range candidates {
		if c == name || strings.HasPrefix(c, "$") {
			continue
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	if bestD <= limit && bestD < len(name) {
		return best
	}
	return ""
}

// editDistance is the optimal string alignment distance over runes:
// insertions, deletions, substitutions and transpositions of neighbours
// each cost one, so "qyt" is one edit from "qty".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func withSuggestion(msg, name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return msg + "; did you mean " + s + "?"
	}
	return msg
}
