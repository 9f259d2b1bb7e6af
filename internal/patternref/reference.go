package patternref

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// ErrUnsupported marks a rule the reference cannot judge.
var ErrUnsupported = errors.New("patternref: not supported by the reference matcher")

// Match is one emitted match of a pattern rule: the derived event the
// engine must produce, with the events it was made from.
type Match struct {
	Rule *lang.RuleInfo
	// Key holds the partition key values (nil without partition by).
	Key []event.Value
	// Elements holds, per element of the pattern (PatternInfo.Elements
	// order), the input indexes it took, oldest first. Negated elements
	// take nothing.
	Elements [][]int
	// Time is the derived event's time: the last matched event's, or the
	// expiry time for a pattern that ends in `-> not B`.
	Time int64
	// Fields are the emitted fields in the emitted type's schema order.
	Fields []event.Value

	at step // when the match is emitted
}

// Events returns every input index of the match, sorted.
func (m *Match) Events() []int {
	var out []int
	for _, e := range m.Elements {
		out = append(out, e...)
	}
	slices.Sort(out)
	return out
}

// Alias returns the input indexes bound to an alias (nil if none).
func (m *Match) Alias(name string) []int {
	a := m.Rule.Pattern.Alias(name)
	if a == nil {
		return nil
	}
	return m.Elements[a.Element.Index]
}

// Run runs every pattern rule of p over events, given in arrival order, and
// returns the matches in emission order: by the step at which they are
// emitted, then by rule order (p.Order), then by each rule's match order.
// Derived events are not fed back: rules over derived types see nothing.
func Run(p *lang.Program, events []event.Event) ([]*Match, error) {
	var all []*Match
	for _, r := range p.Order {
		if r.Kind != lang.PatternRule {
			continue
		}
		ms, err := RunRule(p, r, events)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at.less(all[j].at) })
	return all, nil
}

// RunRule runs one pattern rule over events, given in arrival order, and
// returns its matches in emission order.
func RunRule(p *lang.Program, r *lang.RuleInfo, events []event.Event) ([]*Match, error) {
	if r.Kind != lang.PatternRule || r.Pattern == nil {
		return nil, fmt.Errorf("%w: rule %s is not a pattern rule", ErrUnsupported, r.Name)
	}
	if r.Timeout != nil {
		return nil, fmt.Errorf("%w: rule %s has on timeout emit", ErrUnsupported, r.Name)
	}
	rr := &ruleRun{p: p, r: r, pi: r.Pattern, m: eval.NewMachine()}
	rr.order(events)
	if err := rr.partition(); err != nil {
		return nil, err
	}
	var out []*Match
	for _, ps := range rr.parts {
		ms, err := rr.matchPartition(ps)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.less(out[j].at) })
	return out, nil
}

// step is a point of the processing timeline: an event, a timer (which
// fires before the events of its time, as docs/language.md's Time section
// says) or the end of input.
type step struct {
	time  int64
	phase int8 // 0 timer, 1 event, 2 end of input
	seq   int  // event: its position in time order
}

func (s step) less(t step) bool {
	if s.time != t.time {
		return s.time < t.time
	}
	if s.phase != t.phase {
		return s.phase < t.phase
	}
	return s.seq < t.seq
}

func maxStep(a, b step) step {
	if a.less(b) {
		return b
	}
	return a
}

func minStep(a, b step) step {
	if a.less(b) {
		return a
	}
	return b
}

var endStep = step{time: math.MaxInt64, phase: 2}

// ruleRun is the state of one RunRule.
type ruleRun struct {
	p  *lang.Program
	r  *lang.RuleInfo
	pi *lang.PatternInfo
	m  *eval.Machine

	events []event.Event // in (time, arrival) order
	input  []int         // events[i] is input index input[i]
	parts  []*pstream
}

// pstream is the stream of one partition: the events the rule reads whose
// keys are equal, in time order.
type pstream struct {
	key  []event.Value
	evs  []int // indexes into ruleRun.events
	prev []int // prev[i]: index in evs of the previous event of the same type, -1
}

func (rr *ruleRun) order(events []event.Event) {
	idx := make([]int, len(events))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return events[idx[a]].Time < events[idx[b]].Time })
	rr.events = make([]event.Event, len(events))
	rr.input = idx
	for i, j := range idx {
		rr.events[i] = events[j]
	}
}

// partition splits the events the rule reads by their partition keys.
func (rr *ruleRun) partition() error {
	reads := map[int32]int{}
	for i, t := range rr.r.Reads {
		reads[t.Schema.ID] = i
	}
	byKey := map[string]*pstream{}
	for i := range rr.events {
		ev := &rr.events[i]
		ti, ok := reads[ev.Type]
		if !ok {
			continue // not in the rule's stream
		}
		key := make([]event.Value, len(rr.r.Partition))
		for j, k := range rr.r.Partition {
			c := k.Exprs[ti]
			if c == nil {
				return fmt.Errorf("%w: rule %s: partition key %d has no expression for %s", ErrUnsupported, rr.r.Name, j, rr.r.Reads[ti].Name)
			}
			key[j] = rr.m.Eval(c.Program, &eval.Frame{Current: ev, Bound: []*event.Event{ev}})
		}
		ks := valuesKey(key)
		ps := byKey[ks]
		if ps == nil {
			ps = &pstream{key: key}
			if len(rr.r.Partition) == 0 {
				ps.key = nil
			}
			byKey[ks] = ps
			rr.parts = append(rr.parts, ps)
		}
		ps.evs = append(ps.evs, i)
	}
	for _, ps := range rr.parts {
		ps.prev = make([]int, len(ps.evs))
		last := map[int32]int{}
		for i, gi := range ps.evs {
			t := rr.events[gi].Type
			if j, ok := last[t]; ok {
				ps.prev[i] = j
			} else {
				ps.prev[i] = -1
			}
			last[t] = i
		}
	}
	return nil
}

// valuesKey encodes values so that equal values give equal strings.
func valuesKey(vs []event.Value) string {
	var b strings.Builder
	for _, v := range vs {
		writeKey(&b, v)
		b.WriteByte(0)
	}
	return b.String()
}

func writeKey(b *strings.Builder, v event.Value) {
	b.WriteString(strconv.Itoa(int(v.Kind())))
	b.WriteByte(':')
	switch v.Kind() {
	case event.KindBool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case event.KindInt:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case event.KindFloat:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case event.KindString:
		b.WriteString(strconv.Quote(v.Str()))
	case event.KindTime:
		b.WriteString(strconv.FormatInt(v.Time(), 10))
	case event.KindDuration:
		b.WriteString(strconv.FormatInt(int64(v.Duration()), 10))
	case event.KindList:
		b.WriteByte('[')
		for _, x := range v.List() {
			writeKey(b, x)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	}
}
