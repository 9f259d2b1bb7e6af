package lang

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// reservedTypes are the engine's built-in streams: no event type may take
// their names.
var reservedTypes = map[string]string{
	"late":    "the built-in stream of late events",
	"invalid": "the built-in stream of invalid input",
}

// declareEvents checks event declarations and builds their schemas.
func (c *checker) declareEvents() {
	c.allDecls(func(d Decl) {
		ed, ok := d.(*EventDecl)
		if !ok {
			return
		}
		name := ed.Name.Name
		if what, ok := reservedTypes[name]; ok {
			c.errorf(ed.Name.Pos, "event type name %q is reserved for %s", name, what)
		}
		if prev, ok := c.types[name]; ok {
			c.errorf(ed.Name.Pos, "event type %q is already declared at %s", name, where(prev.pos, ed.Name.Pos))
			return
		}
		t := &EventType{Name: name, Decl: ed, pos: ed.Name.Pos}
		c.types[name] = t
		c.typeList = append(c.typeList, t)

		var fields []event.Field
		seen := map[string]Position{}
		for _, fd := range ed.Fields {
			fname := fd.Name.Name
			typ, ok := c.fieldType(fd.Type)
			if p, dup := seen[fname]; dup {
				c.errorf(fd.Name.Pos, "field %q of %s is already declared at %s", fname, name, where(p, fd.Name.Pos))
				continue
			}
			seen[fname] = fd.Name.Pos
			if !ok {
				typ = event.Any // reported; keep the field so that uses are not reported too
			}
			fields = append(fields, event.Field{Name: fname, Type: typ})
		}
		timeField := ""
		if ed.Time != nil {
			timeField = ed.Time.Name
			i := -1
			for j, f := range fields {
				if f.Name == timeField {
					i = j
				}
			}
			switch {
			case i < 0:
				c.errorf(ed.Time.Pos, "time field %q is not a field of %s%s", timeField, name, didYouMean(timeField, fieldNames(fields)))
			case fields[i].Type.Kind != event.KindTime:
				c.errorf(ed.Time.Pos, "time field %q of %s is %s; it must be time", timeField, name, fields[i].Type)
			}
		}
		if ed.Lateness != nil && ed.Time == nil {
			c.errorf(ed.Lateness.Pos, "lateness needs a time field: %s has no time clause, so its events take their arrival time", name)
		}
		t.Schema = event.NewSchema(name, fields, timeField, durationOf(ed.Lateness))
	})
}

// fieldType resolves a declared field type, reporting unknown names.
func (c *checker) fieldType(ref *TypeRef) (event.Type, bool) {
	if ref == nil {
		return event.Any, false
	}
	if ref.Elem != nil {
		elem, ok := c.fieldType(ref.Elem)
		return event.ListOf(elem), ok
	}
	if t, ok := event.ParseType(ref.Name); ok {
		return t, true
	}
	if s := suggest(ref.Name, event.TypeNames); s != "" {
		c.errorf(ref.Pos, "unknown type %q; did you mean %q?", ref.Name, s)
	} else {
		c.errorf(ref.Pos, "unknown type %q; expected bool, int, float, string, time, duration, any or a list [T]", ref.Name)
	}
	return event.Any, false
}

func fieldNames(fields []event.Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

func durationOf(d *Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.Value
}

// emitName finds the types a broken rule emits, so that rules reading them
// are not told the type is unknown.
var emitName = regexp.MustCompile(`\bemit\s+([\p{L}_$][\p{L}\p{N}_$]*)`)

// declareBroken records the names of declarations that did not parse.
func (c *checker) declareBroken() {
	for _, f := range c.files {
		if f == nil {
			continue
		}
		for _, b := range f.Broken {
			switch b.Kind {
			case "event":
				if b.Name != "" {
					c.unknownType(b.Name, b.Pos)
				}
			case "const":
				if b.Name != "" {
					c.brokenName[b.Name] = true
				}
			case "rule":
				end := len(f.Src)
				for _, d := range f.Decls {
					if o := d.Start().Offset; o > b.Pos.Offset && o < end {
						end = o
					}
				}
				for _, o := range f.Broken {
					if o.Pos.Offset > b.Pos.Offset && o.Pos.Offset < end {
						end = o.Pos.Offset
					}
				}
				if b.Pos.Offset <= end && end <= len(f.Src) {
					for _, m := range emitName.FindAllStringSubmatch(string(f.Src[b.Pos.Offset:end]), -1) {
						c.unknownType(m[1], b.Pos)
					}
				}
			}
		}
	}
}

func (c *checker) unknownType(name string, pos Position) {
	if _, ok := c.types[name]; !ok {
		c.types[name] = &EventType{Name: name, pos: pos, unknown: true}
	}
}

// where describes a position relative to another: "column 7" on the same
// line, "line 3" in the same file, "file:3:5" in another.
func where(p, from Position) string {
	switch {
	case p.Filename == from.Filename && p.Line == from.Line:
		return fmt.Sprintf("column %d", p.Column)
	case p.Filename == from.Filename:
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
}

// checkConsts checks const declarations in program order: a const's value
// is a constant expression over the consts declared before it.
func (c *checker) checkConsts() {
	var decls []*ConstDecl
	c.allDecls(func(d Decl) {
		if cd, ok := d.(*ConstDecl); ok {
			decls = append(decls, cd)
			if _, ok := c.constDecl[cd.Name.Name]; !ok {
				c.constDecl[cd.Name.Name] = cd
			}
		}
	})
	declaredAt := map[*ConstDecl]int{}
	for i, cd := range decls {
		declaredAt[cd] = i
	}
	for i, cd := range decls {
		name := cd.Name.Name
		if first := c.constDecl[name]; first != cd {
			c.errorf(cd.Name.Pos, "const %q is already declared at %s", name, where(first.Name.Pos, cd.Name.Pos))
			continue
		}
		if cd.Value == nil {
			continue
		}
		bad := false
		for _, tok := range identifiers(cd.Value) {
			if tok.call {
				if tok.name == "now" {
					c.errorf(tok.pos, "const %q must be constant; now() changes at every call", name)
					bad = true
				}
				continue
			}
			if other, ok := c.constDecl[tok.name]; ok && declaredAt[other] >= i {
				if other == cd {
					c.errorf(tok.pos, "const %q refers to itself", name)
				} else {
					c.errorf(tok.pos, "const %q refers to %q, which is declared later (%s); a const may use only consts declared before it", name, tok.name, where(other.Name.Pos, tok.pos))
				}
				bad = true
			}
		}
		if bad {
			c.brokenName[name] = true
			continue
		}
		env := eval.NewEnv()
		c.addConsts(env)
		comp := c.compile(cd.Value, env)
		if comp == nil {
			c.brokenName[name] = true
			continue
		}
		m := eval.NewMachine()
		v := m.Eval(comp.Program, &eval.Frame{})
		if m.Errors() > 0 {
			pos, msg := cd.Value.Pos, m.LastError().Error()
			var rerr *eval.RuntimeError
			if errors.As(m.LastError(), &rerr) {
				if rerr.Line > 0 && rerr.Col > 0 {
					pos = cd.Value.MapPos(rerr.Line, rerr.Col)
				}
				msg = strings.TrimPrefix(rerr.Err.Error(), "eval: ")
			}
			c.errorf(pos, "const %q cannot be computed: %s", name, msg)
			c.brokenName[name] = true
			continue
		}
		if v.IsNil() {
			c.errorf(cd.Value.Pos, "const %q is nil; a const needs a value", name)
			c.brokenName[name] = true
			continue
		}
		typ := comp.Type()
		if typ.Kind == event.KindAny || typ.Kind == event.KindNil {
			typ = event.Type{Kind: v.Kind()}
			if typ.Kind == event.KindList {
				typ = event.ListOf(event.Any)
			}
		}
		k := &Const{Name: name, Decl: cd, Type: typ, Value: v}
		c.consts[name] = k
		c.constList = append(c.constList, k)
	}
}

// addConsts adds the checked consts to env, except names env already has
// (a field or alias hides a const of the same name). Consts whose
// declaration is broken become variables of type any, so that their uses are
// not reported as unknown.
func (c *checker) addConsts(env *eval.Env) {
	taken := map[string]bool{}
	for _, n := range env.Names() {
		taken[n] = true
	}
	for _, k := range c.constList {
		if !taken[k.Name] {
			env.Const(k.Name, k.Value)
			taken[k.Name] = true
		}
	}
	for _, n := range sortedKeys(c.brokenName) {
		if !taken[n] {
			env.Var(n, event.Any, 1<<20)
		}
	}
}

// ident is a free name an expression mentions (not a member x.name, not a
// map literal key), found by scanning its text.
type ident struct {
	name string
	pos  Position // in the file
	call bool     // followed by "(": a function name
	// field: the name after a following "." or "?." (x.field), else "".
	field string
	// aggDepth is how many aggregate calls (count( sum( ...) enclose it.
	aggDepth int
}

// aggregateNames are the window aggregate functions.
var aggregateNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true, "first": true, "last": true,
	"stddev": true, "var": true, "count_distinct": true, "percentile": true,
}

// identifiers lists the free names an expression mentions, skipping
// members (x.name), map keys, strings and comments. It is a light scan for
// better messages (a later const, a non-key field in a window rule, an
// alias out of scope); eval's type checker remains the authority.
func identifiers(x *Expr) []ident {
	toks := scanExpr(x.Text, -1)
	var out []ident
	type frame struct {
		agg   bool
		brace bool
	}
	var stack []frame
	aggDepth := 0
	isDot := func(i int) bool { return i >= 0 && i < len(toks) && (toks[i].text == "." || toks[i].text == "?.") }
	for i, t := range toks {
		if !t.name {
			switch t.text {
			case "(", "[", "{":
				f := frame{brace: t.text == "{"}
				if t.text == "(" && i > 0 && toks[i-1].name && aggregateNames[toks[i-1].text] && !isDot(i-2) {
					f.agg = true
					aggDepth++
				}
				stack = append(stack, f)
			case ")", "]", "}":
				if n := len(stack); n > 0 {
					if stack[n-1].agg {
						aggDepth--
					}
					stack = stack[:n-1]
				}
			}
			continue
		}
		if isDot(i-1) || isExprWord(t.text) {
			continue
		}
		if i+1 < len(toks) && toks[i+1].text == ":" && len(stack) > 0 && stack[len(stack)-1].brace {
			continue // a map literal key
		}
		id := ident{name: t.text, pos: x.MapPos(t.line, t.col), aggDepth: aggDepth}
		if i+1 < len(toks) && toks[i+1].text == "(" {
			id.call = true
		}
		if isDot(i+1) && i+2 < len(toks) && toks[i+2].name {
			id.field = toks[i+2].text
		}
		out = append(out, id)
	}
	return out
}

// exprToken is one token of expression text: a name, or any other token
// (punctuation, number, string).
type exprToken struct {
	text      string
	name      bool
	line, col int // 1-based, columns in runes
}

// scanExpr splits expr-lang source into tokens, enough to find names and
// the punctuation around them; it returns at most max tokens (all when max
// < 0). Strings and numbers are single tokens; comments are skipped.
func scanExpr(src string, max int) []exprToken {
	var out []exprToken
	line, col := 1, 1
	i := 0
	advance := func(to int) {
		for _, r := range src[i:to] {
			if r == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		i = to
	}
	for i < len(src) && (max < 0 || len(out) < max) {
		r, size := utf8.DecodeRuneInString(src[i:])
		start, l, c := i, line, col
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r':
			advance(i + size)
			continue
		case strings.HasPrefix(src[i:], "//"):
			j := strings.IndexByte(src[i:], '\n')
			if j < 0 {
				j = len(src) - i
			}
			advance(i + j)
			continue
		case strings.HasPrefix(src[i:], "/*"):
			j := strings.Index(src[i+2:], "*/")
			if j < 0 {
				j = len(src) - i - 4
			}
			advance(i + j + 4)
			continue
		case r == '_' || r == '$' || unicode.IsLetter(r):
			j := i + size
			for j < len(src) {
				r2, n := utf8.DecodeRuneInString(src[j:])
				if r2 != '_' && r2 != '$' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
					break
				}
				j += n
			}
			advance(j)
			out = append(out, exprToken{text: src[start:j], name: true, line: l, col: c})
			continue
		case r >= '0' && r <= '9':
			j := i + 1
			for j < len(src) {
				b := src[j]
				if b == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9' {
					j += 2
					continue
				}
				if b != '_' && !(b >= '0' && b <= '9') && !(b >= 'a' && b <= 'z') && !(b >= 'A' && b <= 'Z') {
					break
				}
				j++
			}
			advance(j)
		case r == '"' || r == '\'' || r == '`':
			j := i + 1
			for j < len(src) && src[j] != byte(r) {
				if src[j] == '\\' && r != '`' {
					j++
				}
				j++
			}
			advance(min(j+1, len(src)))
		case strings.HasPrefix(src[i:], "?."):
			advance(i + 2)
		default:
			advance(i + size)
		}
		out = append(out, exprToken{text: src[start:i], line: l, col: c})
	}
	return out
}

// isExprWord reports expr's operator words and literals, which are not names.
func isExprWord(s string) bool {
	switch s {
	case "and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith",
		"true", "false", "nil", "let", "if", "else":
		return true
	}
	return false
}
