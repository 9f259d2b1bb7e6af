package patternref

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/event"
)

// TranslateTrino turns a MATCH_RECOGNIZE case into a script. Rows become
// events of one type Row (the columns, plus idx, the row's index in the
// case, and at, its time: the row's rank in ORDER BY order, in
// milliseconds); every pattern variable becomes an element of Row, joined
// by juxtaposition; SQL's quantifiers are greedy (!) unless reluctant.
//
// ONE ROW PER MATCH: the measures become the emitted fields. ALL ROWS PER
// MATCH cannot be expressed (a later goal); when the expected rows show
// each row's variable (CLASSIFIER()), the case is translated for its
// matching only: one event per match, with one field per variable holding
// the idx of the rows it matched, and the other measures are not checked.
func TranslateTrino(c *Case) (*Translation, error) {
	sc := c.SQL
	if sc == nil || c.Kind != "match-recognize" {
		return nil, fmt.Errorf("%s: not a match-recognize case", c.ID)
	}
	no := func(reason string) (*Translation, error) { return nil, &Untranslatable{c.ID, reason} }
	if sc.Dialect != "" {
		return no("dialect " + sc.Dialect)
	}
	tt := &trinoTranslator{c: c, sc: sc}
	if err := tt.columns(); err != nil {
		return nil, err
	}
	pat, err := parseRowPattern(sc.Pattern)
	if err != nil {
		return no(err.Error())
	}
	tt.pat = pat
	if err := tt.variables(); err != nil {
		return nil, err
	}
	if rowPatternNullable(pat) {
		return no("the pattern " + sc.Pattern + " can match no rows (empty matches are a later goal; cep rejects such a pattern)")
	}
	patText, err := tt.patternText(pat, false)
	if err != nil {
		return nil, err
	}
	allRows := strings.HasPrefix(sc.RowsPerMatch, "ALL ROWS")
	t := &Translation{ID: c.ID}
	var notes []string
	var emit []string
	if allRows {
		if err := tt.allRowsExpect(t); err != nil {
			return nil, err
		}
		for _, v := range tt.vars {
			emit = append(emit, v.alias+": "+v.idxExpr())
		}
		notes = append(notes, sc.RowsPerMatch+" is not expressible yet: translated for its matching only, as one event per match with the idx of the rows each variable matched (from the expected CLASSIFIER() column); the other measures are not checked.")
	} else {
		fields, err := tt.oneRowEmit(t)
		if err != nil {
			return nil, err
		}
		emit = fields
	}

	t.Rules = append(t.Rules, tt.decl, "", "rule "+ruleName(c.ID))
	if len(sc.PartitionBy) > 0 {
		t.Rules = append(t.Rules, "  partition by "+strings.Join(sc.PartitionBy, ", "))
	}
	t.Rules = append(t.Rules, "  match "+patText)
	skip, err := tt.skip()
	if err != nil {
		return nil, err
	}
	if skip != "" {
		t.Rules = append(t.Rules, "  "+skip)
	}
	t.Rules = append(t.Rules, "  emit Match { "+strings.Join(emit, ", ")+" }")
	t.Events = tt.events()

	t.Comment = append(t.Comment, c.ID, "source: "+c.Source, "Trino query:")
	for _, l := range wrap(sc.SQL, 74) {
		t.Comment = append(t.Comment, "  "+l)
	}
	if c.Notes != "" {
		t.Comment = append(t.Comment, "Notes (from the case):")
		for _, l := range wrap(strings.TrimSpace(c.Notes), 74) {
			t.Comment = append(t.Comment, "  "+l)
		}
	}
	t.Comment = append(t.Comment, wrap("Translation: rows are Row events in ORDER BY order, at = the row's rank in ms, idx = its index in the VALUES list.", 76)...)
	for _, n := range notes {
		t.Comment = append(t.Comment, wrap("Translation: "+n, 76)...)
	}
	if c.ExpectedError != nil {
		t.Comment = append(t.Comment, wrap("Trino expects an error ("+*c.ExpectedError+") instead of rows.", 76)...)
	}
	return t, nil
}

type trinoTranslator struct {
	c    *Case
	sc   *SQLCase
	pat  *rowNode
	decl string
	cols []column
	vars []*rowVar
	rank []int // rank[i]: the position of row i in ORDER BY order
}

type column struct {
	name string
	typ  string // int, float, string
}

type rowVar struct {
	label  string // as the pattern writes it, canonical: A, b
	alias  string
	list   bool // repeated: binds a list
	maybe  bool // may bind nothing
	define string
}

func (v *rowVar) idxExpr() string {
	if v.list {
		return "map(" + v.alias + ", .idx)"
	}
	return v.alias + ".idx"
}

func (tt *trinoTranslator) columns() error {
	in := tt.sc.Input
	for j, name := range in.Columns {
		typ := ""
		for _, r := range in.Rows {
			var k string
			switch v := r[j].(type) {
			case json.Number:
				k = "int"
				if _, err := v.Int64(); err != nil {
					k = "float"
				}
			case string:
				k = "string"
			case nil:
				continue
			default:
				return &Untranslatable{tt.c.ID, fmt.Sprintf("column %s holds %T", name, v)}
			}
			switch {
			case typ == "" || typ == k:
				typ = k
			case typ == "int" && k == "float" || typ == "float" && k == "int":
				typ = "float"
			default:
				return &Untranslatable{tt.c.ID, "column " + name + " mixes types"}
			}
		}
		if typ == "" {
			typ = "int"
		}
		if name == "idx" || name == "at" || name == "prev" {
			return &Untranslatable{tt.c.ID, "column name " + name + " is taken by the translation"}
		}
		tt.cols = append(tt.cols, column{name: name, typ: typ})
	}
	fields := []string{"idx: int"}
	for _, c := range tt.cols {
		fields = append(fields, c.name+": "+c.typ)
	}
	fields = append(fields, "at: time")
	tt.decl = "event Row { " + strings.Join(fields, ", ") + " } time at"

	// ORDER BY gives the time order; a key's first mention decides.
	n := len(in.Rows)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	var keys []int
	seen := map[string]bool{}
	for _, ob := range tt.sc.OrderBy {
		f := strings.Fields(ob)
		if len(f) == 0 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		j := slices.Index(in.Columns, f[0])
		if j < 0 {
			return &Untranslatable{tt.c.ID, "ORDER BY " + ob + " is not a column"}
		}
		if len(f) > 1 && strings.EqualFold(f[1], "DESC") {
			return &Untranslatable{tt.c.ID, "ORDER BY ... DESC"}
		}
		keys = append(keys, j)
	}
	sort.SliceStable(order, func(a, b int) bool {
		for _, j := range keys {
			if c := compareCells(in.Rows[order[a]][j], in.Rows[order[b]][j]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	tt.rank = make([]int, n)
	for r, i := range order {
		tt.rank[i] = r
	}
	return nil
}

func compareCells(a, b any) int {
	if x, ok := a.(json.Number); ok {
		if y, ok := b.(json.Number); ok {
			fx, _ := x.Float64()
			fy, _ := y.Float64()
			switch {
			case fx < fy:
				return -1
			case fx > fy:
				return 1
			}
			return 0
		}
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

// events lists the rows in time order.
func (tt *trinoTranslator) events() []string {
	rows := tt.sc.Input.Rows
	order := make([]int, len(rows))
	for i, r := range tt.rank {
		order[r] = i
	}
	var out []string
	for _, i := range order {
		f := []string{"idx: " + strconv.Itoa(i)}
		for j, c := range tt.cols {
			if v := rows[i][j]; v != nil {
				f = append(f, c.name+": "+cellText(v, c.typ))
			}
		}
		out = append(out, fmt.Sprintf("%-6s Row { %s }", timeText(int64(tt.rank[i])), strings.Join(f, ", ")))
	}
	return out
}

func cellText(v any, typ string) string {
	switch x := v.(type) {
	case json.Number:
		if typ == "float" {
			f, _ := x.Float64()
			return floatText(f)
		}
		return x.String()
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// variables collects the pattern's variables and translates their DEFINEs.
func (tt *trinoTranslator) variables() error {
	byLabel := map[string]*rowVar{}
	var walk func(n *rowNode, rep, maybe bool) error
	walk = func(n *rowNode, rep, maybe bool) error {
		r, m := rep, maybe
		if n.quant != nil {
			r = r || n.quant.hi < 0 || n.quant.hi > 1
			m = m || n.quant.lo == 0
		}
		switch n.kind {
		case rowVarNode:
			if byLabel[n.label] != nil {
				return &Untranslatable{tt.c.ID, "variable " + n.label + " appears twice in the pattern (a cep alias names one element)"}
			}
			v := &rowVar{label: n.label, alias: strings.ToLower(n.label), list: r, maybe: m}
			for _, c := range tt.cols {
				if c.name == v.alias {
					v.alias += "_v"
				}
			}
			byLabel[n.label] = v
			tt.vars = append(tt.vars, v)
		case rowAlt:
			for _, k := range n.kids {
				if err := walk(k, r, m || len(n.kids) > 1); err != nil {
					return err
				}
			}
		default:
			for _, k := range n.kids {
				if err := walk(k, r, m); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(tt.pat, false, false); err != nil {
		return err
	}
	for label, def := range tt.sc.Define {
		l := unquoteLabel(label)
		v := byLabel[l]
		if v == nil {
			return &Untranslatable{tt.c.ID, "DEFINE of " + label + ", which the pattern does not use"}
		}
		x, err := tt.sqlExpr(def, v, byLabel)
		if err != nil {
			return err
		}
		v.define = x
	}
	return nil
}

func unquoteLabel(l string) string {
	if strings.HasPrefix(l, `"`) && strings.HasSuffix(l, `"`) && len(l) >= 2 {
		return l[1 : len(l)-1]
	}
	return strings.ToUpper(l)
}

var (
	sqlUnsupported = regexp.MustCompile(`(?i)\b(CLASSIFIER|MATCH_NUMBER|NEXT|FIRST|LAST|RUNNING|FINAL)\s*\(|\b(RUNNING|FINAL)\b`)
	sqlPrev        = regexp.MustCompile(`(?i)\bPREV\s*\(\s*((?:"\w+"|\w+)\.)?(\w+)\s*\)`)
	sqlPrevOther   = regexp.MustCompile(`(?i)\bPREV\s*\(`)
	sqlQualified   = regexp.MustCompile(`("\w+"|\b[A-Za-z_]\w*)\.(\w+)`)
	sqlEq          = regexp.MustCompile(`([^<>!=])=([^=])`)
	sqlWord        = regexp.MustCompile(`(?i)\b(AND|OR|NOT|TRUE|FALSE|IN)\b`)
	sqlIn          = regexp.MustCompile(`(?i)\bin\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)`)
)

// sqlExpr translates a DEFINE (own is its variable) or, with own nil, a
// measure of ONE ROW PER MATCH.
func (tt *trinoTranslator) sqlExpr(src string, own *rowVar, vars map[string]*rowVar) (string, error) {
	x := src
	if own == nil {
		if label := lastLabel(tt.pat); label != "" {
			// In ONE ROW PER MATCH, CLASSIFIER() is the last row's variable,
			// which this pattern fixes.
			x = regexp.MustCompile(`(?i)\bCLASSIFIER\s*\(\s*\)`).ReplaceAllString(x, "'"+label+"'")
		}
	}
	if m := sqlUnsupported.FindString(x); m != "" {
		return "", &Untranslatable{tt.c.ID, "the expression " + src + " uses " + strings.TrimRight(m, "( ") + " (no equivalent yet)"}
	}
	x = sqlPrev.ReplaceAllStringFunc(x, func(m string) string {
		g := sqlPrev.FindStringSubmatch(m)
		return "prev." + g[2]
	})
	if sqlPrevOther.MatchString(x) {
		return "", &Untranslatable{tt.c.ID, "the expression " + src + " uses PREV with an offset or over an expression"}
	}
	var bad error
	x = sqlQualified.ReplaceAllStringFunc(x, func(m string) string {
		g := sqlQualified.FindStringSubmatch(m)
		if g[1] == "prev" {
			return m
		}
		v := vars[unquoteLabel(g[1])]
		switch {
		case v == nil:
			bad = &Untranslatable{tt.c.ID, "the expression " + src + " names " + g[1] + ", not a pattern variable"}
			return m
		case v == own:
			return g[2] // B.value in B's own DEFINE is the current row
		case v.list:
			return v.alias + "[-1]." + g[2] // A.value of a repeated A is LAST(A.value)
		}
		return v.alias + "." + g[2]
	})
	if bad != nil {
		return "", bad
	}
	x = strings.ReplaceAll(x, "<>", "!=")
	x = sqlEq.ReplaceAllString(x, "$1==$2")
	x = sqlWord.ReplaceAllStringFunc(x, strings.ToLower)
	x = sqlIn.ReplaceAllString(x, "in [$1]")
	return x, nil
}

// lastLabel is the variable of a match's last row, when the pattern fixes
// it: its last item is a variable (or a group ending in one) that cannot be
// skipped.
func lastLabel(n *rowNode) string {
	for n != nil {
		if n.quant != nil && n.quant.lo == 0 {
			return ""
		}
		switch n.kind {
		case rowVarNode:
			return n.label
		case rowSeq, rowGroup:
			if len(n.kids) == 0 {
				return ""
			}
			n = n.kids[len(n.kids)-1]
		default:
			return ""
		}
	}
	return ""
}

func (tt *trinoTranslator) patternText(n *rowNode, inSeq bool) (string, error) {
	var s string
	switch n.kind {
	case rowVarNode:
		v := tt.varOf(n.label)
		s = v.alias + ":Row"
		if v.define != "" {
			s += "(" + v.define + ")"
		}
	case rowSeq:
		var parts []string
		for _, k := range n.kids {
			p, err := tt.patternText(k, true)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		s = strings.Join(parts, " ")
	case rowAlt:
		var parts []string
		for _, k := range n.kids {
			p, err := tt.patternText(k, false)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		s = strings.Join(parts, " | ")
		if inSeq {
			s = "(" + s + ")"
		}
	case rowGroup:
		p, err := tt.patternText(n.kids[0], false)
		if err != nil {
			return "", err
		}
		s = "(" + p + ")"
	}
	if q := n.quant; q != nil {
		s += q.text()
	}
	return s, nil
}

func (tt *trinoTranslator) varOf(label string) *rowVar {
	for _, v := range tt.vars {
		if v.label == label {
			return v
		}
	}
	return nil
}

func (tt *trinoTranslator) skip() (string, error) {
	s := strings.TrimSpace(tt.sc.AfterMatchSkip)
	if strings.Contains(s, "default") || s == "" {
		return "", nil
	}
	f := strings.Fields(s)
	switch {
	case s == "PAST LAST ROW":
		return "skip past last", nil
	case s == "TO NEXT ROW":
		return "skip to next", nil
	case len(f) == 3 && f[0] == "TO" && (f[1] == "FIRST" || f[1] == "LAST"):
		v := tt.varOf(unquoteLabel(f[2]))
		if v == nil {
			return "", &Untranslatable{tt.c.ID, "skip to " + f[2] + ", which is a SUBSET or unknown"}
		}
		return "skip to " + strings.ToLower(f[1]) + " " + v.alias, nil
	case len(f) == 2 && f[0] == "TO":
		v := tt.varOf(unquoteLabel(f[1]))
		if v == nil {
			return "", &Untranslatable{tt.c.ID, "skip to " + f[1] + ", which is a SUBSET or unknown"}
		}
		return "skip to last " + v.alias, nil
	}
	return "", &Untranslatable{tt.c.ID, "AFTER MATCH SKIP " + s}
}

// selectColumns maps each output column to the input column it shows ("" for
// measures).
func (tt *trinoTranslator) selectColumns() map[string]string {
	out := map[string]string{}
	for _, s := range tt.sc.Input.Columns {
		out[s] = s
	}
	for _, item := range tt.c.SQL.selectItems() {
		src, name := item, item
		if i := strings.Index(strings.ToUpper(item), " AS "); i >= 0 {
			src, name = strings.TrimSpace(item[:i]), strings.TrimSpace(item[i+4:])
		}
		src = strings.TrimPrefix(src, "m.")
		name = strings.TrimPrefix(name, "m.")
		if slices.Contains(tt.sc.Input.Columns, src) {
			out[name] = src
		}
	}
	return out
}

func (sc *SQLCase) selectItems() []string {
	i := strings.Index(sc.SQL, "SELECT ")
	j := strings.Index(sc.SQL, " FROM ")
	if i < 0 || j < i {
		return nil
	}
	return strings.Split(sc.SQL[i+7:j], ", ")
}

// allRowsExpect derives the expected matches of an ALL ROWS PER MATCH case:
// its rows grouped by match number, each row's variable from CLASSIFIER().
func (tt *trinoTranslator) allRowsExpect(t *Translation) error {
	c := tt.c
	if c.ExpectedError != nil {
		return nil
	}
	label, number := "", ""
	for _, m := range tt.sc.Measures {
		switch strings.ToUpper(strings.ReplaceAll(m.Expr, " ", "")) {
		case "CLASSIFIER()":
			label = m.Alias
		case "MATCH_NUMBER()":
			number = m.Alias
		}
	}
	li, ni := slices.Index(c.ExpectedColumns, label), slices.Index(c.ExpectedColumns, number)
	if label == "" || li < 0 {
		return &Untranslatable{c.ID, "ALL ROWS PER MATCH without a CLASSIFIER() column: the expected rows do not say which rows matched which variable"}
	}
	// Find each output row's input row: by a column with unique values,
	// else by position when every input row is output once, in order.
	rows := tt.sc.Input.Rows
	cols := tt.selectColumns()
	key := -1
	var keyIn int
	for i, name := range c.ExpectedColumns {
		src, ok := cols[name]
		if !ok {
			continue
		}
		j := slices.Index(tt.sc.Input.Columns, src)
		vals := map[string]bool{}
		unique := true
		for _, r := range rows {
			k := fmt.Sprint(r[j])
			if vals[k] {
				unique = false
			}
			vals[k] = true
		}
		if unique {
			key, keyIn = i, j
			break
		}
	}
	if key < 0 && len(c.ExpectedRows) != len(rows) {
		return &Untranslatable{c.ID, "the expected rows cannot be tied to input rows (no unique column)"}
	}
	type m struct {
		num  string
		vars map[string][]int
	}
	var matches []*m
	byNum := map[string]*m{}
	byRank := make([]int, len(rows))
	for i, r := range tt.rank {
		byRank[r] = i
	}
	for k, out := range c.ExpectedRows {
		lab, ok := out[li].(string)
		if !ok {
			continue // an unmatched row (WITH UNMATCHED ROWS)
		}
		idx := -1
		if key >= 0 {
			for i, r := range rows {
				if fmt.Sprint(r[keyIn]) == fmt.Sprint(out[key]) {
					idx = i
				}
			}
		} else {
			idx = byRank[k]
		}
		num := "1"
		if ni >= 0 {
			num = fmt.Sprint(out[ni])
		}
		mm := byNum[num]
		if mm == nil {
			mm = &m{num: num, vars: map[string][]int{}}
			byNum[num] = mm
			matches = append(matches, mm)
		}
		v := tt.varOf(unquoteLabel(lab))
		if lab != strings.ToUpper(lab) {
			v = tt.varOf(lab)
		}
		if v == nil {
			return &Untranslatable{c.ID, "expected label " + lab + " is not a variable"}
		}
		mm.vars[v.label] = append(mm.vars[v.label], idx)
	}
	var fields []event.Field
	for _, v := range tt.vars {
		fields = append(fields, event.Field{Name: v.alias})
	}
	schema := event.NewSchema("Match", fields, "", 0)
	t.Lines = []string{}
	for _, mm := range matches {
		vals := make([]event.Value, len(tt.vars))
		last := 0
		for i, v := range tt.vars {
			idxs := mm.vars[v.label]
			slices.SortFunc(idxs, func(a, b int) int { return tt.rank[a] - tt.rank[b] })
			for _, x := range idxs {
				last = max(last, tt.rank[x])
			}
			switch {
			case v.list:
				items := make([]event.Value, len(idxs))
				for k, x := range idxs {
					items[k] = event.IntValue(int64(x))
				}
				vals[i] = event.ListValue(items)
			case len(idxs) == 1:
				vals[i] = event.IntValue(int64(idxs[0]))
			case len(idxs) > 1:
				return &Untranslatable{c.ID, "variable " + v.label + " matched several rows but binds one"}
			}
		}
		t.Lines = append(t.Lines, RenderLine(int64(last)*1e6, schema, vals))
	}
	return nil
}

// oneRowEmit translates the measures of ONE ROW PER MATCH into emitted
// fields (partition columns first, as Trino outputs them) and the expected
// rows into lines without times (Trino does not say which rows matched).
func (tt *trinoTranslator) oneRowEmit(t *Translation) ([]string, error) {
	c := tt.c
	var fields []string
	var names []string
	for _, p := range tt.sc.PartitionBy {
		fields = append(fields, p)
		names = append(names, p)
	}
	for _, m := range tt.sc.Measures {
		x, err := tt.sqlExpr(m.Expr, nil, nil)
		if err != nil {
			return nil, err
		}
		fields = append(fields, m.Alias+": "+x)
		names = append(names, m.Alias)
	}
	if c.ExpectedError != nil {
		return fields, nil
	}
	var sf []event.Field
	for _, n := range names {
		sf = append(sf, event.Field{Name: n})
	}
	schema := event.NewSchema("Match", sf, "", 0)
	t.Lines = []string{}
	for _, row := range c.ExpectedRows {
		vals := make([]event.Value, len(names))
		for i, n := range names {
			j := slices.Index(c.ExpectedColumns, n)
			if j < 0 {
				return nil, &Untranslatable{c.ID, "expected column " + n + " is missing"}
			}
			vals[i] = cellValue(row[j])
		}
		t.Lines = append(t.Lines, stripTime(RenderLine(0, schema, vals)))
	}
	t.IgnoreTime = true
	return fields, nil
}

func cellValue(v any) event.Value {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return event.IntValue(i)
		}
		f, _ := x.Float64()
		return event.FloatValue(f)
	case string:
		return event.StringValue(x)
	case bool:
		return event.BoolValue(x)
	}
	return event.Nil
}

// stripTime drops a line's leading time.
func stripTime(line string) string {
	if i := strings.IndexByte(line, ' '); i >= 0 {
		return strings.TrimSpace(line[i:])
	}
	return line
}

// The row pattern syntax tree.

type rowKind uint8

const (
	rowVarNode rowKind = iota
	rowSeq
	rowAlt
	rowGroup
)

type rowNode struct {
	kind  rowKind
	label string // rowVarNode
	kids  []*rowNode
	quant *rowQuant
}

type rowQuant struct {
	lo, hi    int // hi -1: unbounded
	op        string
	reluctant bool
}

// text is the cep quantifier: SQL's quantifiers are greedy unless
// reluctant, and an exact count has no mode.
func (q *rowQuant) text() string {
	s := q.op
	if q.reluctant {
		return s + "?"
	}
	if q.lo == q.hi && strings.HasPrefix(s, "{") {
		return s
	}
	return s + "!"
}

func rowPatternNullable(n *rowNode) bool {
	if n.quant != nil && n.quant.lo == 0 {
		return true
	}
	switch n.kind {
	case rowVarNode:
		return false
	case rowAlt:
		for _, k := range n.kids {
			if rowPatternNullable(k) {
				return true
			}
		}
		return false
	}
	for _, k := range n.kids {
		if !rowPatternNullable(k) {
			return false
		}
	}
	return true
}

// parseRowPattern parses a MATCH_RECOGNIZE PATTERN: variables, quoted
// variables, concatenation, |, ( ), and the quantifiers. Anchors,
// exclusions and PERMUTE are not translated.
func parseRowPattern(src string) (*rowNode, error) {
	p := &rowParser{src: src}
	n, err := p.alt()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.src) {
		return nil, fmt.Errorf("pattern %s: unexpected %q", src, p.src[p.i:])
	}
	return n, nil
}

type rowParser struct {
	src string
	i   int
}

func (p *rowParser) space() {
	for p.i < len(p.src) && p.src[p.i] == ' ' {
		p.i++
	}
}

func (p *rowParser) peek() byte {
	p.space()
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *rowParser) alt() (*rowNode, error) {
	var kids []*rowNode
	for {
		s, err := p.seq()
		if err != nil {
			return nil, err
		}
		kids = append(kids, s)
		if p.peek() != '|' {
			break
		}
		p.i++
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &rowNode{kind: rowAlt, kids: kids}, nil
}

func (p *rowParser) seq() (*rowNode, error) {
	var kids []*rowNode
	for {
		c := p.peek()
		if c == 0 || c == '|' || c == ')' {
			break
		}
		f, err := p.factor()
		if err != nil {
			return nil, err
		}
		kids = append(kids, f)
	}
	if len(kids) == 0 {
		return nil, fmt.Errorf("an empty pattern (empty matches are a later goal)")
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &rowNode{kind: rowSeq, kids: kids}, nil
}

var rowQuantRE = regexp.MustCompile(`^(\*|\+|\?|\{\s*(\d*)\s*(,?)\s*(\d*)\s*\})(\??)`)

func (p *rowParser) factor() (*rowNode, error) {
	c := p.peek()
	var n *rowNode
	switch {
	case c == '^' || c == '$':
		return nil, fmt.Errorf("the anchor %c (a later goal)", c)
	case strings.HasPrefix(p.src[p.i:], "{-"):
		return nil, fmt.Errorf("the exclusion {- -} (a later goal)")
	case c == '(':
		p.i++
		inner, err := p.alt()
		if err != nil {
			return nil, err
		}
		if p.peek() != ')' {
			return nil, fmt.Errorf("pattern %s: missing )", p.src)
		}
		p.i++
		n = &rowNode{kind: rowGroup, kids: []*rowNode{inner}}
	case c == '"':
		j := strings.IndexByte(p.src[p.i+1:], '"')
		if j < 0 {
			return nil, fmt.Errorf("pattern %s: unterminated quoted label", p.src)
		}
		n = &rowNode{kind: rowVarNode, label: p.src[p.i+1 : p.i+1+j]}
		p.i += j + 2
	default:
		j := p.i
		for j < len(p.src) && (p.src[j] == '_' || p.src[j] >= 'A' && p.src[j] <= 'Z' || p.src[j] >= 'a' && p.src[j] <= 'z' || j > p.i && p.src[j] >= '0' && p.src[j] <= '9') {
			j++
		}
		if j == p.i {
			return nil, fmt.Errorf("pattern %s: unexpected %q", p.src, p.src[p.i:])
		}
		word := p.src[p.i:j]
		if strings.EqualFold(word, "PERMUTE") {
			return nil, fmt.Errorf("PERMUTE (not translated)")
		}
		n = &rowNode{kind: rowVarNode, label: strings.ToUpper(word)}
		p.i = j
	}
	if m := rowQuantRE.FindStringSubmatch(p.src[p.i:]); m != nil {
		q := &rowQuant{op: strings.ReplaceAll(m[1], " ", ""), reluctant: m[5] == "?"}
		switch m[1] {
		case "*":
			q.lo, q.hi = 0, -1
		case "+":
			q.lo, q.hi = 1, -1
		case "?":
			q.lo, q.hi = 0, 1
		default:
			q.lo, _ = strconv.Atoi(m[2])
			switch {
			case m[3] == "":
				q.hi = q.lo
			case m[4] == "":
				q.hi = -1
			default:
				q.hi, _ = strconv.Atoi(m[4])
			}
		}
		p.i += len(m[0])
		n.quant = q
	}
	return n, nil
}
