package lang

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// Keywords are the reserved words: they start declarations and clauses, so
// they end an expression. Other words of the grammar (time, by, gap, sliding,
// count, first, last, not, until, ...) are only special where the grammar
// expects them and stay usable as names.
var Keywords = []string{"event", "const", "rule", "from", "where", "partition", "window", "match", "within", "skip", "having", "emit", "output"}

var lexDef = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Comment", Pattern: `//[^\n]*|/\*([^*]|\*+[^*/])*\*+/`},
	{Name: "Whitespace", Pattern: `[ \t\r\n]+`},
	{Name: "Duration", Pattern: `(\d+(ns|us|µs|ms|s|m|h|d))+\b`},
	{Name: "Float", Pattern: `\d[\d_]*\.\d[\d_]*([eE][-+]?\d+)?|\d[\d_]*[eE][-+]?\d+`},
	{Name: "Int", Pattern: `0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*`},
	{Name: "String", Pattern: `"(\\.|[^"\\\n])*"|'(\\.|[^'\\\n])*'|` + "`[^`]*`"},
	// Keywords are lexed as names and retyped by keywordMapper, so that a
	// name that merely starts with one (matché, events) stays a name.
	{Name: "Keyword", Pattern: `[^\x00-\x{10FFFF}]`},
	{Name: "Ident", Pattern: `[\p{L}_$][\p{L}\p{N}_$]*`},
	{Name: "Punct", Pattern: `->>|->|==|!=|<=|>=|&&|\|\||\?\?|\?\.|\.\.|\*\*|[-+*/%^<>=!?:.,;|&#@~()\[\]{}]`},
	// Anything else is one bad character, so that the lexer never stops
	// early and the parser reports it with its position.
	{Name: "Bad", Pattern: `.|\n`},
})

var (
	symbols       = lexDef.Symbols()
	tokComment    = symbols["Comment"]
	tokWhitespace = symbols["Whitespace"]
	tokFloat      = symbols["Float"]
	tokString     = symbols["String"]
	tokKeyword    = symbols["Keyword"]
	tokIdent      = symbols["Ident"]
	tokPunct      = symbols["Punct"]
	tokDuration   = symbols["Duration"]
	tokInt        = symbols["Int"]
	tokBad        = symbols["Bad"]
)

var parser = participle.MustBuild[File](
	participle.Lexer(lexDef),
	participle.Elide("Comment", "Whitespace"),
	participle.Map(keywordMapper, "Ident"),
	participle.Union[Decl](&EventDecl{}, &ConstDecl{}, &Rule{}),
	participle.Union[Clause](&FromClause{}, &PartitionClause{}, &WindowClause{}, &MatchClause{},
		&WithinClause{}, &SkipClause{}, &HavingClause{}, &EmitClause{}, &TimeoutClause{}, &OutputClause{}),
	participle.Union[WindowSpec](&TumblingWindow{}, &HoppingWindow{}, &SlidingCountWindow{},
		&SlidingWindow{}, &CountWindow{}, &SessionWindow{}),
	participle.UseLookahead(3),
)

var isKeyword = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range Keywords {
		m[k] = true
	}
	return m
}()

func keywordMapper(t lexer.Token) (lexer.Token, error) {
	if isKeyword[t.Value] {
		t.Type = tokKeyword
	}
	return t, nil
}

// maxSource bounds the input: a larger file is refused rather than parsed.
const maxSource = 16 << 20

// maxNesting bounds bracket nesting. The parser recurses once per pattern
// group or list type: deeper input takes time superlinear in the depth
// (100000 groups: 39 s) and at about 400000 overflows the stack, a fatal
// error that recover cannot catch.
const maxNesting = 1000

// Parse parses a rule file. On syntax errors it returns the declarations
// that did parse and an ErrorList holding one error per broken declaration;
// callers must not run a file that has any error.
func Parse(filename string, src []byte) (*File, error) {
	if len(src) > maxSource {
		var errs ErrorList
		errs.Add(Position{Filename: filename, Line: 1, Column: 1}, "file is %d bytes; at most %d are accepted", len(src), maxSource)
		return &File{Name: filename, Src: src}, errs
	}
	if !utf8.Valid(src) {
		var errs ErrorList
		errs.Add(invalidUTF8Pos(filename, src), "file is not valid UTF-8")
		return &File{Name: filename, Src: src}, errs
	}
	toks, err := tokenize(filename, src)
	if err != nil {
		var errs ErrorList
		errs.Add(Position{Filename: filename, Line: 1, Column: 1}, "%s", err)
		return &File{Name: filename, Src: src}, errs
	}
	if pos, ok := tooDeep(toks); ok {
		var errs ErrorList
		errs.Add(pos, "brackets nested more than %d deep", maxNesting)
		return &File{Name: filename, Src: src, Comments: comments(toks)}, errs
	}
	f, err := parseTokens(toks, endOf(filename, toks))
	if err == nil {
		f.Name, f.Src, f.Comments = filename, src, comments(toks)
		if errs := normalize(f); len(errs) > 0 {
			return f, errs.Err()
		}
		return f, nil
	}
	// Recover: parse each declaration on its own, so that every broken one
	// is reported and the good ones can still be checked.
	out := &File{Name: filename, Src: src, Comments: comments(toks)}
	var errs ErrorList
	for _, c := range declChunks(toks, len(src)) {
		// The chunk's own tokens, ended where the next declaration starts:
		// positions stay those of the file, and each chunk costs its length.
		i := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= c.start })
		j := sort.Search(len(toks), func(i int) bool { return toks[i].Pos.Offset >= c.end })
		eof := endOf(filename, toks)
		if j < len(toks) {
			eof = toks[j].Pos
		}
		cf, err := parseTokens(toks[i:j], eof)
		if err != nil {
			e := syntaxError(filename, err)
			if c.end < len(src) {
				// The chunk ends where the next declaration starts.
				next := strings.Fields(string(src[c.end:min(len(src), c.end+16)]))[0]
				e.Msg = strings.Replace(e.Msg, "unexpected end of file", fmt.Sprintf("unexpected %q", next), 1)
			}
			errs = append(errs, e)
			out.Broken = append(out.Broken, c.broken)
			continue
		}
		out.Decls = append(out.Decls, cf.Decls...)
	}
	if len(errs) == 0 { // the whole failed but every part parsed: report the whole's error
		errs = append(errs, syntaxError(filename, err))
	}
	errs = append(errs, normalize(out)...)
	return out, errs.Err()
}

// ParseString is Parse for a string.
func ParseString(filename, src string) (*File, error) { return Parse(filename, []byte(src)) }

func tokenize(filename string, src []byte) ([]lexer.Token, error) {
	return scan(filename, string(src)), nil
}

// tokenizeRegexp lexes with lexDef's regular expressions: the reference
// that scan must agree with.
func tokenizeRegexp(filename string, src []byte) ([]lexer.Token, error) {
	lx, err := lexDef.LexString(filename, string(src))
	if err != nil {
		return nil, err
	}
	var toks []lexer.Token
	for {
		t, err := lx.Next()
		if err != nil {
			return nil, err
		}
		if t.EOF() {
			return toks, nil
		}
		if t.Type == tokIdent {
			t, _ = keywordMapper(t)
		}
		toks = append(toks, t)
	}
}

// tooDeep returns the first bracket nested more than maxNesting deep.
func tooDeep(toks []lexer.Token) (Position, bool) {
	depth := 0
	for _, t := range toks {
		if t.Type != tokPunct {
			continue
		}
		switch t.Value {
		case "(", "[", "{":
			if depth++; depth > maxNesting {
				return t.Pos, true
			}
		case ")", "]", "}":
			depth = max(0, depth-1)
		}
	}
	return Position{}, false
}

func comments(toks []lexer.Token) []Comment {
	var out []Comment
	for _, t := range toks {
		if t.Type == tokComment {
			out = append(out, Comment{Pos: t.Pos, Text: t.Value})
		}
	}
	return out
}

type chunk struct {
	start, end int
	broken     BrokenDecl
}

// declChunks splits the token stream at every declaration keyword that is
// not a field access (x.rule).
func declChunks(toks []lexer.Token, size int) []chunk {
	var out []chunk
	prev := lexer.Token{}
	for i, t := range toks {
		if t.Type == tokKeyword && (t.Value == "event" || t.Value == "const" || t.Value == "rule") && !(prev.Value == "." || prev.Value == "?.") {
			if n := len(out); n > 0 {
				out[n-1].end = t.Pos.Offset
			}
			c := chunk{start: t.Pos.Offset, end: size, broken: BrokenDecl{Pos: t.Pos, Kind: t.Value}}
			for _, u := range toks[i+1:] {
				if u.Type == tokComment || strings.TrimSpace(u.Value) == "" {
					continue
				}
				if u.Type == tokIdent {
					c.broken.Name = u.Value
				}
				break
			}
			out = append(out, c)
		}
		if t.Type != tokComment && strings.TrimSpace(t.Value) != "" {
			prev = t
		}
	}
	if len(out) == 0 || (len(toks) > 0 && out[0].start > firstSignificant(toks)) {
		// Text before the first declaration is its own (broken) chunk.
		end := size
		if len(out) > 0 {
			end = out[0].start
		}
		out = append([]chunk{{start: 0, end: end}}, out...)
	}
	return out
}

func firstSignificant(toks []lexer.Token) int {
	for _, t := range toks {
		if t.Type != tokComment && strings.TrimSpace(t.Value) != "" {
			return t.Pos.Offset
		}
	}
	return math.MaxInt
}

// tokenLexer replays tokens that tokenize already read.
type tokenLexer struct {
	toks []lexer.Token
	eof  Position
}

func (l *tokenLexer) Next() (lexer.Token, error) {
	if len(l.toks) == 0 {
		return lexer.EOFToken(l.eof), nil
	}
	t := l.toks[0]
	l.toks = l.toks[1:]
	return t, nil
}

// parseTokens parses a file, or one declaration of it, from its tokens;
// eof is where the input ends.
func parseTokens(toks []lexer.Token, eof Position) (*File, error) {
	pl, err := lexer.Upgrade(&tokenLexer{toks: toks, eof: eof}, tokComment, tokWhitespace)
	if err != nil {
		return nil, err
	}
	return parser.ParseFromLexer(pl)
}

// endOf returns the position just after the last token.
func endOf(filename string, toks []lexer.Token) Position {
	if len(toks) == 0 {
		return Position{Filename: filename, Line: 1, Column: 1}
	}
	t := toks[len(toks)-1]
	end := t.Pos
	end.Advance(t.Value)
	return end
}

func invalidUTF8Pos(filename string, src []byte) Position {
	p := Position{Filename: filename, Line: 1, Column: 1}
	for i := 0; i < len(src); {
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			p.Offset = i
			return p
		}
		if r == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
		i += n
	}
	return p
}

// syntaxError turns a participle error into a positioned Error with a
// message in this package's words.
func syntaxError(filename string, err error) *Error {
	var perr participle.Error
	if errors.As(err, &perr) {
		pos := perr.Position()
		if pos.Filename == "" {
			pos.Filename = filename
		}
		if pos.Line == 0 {
			pos.Line, pos.Column = 1, 1
		}
		return &Error{Pos: pos, Msg: syntaxMessage(perr.Message())}
	}
	return &Error{Pos: Position{Filename: filename, Line: 1, Column: 1}, Msg: err.Error()}
}

// syntaxMessage rewrites participle's wording: "unexpected token" becomes
// "unexpected", and <ident>-style token names become words.
func syntaxMessage(msg string) string {
	r := strings.NewReplacer(
		"unexpected token \"<EOF>\"", "unexpected end of file",
		"unexpected token", "unexpected",
		"expected Ident", "expected a name",
		"expected FieldName", "expected a field name",
		"expected TypeRef", "expected a type: string, int, float, bool, time, duration, any or [T]",
		"expected Duration", "expected a duration such as 500ms, 10s, 5m, 2h or 1d",
		"expected Count", "expected a whole number",
		"expected Expr", "expected an expression",
		"expected Pattern", "expected a pattern",
		"expected WindowSpec", "expected a window: tumbling d, hopping d every d, sliding d, count n, sliding count n or session gap d",
		"expected Clause", "expected a clause: from, partition by, window, match, within, skip, having, emit, on timeout emit or output",
		"expected Decl", "expected a declaration: event, const or rule",
		"expected EmitField", "expected a field",
		`expected "{" (EmitField ("," EmitField)* ","?)? "}"`, `expected "{" and the emitted fields`,
	)
	return grammarWords(plainExpected(r.Replace(msg)))
}

// grammarTail finds where participle's grammar starts after a worded hint:
// a quoted token, a group, or a capitalised production name.
var grammarTail = regexp.MustCompile(`\s+(\(|"|[A-Z][A-Za-z]*[?*+]?(\s|$))`)

// grammarWords replaces an "expected" part that still names grammar
// fragments by words, or drops it.
func grammarWords(msg string) string {
	i := strings.Index(msg, " (expected ")
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return msg
	}
	inner := msg[i+len(" (expected ") : len(msg)-1]
	if strings.HasPrefix(inner, "a ") || strings.HasPrefix(inner, "an ") {
		// Already in words; cut any grammar participle appended to them.
		if loc := grammarTail.FindStringIndex(inner); loc != nil {
			inner = inner[:loc[0]]
		}
		return msg[:i] + " (expected " + inner + ")"
	}
	switch {
	case strings.Contains(inner, "Element") || strings.Contains(inner, "Pattern"):
		return msg[:i] + " (expected a pattern element such as a:Type(condition), or a group; a condition's ( must follow the type name directly)"
	case strings.Contains(inner, "Count"):
		return msg[:i] + " (expected a quantifier bound such as {2}, {2,}, {2,5} or {,5})"
	case strings.ContainsAny(inner, "|*?+") || strings.Count(inner, "(") > 0:
		return msg[:i]
	}
	return msg
}

// plainExpected cuts the grammar participle appends after the first
// expected token: (expected "}" ("time" Ident)? ...) becomes (expected "}").
func plainExpected(msg string) string {
	const open = "(expected \""
	i := strings.Index(msg, open)
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return msg
	}
	rest := msg[i+len(open) : len(msg)-1]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return msg
	}
	if tail := rest[j+1:]; strings.ContainsAny(tail, "()?*|") {
		return msg[:i] + open + rest[:j+1] + ")"
	}
	return msg
}

// Parse implements participle.Parseable: an expression runs to the first
// token, outside brackets, that cannot continue it: a reserved word (not
// after a dot), a comma, a closing bracket, or a pattern edge.
func (e *Expr) Parse(lex *lexer.PeekingLexer) error {
	depth := 0
	var b strings.Builder
	var first, last *lexer.Token
	var prev string
	for {
		t := lex.Peek()
		if t.EOF() {
			break
		}
		if t.Type == tokBad {
			if t.Value == `"` || t.Value == "'" || t.Value == "`" {
				return participle.Errorf(t.Pos, "string literal not terminated")
			}
			return participle.Errorf(t.Pos, "unexpected character %q", t.Value)
		}
		if depth == 0 && (exprStop(t, prev) || startsTimeout(lex)) {
			break
		}
		if t.Type == tokPunct {
			switch t.Value {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				depth--
			}
		}
		if first == nil {
			first = t
		} else {
			gap(&b, last, t)
		}
		b.WriteString(t.Value)
		last = t
		prev = t.Value
		lex.Next()
	}
	if first == nil {
		return participle.NextMatch
	}
	e.Pos = first.Pos
	e.EndPos = last.Pos
	e.EndPos.Offset += len(last.Value)
	e.EndPos.Advance(last.Value)
	e.EndPos.Offset -= len(last.Value) // Advance moved Offset too
	e.Text = b.String()
	return nil
}

// startsTimeout reports whether the next tokens are "on timeout", the start
// of a clause: "on" alone stays a name.
func startsTimeout(lex *lexer.PeekingLexer) bool {
	if t := lex.Peek(); t.Type != tokIdent || t.Value != "on" {
		return false
	}
	cp := lex.MakeCheckpoint()
	lex.Next()
	next := lex.Peek()
	lex.LoadCheckpoint(cp)
	return next.Type == tokIdent && next.Value == "timeout"
}

func exprStop(t *lexer.Token, prev string) bool {
	if t.Type == tokKeyword {
		return prev != "." && prev != "?."
	}
	if t.Type == tokPunct {
		switch t.Value {
		case ",", ")", "]", "}", "->", "->>":
			return true
		}
	}
	return false
}

// gap writes the white space between two tokens so that next keeps its line
// and column relative to the expression's first line.
func gap(b *strings.Builder, last, next *lexer.Token) {
	end := last.Pos
	end.Advance(last.Value)
	if next.Pos.Line > end.Line {
		b.WriteString(strings.Repeat("\n", next.Pos.Line-end.Line))
		b.WriteString(strings.Repeat(" ", next.Pos.Column-1))
		return
	}
	if n := next.Pos.Column - end.Column; n > 0 {
		b.WriteString(strings.Repeat(" ", n))
	}
}

// Parse implements participle.Parseable for an element: [alias:]Type[(cond)].
func (el *Element) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokIdent || t.Value == "not" || startsTimeout(lex) {
		return participle.NextMatch
	}
	cp := lex.MakeCheckpoint()
	lex.Next()
	el.Pos = t.Pos
	name := &Ident{Pos: t.Pos, Name: t.Value}
	end := t.Pos
	end.Advance(t.Value)
	if c := lex.Peek(); c.Type == tokPunct && c.Value == ":" {
		lex.Next()
		ty := lex.Peek()
		if ty.Type != tokIdent {
			lex.LoadCheckpoint(cp)
			return participle.Errorf(ty.Pos, "expected an event type after %q:, found %s", name.Name, describe(ty))
		}
		lex.Next()
		el.Alias = name
		el.Type = &Ident{Pos: ty.Pos, Name: ty.Value}
		end = ty.Pos
		end.Advance(ty.Value)
	} else {
		el.Type = name
	}
	if c := lex.Peek(); c.Type == tokPunct && c.Value == "(" && c.Pos.Offset == end.Offset {
		lex.Next()
		cond := &Expr{}
		if err := cond.Parse(lex); err != nil {
			if err == participle.NextMatch {
				return participle.Errorf(lex.Peek().Pos, "expected a condition inside %s(...), found %s", el.Type.Name, describe(lex.Peek()))
			}
			return err
		}
		closing := lex.Peek()
		if closing.Type != tokPunct || closing.Value != ")" {
			return participle.Errorf(closing.Pos, "expected ) to close the condition of %s, found %s", el.Type.Name, describe(closing))
		}
		lex.Next()
		el.Cond = cond
	}
	return nil
}

func describe(t *lexer.Token) string {
	if t.EOF() {
		return "end of file"
	}
	return strconv.Quote(t.Value)
}

// Parse implements participle.Parseable for a duration literal.
func (d *Duration) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokDuration {
		return participle.NextMatch
	}
	v, err := parseDuration(t.Value)
	if err != nil {
		return participle.Errorf(t.Pos, "%s", err)
	}
	lex.Next()
	d.Pos, d.Text, d.Value = t.Pos, t.Value, v
	return nil
}

// Parse implements participle.Parseable for a count literal.
func (c *Count) Parse(lex *lexer.PeekingLexer) error {
	t := lex.Peek()
	if t.Type != tokInt {
		return participle.NextMatch
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(t.Value, "_", ""), 0, 32)
	if err != nil {
		return participle.Errorf(t.Pos, "count %s is out of range (at most %d)", t.Value, math.MaxInt32)
	}
	lex.Next()
	c.Pos, c.Text, c.Value = t.Pos, t.Value, int(v)
	return nil
}

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// parseDuration parses 500ms, 5m, 1h30m, 1d.
func parseDuration(s string) (time.Duration, error) {
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		unit, ok := durationUnits[rest[i:j]]
		if err != nil || !ok || i == 0 {
			return 0, fmt.Errorf("invalid duration %s", s)
		}
		if n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %s is too long (at most %s)", s, time.Duration(math.MaxInt64))
		}
		total += time.Duration(n) * unit
		rest = rest[j:]
	}
	return total, nil
}

// normalize rewrites what the lexer glued together: "??" after an element is
// the optional quantifier made reluctant.
func normalize(f *File) ErrorList {
	var errs ErrorList
	for _, d := range f.Decls {
		if r, ok := d.(*Rule); ok {
			if m := r.Match(); m != nil && m.Pattern != nil {
				walkFactors(m.Pattern, func(fa *Factor) {
					if q := fa.Quant; q != nil && q.Op == "" && q.Min == nil && (!q.Comma || q.Max == nil) {
						errs.Add(q.Pos, "quantifier needs a bound: {n}, {n,}, {n,m} or {,m}")
					}
					if q := fa.Quant; q != nil && q.Op == "??" {
						if q.Mode != "" {
							errs.Add(q.Pos, "quantifier ?? is already reluctant; it takes no further %s", q.Mode)
						}
						q.Op, q.Mode = "?", "?"
					}
				})
			}
		}
	}
	return errs
}

// walkFactors calls fn for every factor of p, outer before inner.
func walkFactors(p *Pattern, fn func(*Factor)) {
	for _, s := range p.Alts {
		for _, st := range s.Steps {
			if st.Term == nil {
				continue
			}
			for _, fa := range st.Term.Factors {
				fn(fa)
				if fa.Group != nil {
					walkFactors(fa.Group, fn)
				}
			}
		}
	}
}
