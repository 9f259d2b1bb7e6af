package lang

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The canonical layout:
//
//   - Declarations are separated by one blank line; consecutive constants
//     written on adjacent lines stay together, like a table.
//   - An event stays on one line while it fits in maxWidth columns and
//     holds no comment; otherwise it lists one field per line, indented two
//     spaces, types aligned as gofmt aligns struct fields. Time and lateness
//     follow the closing brace. An event without fields is "event A {}".
//   - A rule puts each clause on its own line, indented two spaces. An emit
//     stays on one line while it fits in maxWidth columns and holds no
//     comment; otherwise it lists one field per line with a trailing comma.
//   - Patterns are one line: edges print as " -> " and " ->> ",
//     juxtaposition as one space, conditions right after the type name.
//   - Expressions, durations and counts are kept as written, except that
//     every run of white space outside string literals becomes one space.
//   - Comments stay where they were: a comment on a line of its own stays
//     on a line of its own before the code that follows it; a comment after
//     code stays at the end of that line (trailing comments on consecutive
//     lines of a block are aligned). A comment in the middle of a line that
//     the layout joins moves to the end of the line, except inside an
//     expression, where it stays in place; an expression that holds a //
//     comment continues on the next line, indented two more spaces.
//   - Single blank lines between fields of an event or an emit, between
//     top-level comments, and between a comment and the declaration after
//     it are kept; other blank lines are dropped.

// maxWidth is the column limit under which an emit stays on one line.
const maxWidth = 80

// indentStep is the indentation of one nesting level.
const indentStep = 2

// Format prints f in the canonical layout. f should come from a Parse that
// returned no error: the comments are placed by the positions of f's nodes
// in f.Src. Formatting is idempotent, and parsing the result gives f again
// up to positions, comments and layout.
func Format(f *File) []byte {
	if f == nil {
		return nil
	}
	p := newPrinter(f)
	for k, d := range f.Decls {
		p.decl(k, d)
	}
	p.distribute()
	return p.render()
}

// FormatSource parses src and formats it. A file with syntax errors is not
// formatted: the result is nil and the error is the parser's ErrorList.
func FormatSource(filename string, src []byte) ([]byte, error) {
	f, err := Parse(filename, src)
	if err != nil {
		return nil, err
	}
	return Format(f), nil
}

// blankRule says whether a blank line goes before an output line.
type blankRule uint8

const (
	blankNever  blankRule = iota
	blankKeep             // one blank line if the source had at least one
	blankAlways           // always one (between declarations)
)

// item is one line of code in the output (it wraps only where an expression
// holds a // comment). Comments are attached to items by position.
type item struct {
	start  Position // of its first token in the source
	end    Position // just after its last token in the source
	indent int
	key    string // aligned column: a field's "name:"; "" for none
	text   string
	block  int // alignment block; 0: not aligned

	decl    int  // index of the declaration it belongs to
	head    bool // first line of a declaration
	closing bool // a closing brace: comments before it are indented one more level
	inRule  bool // a rule's clause: no blank lines before it or its comments
	first   bool // first line after an opening brace: no blank line before

	leading  []Comment // comments on lines of their own before the item
	trailing []Comment // comments inside or after it on its last line
}

type printer struct {
	f        *File
	src      []byte
	toks     []lexer.Token // significant tokens of src, for the ends of items
	comments []Comment     // sorted by offset
	used     []bool        // comments already placed: in an expression or an empty body
	items    []*item
	final    []Comment // comments after the last item
	blocks   int
}

func newPrinter(f *File) *printer {
	p := &printer{f: f, src: f.Src}
	if f.Src != nil {
		if toks, err := tokenize(f.Name, f.Src); err == nil {
			for _, t := range toks {
				if t.Type != tokComment && t.Type != tokWhitespace {
					p.toks = append(p.toks, t)
				}
			}
		}
	}
	p.comments = append([]Comment(nil), f.Comments...)
	sort.SliceStable(p.comments, func(i, j int) bool { return p.comments[i].Pos.Offset < p.comments[j].Pos.Offset })
	p.used = make([]bool, len(p.comments))
	return p
}

func (p *printer) newBlock() int {
	p.blocks++
	return p.blocks
}

// add appends an item, keeping item starts in source order even for a tree
// whose positions are missing or out of order.
func (p *printer) add(it *item) {
	if n := len(p.items); n > 0 && it.start.Offset < p.items[n-1].start.Offset {
		it.start = p.items[n-1].start
	}
	p.items = append(p.items, it)
}

func (p *printer) decl(k int, d Decl) {
	switch d := d.(type) {
	case *ConstDecl:
		if d == nil {
			return
		}
		p.add(&item{start: d.Pos, decl: k, head: true, text: "const " + identName(d.Name) + " = " + p.expr(d.Value, 0)})
	case *EventDecl:
		if d != nil {
			p.event(k, d)
		}
	case *Rule:
		if d != nil {
			p.rule(k, d)
		}
	}
}

func (p *printer) event(k int, d *EventDecl) {
	closeText := "}"
	if d.Time != nil {
		closeText += " time " + d.Time.Name
	}
	if d.Lateness != nil {
		closeText += " lateness " + d.Lateness.Text
	}
	from := d.Pos.Offset
	if n := len(d.Fields); n > 0 && d.Fields[n-1] != nil {
		from = d.Fields[n-1].Pos.Offset
	}
	closePos, ok := p.tokenFrom(from, "}")
	if !ok {
		closePos = d.Pos
	}
	head := "event " + identName(d.Name) + " {"
	if len(d.Fields) == 0 {
		if inside, ok := p.inlineComments(d.Pos.Offset, closePos.Offset); ok {
			p.add(&item{start: d.Pos, decl: k, head: true, text: head + " " + inside + " " + closeText})
			return
		}
		if !p.commentsIn(d.Pos.Offset, closePos.Offset) {
			p.add(&item{start: d.Pos, decl: k, head: true, text: head + closeText})
			return
		}
	}
	if len(d.Fields) > 0 && !p.commentsIn(d.Pos.Offset, closePos.Offset) {
		// A short declaration without comments stays on one line, as an
		// emit does.
		parts := make([]string, 0, len(d.Fields))
		for _, fd := range d.Fields {
			if fd == nil || fd.Name == nil {
				parts = nil
				break
			}
			parts = append(parts, fd.Name.Name+": "+typeText(fd.Type))
		}
		if line := head + " " + strings.Join(parts, ", ") + " " + closeText; parts != nil && utf8.RuneCountInString(line) <= maxWidth {
			p.add(&item{start: d.Pos, decl: k, head: true, text: line})
			return
		}
	}
	p.add(&item{start: d.Pos, decl: k, head: true, text: head})
	block := p.newBlock()
	for i, fd := range d.Fields {
		if fd == nil {
			continue
		}
		name := ""
		if fd.Name != nil {
			name = fd.Name.Name
		}
		p.add(&item{start: fd.Pos, decl: k, indent: indentStep, key: name + ":", text: typeText(fd.Type), block: block, first: i == 0})
	}
	p.add(&item{start: closePos, decl: k, text: closeText, closing: true, first: len(d.Fields) == 0})
}

func typeText(t *TypeRef) string {
	depth := 0
	for ; t != nil && t.Elem != nil; t = t.Elem {
		depth++
	}
	name := ""
	if t != nil {
		name = t.Name
	}
	return strings.Repeat("[", depth) + name + strings.Repeat("]", depth)
}

func (p *printer) rule(k int, r *Rule) {
	p.add(&item{start: r.Pos, decl: k, head: true, text: "rule " + identName(r.Name)})
	block := p.newBlock()
	for _, c := range r.Clauses {
		p.clause(k, c, block)
	}
}

func (p *printer) clause(k int, c Clause, block int) {
	const in = indentStep
	var text string
	switch c := c.(type) {
	case *FromClause:
		if c == nil {
			return
		}
		text = "from " + identName(c.Type)
		if c.Alias != nil {
			text += " " + c.Alias.Name
		}
		if c.Where != nil {
			text += " where " + p.expr(c.Where, in)
		}
	case *PartitionClause:
		if c == nil {
			return
		}
		keys := make([]string, len(c.Keys))
		for i, e := range c.Keys {
			keys[i] = p.expr(e, in)
		}
		text = "partition by " + strings.Join(keys, ", ")
	case *WindowClause:
		if c == nil {
			return
		}
		text = "window " + windowText(c.Spec)
	case *MatchClause:
		if c == nil {
			return
		}
		text = "match " + p.pattern(c.Pattern, in)
	case *WithinClause:
		if c == nil {
			return
		}
		text = "within "
		if c.Gap {
			text += "gap "
		}
		text += durationText(c.Duration)
	case *SkipClause:
		if c == nil {
			return
		}
		switch c.Kind {
		case "none":
			text = "skip none"
		case "next":
			text = "skip to next"
		case "past":
			text = "skip past last"
		default: // first, last
			text = "skip to " + c.Kind + " " + identName(c.Target)
		}
	case *HavingClause:
		if c == nil {
			return
		}
		text = "having " + p.expr(c.Cond, in)
	case *EmitClause:
		if c == nil {
			return
		}
		p.emit(k, "emit ", c.Pos, c, block)
		return
	case *TimeoutClause:
		if c == nil || c.Emit == nil {
			return
		}
		p.emit(k, "on timeout emit ", c.Pos, c.Emit, block)
		return
	case *OutputClause:
		if c == nil {
			return
		}
		text = "output " + c.Which + " every " + durationText(c.Every)
	default:
		return
	}
	p.add(&item{start: c.Start(), decl: k, indent: in, text: text, block: block, inRule: true})
}

// emit adds an emit clause (prefix "emit " or "on timeout emit ") that
// starts at start: on one line when it fits and holds no comment outside its
// expressions, else one field per line.
func (p *printer) emit(k int, prefix string, start Position, e *EmitClause, block int) {
	const in = indentStep
	fields := make([]struct{ key, value string }, 0, len(e.Fields))
	multi := false
	for _, fl := range e.Fields {
		if fl == nil {
			continue
		}
		key := ""
		if fl.Name != nil {
			key = fl.Name.Name + ":"
		}
		value := p.expr(fl.Value, in+indentStep)
		multi = multi || strings.Contains(value, "\n")
		fields = append(fields, struct{ key, value string }{key, value})
	}
	closePos, ok := Position{}, false
	if off := e.EndPos.Offset - 1; off >= 0 && off < len(p.src) && p.src[off] == '}' {
		closePos, ok = e.EndPos, true
		closePos.Offset--
		closePos.Column--
	} else {
		from := e.Pos.Offset
		if n := len(e.Fields); n > 0 && e.Fields[n-1] != nil && e.Fields[n-1].Value != nil {
			from = e.Fields[n-1].Value.EndPos.Offset
		}
		closePos, ok = p.tokenFrom(from, "}")
	}
	if !ok {
		closePos = start
	}
	head := prefix + identName(e.Type) + " {"
	if len(fields) == 0 {
		if inside, ok := p.inlineComments(start.Offset, closePos.Offset); ok {
			p.add(&item{start: start, decl: k, indent: in, text: head + " " + inside + " }", block: block, inRule: true})
			return
		}
	}
	if !multi && !p.commentsIn(start.Offset, closePos.Offset) {
		parts := make([]string, len(fields))
		for i, f := range fields {
			parts[i] = f.value
			if f.key != "" {
				parts[i] = f.key + " " + f.value
			}
		}
		line := head + "}"
		if len(parts) > 0 {
			line = head + " " + strings.Join(parts, ", ") + " }"
		}
		if in+utf8.RuneCountInString(line) <= maxWidth {
			p.add(&item{start: start, decl: k, indent: in, text: line, block: block, inRule: true})
			return
		}
	}
	p.add(&item{start: start, decl: k, indent: in, text: head, block: block, inRule: true})
	fieldBlock := p.newBlock()
	i := 0
	for _, fl := range e.Fields {
		if fl == nil {
			continue
		}
		p.add(&item{start: fl.Pos, decl: k, indent: in + indentStep, key: fields[i].key, text: fields[i].value + ",", block: fieldBlock, first: i == 0})
		i++
	}
	p.add(&item{start: closePos, decl: k, indent: in, text: "}", block: block, closing: true, first: len(fields) == 0, inRule: true})
}

func windowText(w WindowSpec) string {
	switch w := w.(type) {
	case *TumblingWindow:
		if w != nil {
			return "tumbling " + durationText(w.Size)
		}
	case *HoppingWindow:
		if w != nil {
			return "hopping " + durationText(w.Size) + " every " + durationText(w.Step)
		}
	case *SlidingWindow:
		if w != nil {
			return "sliding " + durationText(w.Size)
		}
	case *SlidingCountWindow:
		if w != nil {
			return "sliding count " + countText(w.Count)
		}
	case *CountWindow:
		if w != nil {
			return "count " + countText(w.Count)
		}
	case *SessionWindow:
		if w != nil {
			return "session gap " + durationText(w.Gap)
		}
	}
	return ""
}

func (p *printer) pattern(pt *Pattern, indent int) string {
	var b strings.Builder
	p.writePattern(&b, pt, indent)
	return b.String()
}

func (p *printer) writePattern(b *strings.Builder, pt *Pattern, indent int) {
	if pt == nil {
		return
	}
	for i, s := range pt.Alts {
		if i > 0 {
			b.WriteString(" | ")
		}
		if s != nil {
			p.writeSequence(b, s, indent)
		}
	}
}

func (p *printer) writeSequence(b *strings.Builder, s *Sequence, indent int) {
	for i, st := range s.Steps {
		if st == nil {
			continue
		}
		// A space before every step keeps a group that follows an element
		// from turning into the element's condition.
		if i > 0 {
			b.WriteByte(' ')
		}
		if st.Edge != Strict {
			b.WriteString(string(st.Edge))
			b.WriteByte(' ')
		}
		if st.Term == nil {
			continue
		}
		for j, fa := range st.Term.Factors {
			if j > 0 {
				b.WriteString(" & ")
			}
			if fa != nil {
				p.writeFactor(b, fa, indent)
			}
		}
	}
}

func (p *printer) writeFactor(b *strings.Builder, fa *Factor, indent int) {
	if fa.Not {
		b.WriteString("not ")
	}
	switch {
	case fa.Group != nil:
		b.WriteByte('(')
		p.writePattern(b, fa.Group, indent)
		b.WriteByte(')')
	case fa.Elem != nil:
		el := fa.Elem
		if el.Alias != nil {
			b.WriteString(el.Alias.Name)
			b.WriteByte(':')
		}
		b.WriteString(identName(el.Type))
		if el.Cond != nil {
			b.WriteByte('(')
			b.WriteString(p.expr(el.Cond, indent))
			b.WriteByte(')')
		}
	}
	if q := fa.Quant; q != nil {
		if q.Op != "" {
			b.WriteString(q.Op)
		} else {
			b.WriteString("{" + countText(q.Min))
			if q.Comma {
				b.WriteByte(',')
			}
			b.WriteString(countText(q.Max))
			b.WriteByte('}')
		}
		b.WriteString(q.Mode)
		if q.Loop != "" {
			b.WriteString(" " + q.Loop)
		}
		if q.Until != nil {
			b.WriteString(" until(" + p.expr(q.Until, indent) + ")")
		}
	}
}

func identName(i *Ident) string {
	if i == nil {
		return ""
	}
	return i.Name
}

func durationText(d *Duration) string {
	if d == nil {
		return ""
	}
	return d.Text
}

func countText(c *Count) string {
	if c == nil {
		return ""
	}
	return c.Text
}

// expr returns e's text with every run of white space outside string
// literals made one space. Comments inside e stay in place (from the source
// text; e.Text has them blanked); after a // comment the expression goes on
// on the next line at indent plus one level.
func (p *printer) expr(e *Expr, indent int) string {
	if e == nil {
		return ""
	}
	lo, hi := e.Pos.Offset, e.EndPos.Offset
	if p.src != nil && 0 <= lo && lo < hi && hi <= len(p.src) {
		i := sort.Search(len(p.comments), func(i int) bool { return p.comments[i].Pos.Offset >= lo })
		j := i
		for j < len(p.comments) && p.comments[j].Pos.Offset < hi {
			j++
		}
		if j > i {
			raw := lexText(string(p.src[lo:hi]))
			// Use the source only if it is the expression: a tree edited
			// after parsing keeps its text, and its comments move out.
			if sameTokens(raw, lexText(e.Text)) {
				for k := i; k < j; k++ {
					p.used[k] = true
				}
				return joinTokens(raw, indent+indentStep)
			}
		}
	}
	return joinTokens(lexText(e.Text), indent+indentStep)
}

// normalizeExpr returns an expression's text as Format prints it when it
// holds no comments: runs of white space outside string literals become one
// space, and leading and trailing space is dropped.
func normalizeExpr(text string) string { return joinTokens(lexText(text), 0) }

func lexText(s string) []lexer.Token {
	lx, err := lexDef.LexString("", s)
	if err != nil {
		return nil
	}
	var toks []lexer.Token
	for {
		t, err := lx.Next()
		if err != nil || t.EOF() {
			return toks
		}
		toks = append(toks, t)
	}
}

func sameTokens(a, b []lexer.Token) bool {
	sig := func(toks []lexer.Token) []lexer.Token {
		out := toks[:0:0]
		for _, t := range toks {
			if t.Type != tokComment && t.Type != tokWhitespace {
				out = append(out, t)
			}
		}
		return out
	}
	a, b = sig(a), sig(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

// joinTokens prints tokens with one space where they had white space
// between them and a line break (to indent) after a // comment.
func joinTokens(toks []lexer.Token, indent int) string {
	var b strings.Builder
	space, lineComment := false, false
	for _, t := range toks {
		if t.Type == tokWhitespace {
			space = true
			continue
		}
		if b.Len() > 0 {
			if lineComment {
				b.WriteByte('\n')
				b.WriteString(strings.Repeat(" ", indent))
			} else if space {
				b.WriteByte(' ')
			}
		}
		space = false
		text := t.Value
		lineComment = t.Type == tokComment && strings.HasPrefix(text, "//")
		if lineComment {
			text = strings.TrimRight(text, " \t\r")
		}
		b.WriteString(text)
	}
	return b.String()
}

// tokenFrom returns the position of the first significant token with the
// given value at or after offset.
func (p *printer) tokenFrom(offset int, value string) (Position, bool) {
	i := sort.Search(len(p.toks), func(i int) bool { return p.toks[i].Pos.Offset >= offset })
	for ; i < len(p.toks); i++ {
		if p.toks[i].Value == value {
			return p.toks[i].Pos, true
		}
	}
	return Position{}, false
}

// commentsIn reports a comment, not printed inside an expression, in [lo, hi).
func (p *printer) commentsIn(lo, hi int) bool {
	i := sort.Search(len(p.comments), func(i int) bool { return p.comments[i].Pos.Offset >= lo })
	for ; i < len(p.comments) && p.comments[i].Pos.Offset < hi; i++ {
		if !p.used[i] {
			return true
		}
	}
	return false
}

// inlineComments reports whether the comments in [lo, hi) are all /* */
// comments on one line, and if so takes them for printing there: an event
// or emit without fields keeps such comments between its braces.
func (p *printer) inlineComments(lo, hi int) (string, bool) {
	i := sort.Search(len(p.comments), func(i int) bool { return p.comments[i].Pos.Offset >= lo })
	j := i
	var texts []string
	for ; j < len(p.comments) && p.comments[j].Pos.Offset < hi; j++ {
		c := p.comments[j]
		if p.used[j] || strings.HasPrefix(c.Text, "//") || strings.Contains(c.Text, "\n") {
			return "", false
		}
		texts = append(texts, c.Text)
	}
	if len(texts) == 0 {
		return "", false
	}
	for k := i; k < j; k++ {
		p.used[k] = true
	}
	return strings.Join(texts, " "), true
}

// distribute computes where each item ends in the source and attaches
// every comment not printed inside an expression to an item: inside an
// item or after it on the line where it ends, a comment trails it;
// otherwise it leads the next item.
func (p *printer) distribute() {
	for i, it := range p.items {
		next := -1
		if i+1 < len(p.items) {
			next = p.items[i+1].start.Offset
		}
		it.end = p.lastTokenEnd(it.start, next)
	}
	// tail is the line on which a comment still trails item i: the line
	// where the item ends, or where the last comment trailing it ends.
	tail := make([]int, len(p.items))
	for i, it := range p.items {
		tail[i] = it.end.Line
	}
	for ci, c := range p.comments {
		if p.used[ci] {
			continue
		}
		off := c.Pos.Offset
		i := sort.Search(len(p.items), func(i int) bool { return p.items[i].start.Offset > off }) - 1
		switch {
		case len(p.items) == 0:
			p.final = append(p.final, c)
		case i < 0:
			p.items[0].leading = append(p.items[0].leading, c)
		case off < p.items[i].end.Offset:
			p.items[i].trailing = append(p.items[i].trailing, c)
		case c.Pos.Line == tail[i]:
			p.items[i].trailing = append(p.items[i].trailing, c)
			tail[i] = commentEnd(c).Line
		case i+1 < len(p.items):
			p.items[i+1].leading = append(p.items[i+1].leading, c)
		default:
			p.final = append(p.final, c)
		}
	}
}

// lastTokenEnd returns the end of the last significant token at or after
// start and before offset next (-1: no limit), or start if there is none.
func (p *printer) lastTokenEnd(start Position, next int) Position {
	j := len(p.toks)
	if next >= 0 {
		j = sort.Search(len(p.toks), func(i int) bool { return p.toks[i].Pos.Offset >= next })
	}
	if j == 0 || p.toks[j-1].Pos.Offset < start.Offset {
		return start
	}
	t := p.toks[j-1]
	end := t.Pos
	end.Advance(t.Value)
	return end
}

func commentEnd(c Comment) Position {
	end := c.Pos
	end.Advance(c.Text)
	return end
}

func commentText(c Comment) string {
	if strings.HasPrefix(c.Text, "//") {
		return strings.TrimRight(c.Text, " \t\r")
	}
	return c.Text
}

// line is one line of output, before alignment.
type line struct {
	blank   bool // a blank line before it
	indent  int
	key     string
	text    string
	comment string // trailing comments
	block   int
	isCode  bool // code, not a comment on a line of its own
}

type renderer struct {
	lines   []line
	prevEnd Position // source end of the last line added
	started bool
}

// blank decides a blank line before something that starts at start.
func (r *renderer) blank(rule blankRule, start Position) bool {
	if !r.started {
		return false
	}
	switch rule {
	case blankAlways:
		return true
	case blankKeep:
		return start.Line-r.prevEnd.Line >= 2
	}
	return false
}

func (r *renderer) comment(c Comment, indent int, rule blankRule) {
	r.lines = append(r.lines, line{blank: r.blank(rule, c.Pos), indent: indent, text: commentText(c)})
	r.prevEnd = commentEnd(c)
	r.started = true
}

func (r *renderer) code(it *item, rule blankRule) {
	l := line{blank: r.blank(rule, it.start), indent: it.indent, key: it.key, text: it.text, block: it.block, isCode: true}
	r.prevEnd = it.end
	// Block comments first: a // comment must end the line.
	var block, slashes []string
	for _, c := range it.trailing {
		if strings.HasPrefix(c.Text, "//") {
			slashes = append(slashes, commentText(c))
		} else {
			block = append(block, c.Text)
		}
		if e := commentEnd(c); e.Offset > r.prevEnd.Offset {
			r.prevEnd = e
		}
	}
	l.comment = strings.Join(append(block, slashes...), " ")
	r.lines = append(r.lines, l)
	r.started = true
}

// hanging prints the comments at the start of cs that continue the rule
// just printed (indented, with no blank line before them) at clause
// indentation, and returns the rest.
func (r *renderer) hanging(cs []Comment) []Comment {
	for len(cs) > 0 && cs[0].Pos.Column > 1 && cs[0].Pos.Line-r.prevEnd.Line < 2 {
		r.comment(cs[0], indentStep, blankNever)
		cs = cs[1:]
	}
	return cs
}

func (p *printer) render() []byte {
	r := &renderer{}
	decls := p.f.Decls
	isRule := func(k int) bool {
		if k < 0 || k >= len(decls) {
			return false
		}
		_, ok := decls[k].(*Rule)
		return ok
	}
	isConst := func(k int) bool {
		if k < 0 || k >= len(decls) {
			return false
		}
		_, ok := decls[k].(*ConstDecl)
		return ok
	}
	prevDecl := -1
	for _, it := range p.items {
		leading := it.leading
		var first, between, self blankRule
		indent := it.indent
		switch {
		case it.head:
			if prevDecl >= 0 && isRule(prevDecl) {
				leading = r.hanging(leading)
			}
			first, between, self = blankAlways, blankKeep, blankKeep
			if prevDecl >= 0 && isConst(prevDecl) && isConst(it.decl) {
				first = blankKeep
			}
			prevDecl = it.decl
		case it.inRule && !it.closing:
			first, between, self = blankNever, blankNever, blankNever
		case it.closing:
			indent += indentStep
			first, between, self = blankKeep, blankKeep, blankNever
			if it.inRule {
				between = blankNever
			}
		default: // a field
			first, between, self = blankKeep, blankKeep, blankKeep
		}
		if it.first {
			first = blankNever
		}
		if len(leading) == 0 {
			if it.closing {
				first = self
			}
			r.code(it, first)
			continue
		}
		for i, c := range leading {
			rule := between
			if i == 0 {
				rule = first
			}
			r.comment(c, indent, rule)
		}
		r.code(it, self)
	}
	final := p.final
	if isRule(prevDecl) {
		final = r.hanging(final)
	}
	for _, c := range final {
		r.comment(c, 0, blankKeep)
	}
	return r.write()
}

// write aligns keys and trailing comments within blocks, as gofmt's
// tabwriter does: over runs of consecutive code lines of one block that
// have the cell, broken by blank lines, comment lines and line breaks.
func (r *renderer) write() []byte {
	lines := r.lines
	alignable := func(l line) bool {
		return l.isCode && l.block != 0 && !strings.Contains(l.text, "\n") && !strings.Contains(l.comment, "\n")
	}
	run := func(i int, has func(line) bool) int {
		j := i + 1
		for j < len(lines) && !lines[j].blank && alignable(lines[j]) && lines[j].block == lines[i].block && has(lines[j]) {
			j++
		}
		return j
	}
	codes := make([]string, len(lines))
	hasKey := func(l line) bool { return l.key != "" }
	for i := 0; i < len(lines); {
		if !alignable(lines[i]) || !hasKey(lines[i]) {
			i++
			continue
		}
		j := run(i, hasKey)
		width := 0
		for _, l := range lines[i:j] {
			width = max(width, utf8.RuneCountInString(l.key))
		}
		for k := i; k < j; k++ {
			codes[k] = lines[k].key + strings.Repeat(" ", width-utf8.RuneCountInString(lines[k].key))
		}
		i = j
	}
	for k, l := range lines {
		switch {
		case codes[k] != "":
			codes[k] += " " + l.text
		case l.key != "":
			codes[k] = l.key + " " + l.text
		default:
			codes[k] = l.text
		}
	}
	hasComment := func(l line) bool { return l.comment != "" }
	pad := make([]int, len(lines))
	for i := 0; i < len(lines); {
		if !alignable(lines[i]) || !hasComment(lines[i]) {
			i++
			continue
		}
		j := run(i, hasComment)
		width := 0
		for k := i; k < j; k++ {
			width = max(width, utf8.RuneCountInString(codes[k]))
		}
		for k := i; k < j; k++ {
			pad[k] = width - utf8.RuneCountInString(codes[k])
		}
		i = j
	}
	var b strings.Builder
	for k, l := range lines {
		if l.blank {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat(" ", l.indent))
		b.WriteString(codes[k])
		if l.comment != "" {
			b.WriteString(strings.Repeat(" ", pad[k]+1))
			b.WriteString(l.comment)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
