package engine

import (
	"strconv"
	"strings"
	"time"
)

// The builder clauses of keyed rules: partition by, window, having and
// output. A window rule is
//
//	b.Rule("vwap").From("Trade").Where("qty > 0").
//		PartitionBy("sym").
//		Window(engine.Sliding(time.Minute)).
//		Having("count() >= 2").
//		Emit("Vwap", engine.Field{Name: "sym"},
//			engine.Field{Name: "vwap", Expr: "sum(px * qty) / sum(qty)"}).
//		Output(engine.OutputLast, time.Minute)
//
// Clauses come in that order: From, As, Where (any number), PartitionBy
// (any number of calls; the keys accumulate), Window, Having, Emit, Output.
// In a window rule's Having and Emit, the aggregates count() sum(x) avg(x)
// min(x) max(x) first(x) last(x) stddev(x) var(x) count_distinct(x)
// percentile(x, q) are available, their arguments over the source event's
// fields; outside an aggregate only the named partition keys and constants
// are. A filter rule (no Window) may have PartitionBy and Output: the keys
// then only scope the output rate limit.

// WindowKind is the kind of a window.
type WindowKind uint8

// The window kinds.
const (
	WindowTumbling     WindowKind = iota + 1 // fixed, non-overlapping, epoch-aligned
	WindowHopping                            // fixed size, advancing by a step
	WindowSliding                            // the last d of event time
	WindowCount                              // every n events
	WindowSlidingCount                       // the last n events
	WindowSession                            // runs of events less than a gap apart
)

var windowKindNames = [...]string{
	WindowTumbling: "tumbling", WindowHopping: "hopping", WindowSliding: "sliding",
	WindowCount: "count", WindowSlidingCount: "sliding count", WindowSession: "session",
}

func (k WindowKind) String() string {
	if k >= WindowTumbling && int(k) < len(windowKindNames) {
		return windowKindNames[k]
	}
	return "window(" + strconv.Itoa(int(k)) + ")"
}

// WindowSpec says how a window rule groups the events of each key. Make one
// with Tumbling, Hopping, Sliding, CountWindow, SlidingCount or Session;
// Build reports sizes, steps and gaps that are not positive and counts
// below 1.
type WindowSpec struct {
	Kind  WindowKind
	Size  time.Duration // tumbling, hopping, sliding
	Step  time.Duration // hopping
	Gap   time.Duration // session
	Count int           // count, sliding count
}

// Tumbling windows are [k·size, (k+1)·size), aligned to the Unix epoch,
// each emitted once when the watermark reaches its end.
func Tumbling(size time.Duration) WindowSpec { return WindowSpec{Kind: WindowTumbling, Size: size} }

// Hopping windows are [k·every, k·every + size), emitted when the watermark
// reaches each one's end; an event is in every window that covers it.
func Hopping(size, every time.Duration) WindowSpec {
	return WindowSpec{Kind: WindowHopping, Size: size, Step: every}
}

// Sliding holds, at time t, the events in (t − size, t]; it emits after
// every arrival and at every expiry instant when its result changed.
func Sliding(size time.Duration) WindowSpec { return WindowSpec{Kind: WindowSliding, Size: size} }

// CountWindow is a tumbling window of n events per key, emitted on the n-th.
func CountWindow(n int) WindowSpec { return WindowSpec{Kind: WindowCount, Count: n} }

// SlidingCount holds the last n events of the key and emits after every
// arrival.
func SlidingCount(n int) WindowSpec { return WindowSpec{Kind: WindowSlidingCount, Count: n} }

// Session groups the events of a key less than gap apart; it closes, and
// emits, when the watermark reaches its last event plus gap.
func Session(gap time.Duration) WindowSpec { return WindowSpec{Kind: WindowSession, Gap: gap} }

// String returns the spec in the rule language's syntax ("hopping 10m every 1m").
func (w WindowSpec) String() string {
	switch w.Kind {
	case WindowTumbling, WindowSliding:
		return w.Kind.String() + " " + formatDuration(w.Size)
	case WindowHopping:
		return "hopping " + formatDuration(w.Size) + " every " + formatDuration(w.Step)
	case WindowCount, WindowSlidingCount:
		return w.Kind.String() + " " + strconv.Itoa(w.Count)
	case WindowSession:
		return "session gap " + formatDuration(w.Gap)
	}
	return w.Kind.String()
}

// formatDuration prints d as time.Duration does, without zero units
// ("1m" rather than "1m0s", "1h30m").
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// OutputMode is the rate limit of Rule.Output.
type OutputMode uint8

// The output modes.
const (
	// OutputFirst passes a key's first result and drops the key's results
	// for the next d of event time (a quiet period from the passing
	// result's time); the next result after that passes and opens another.
	OutputFirst OutputMode = iota + 1
	// OutputLast cuts event time into intervals [k·d, (k+1)·d) aligned to
	// the Unix epoch and emits, at the end of each interval that had
	// results, the key's last one, with the interval's end as its time.
	OutputLast
)

func (o OutputMode) String() string {
	switch o {
	case OutputFirst:
		return "first"
	case OutputLast:
		return "last"
	}
	return "output(" + strconv.Itoa(int(o)) + ")"
}

// keyedClause is the payload of a partition by, window, having or output
// clause.
type keyedClause struct {
	keys   []string // partition by
	window WindowSpec
	mode   OutputMode
	every  time.Duration
}

// PartitionBy adds partition keys: expressions over the source event's
// fields (and its alias, its type name as a qualifier, the constants).
// Windows and output rate limits are then kept per key. A key that is a
// plain field (user, alias.user, Type.user) is available in Having and
// Emit by the field's name. Keys of one rule accumulate over calls; At
// positions the clause (and its keys) added last.
func (r *Rule) PartitionBy(exprs ...string) *Rule {
	return r.add(clause{kind: clausePartition, k: &keyedClause{keys: append([]string(nil), exprs...)}})
}

// Window makes the rule a window rule: per key, events are grouped into
// windows of the given spec, and each result (per window, or per change of
// a sliding window) is computed by the aggregates of Having and Emit.
func (r *Rule) Window(w WindowSpec) *Rule {
	return r.add(clause{kind: clauseWindow, k: &keyedClause{window: w}})
}

// Having sets the condition a window result must meet to be emitted: an
// expression over aggregates, partition keys and constants, of type bool.
// A result for which it is false or nil is not emitted.
func (r *Rule) Having(expr string) *Rule { return r.add(clause{kind: clauseHaving, expr: expr}) }

// Output limits the rate of the rule's results per partition key (one key
// without PartitionBy), by event time: see OutputFirst and OutputLast.
func (r *Rule) Output(mode OutputMode, every time.Duration) *Rule {
	return r.add(clause{kind: clauseOutput, k: &keyedClause{mode: mode, every: every}})
}
