package lang

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// checkPrelude declares the types the message table's sources use; each
// source starts on line 3.
const checkPrelude = "event Login { user: string, ok: bool, ip: string, at: time } time at\n" +
	"event Purchase { user: string, amount: float, at: time } time at\n"

// errorStrings checks src and returns every error as file:line:col: message.
func errorStrings(t *testing.T, src string) []string {
	t.Helper()
	p, err := LoadSource("t.cep", []byte(src))
	if err == nil {
		if p == nil {
			t.Fatal("no error and no Program")
		}
		return nil
	}
	if p != nil {
		t.Error("a Program was returned along with errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	out := make([]string, len(list))
	for i, e := range list {
		out[i] = e.Error()
	}
	return out
}

func TestCheck_messages(t *testing.T) {
	tests := []struct {
		name string
		src  string // after checkPrelude
		want []string
	}{
		{"unknown_type", "rule r from Purchse emit X { user }\n", []string{
			"t.cep:3:13: unknown event type \"Purchse\"; did you mean \"Purchase\"?",
		}},
		{"unknown_type_no_suggestion", "rule r from Zebra emit X { n: 1 }\n", []string{
			"t.cep:3:13: unknown event type \"Zebra\"",
		}},
		{"unknown_name", "rule r from Purchase where amout > 1.0 emit X { user }\n", []string{
			"t.cep:3:28: unknown name \"amout\"; did you mean \"amount\"?",
		}},
		{"unknown_alias_field", "rule r from Purchase p where p.amout > 1.0 emit X { user }\n", []string{
			"t.cep:3:32: unknown field \"amout\" on Purchase; did you mean \"amount\"?",
		}},
		{"where_not_bool", "rule r from Purchase where amount emit X { user }\n", []string{
			"t.cep:3:28: where must be bool, found float",
		}},
		{"aggregate_in_where", "rule r from Purchase where count() > 1 emit X { user }\n", []string{
			"t.cep:3:28: aggregate count is not allowed in where",
		}},
		{"no_emit", "rule r from Purchase\n", []string{
			"t.cep:3:6: rule \"r\" has no emit clause; every rule must emit an event",
		}},
		{"no_source", "rule r emit X { n: 1 }\n", []string{
			"t.cep:3:6: rule \"r\" needs a from clause (filter and window rules) or a match clause (pattern rules)",
		}},
		{"from_and_match", "rule r from Purchase match a:Login -> b:Purchase emit X { user }\n", []string{
			"t.cep:3:22: rule \"r\" has both from and match; a rule reads either one type (from) or a pattern (match)",
		}},
		{"clause_order", "rule r from Purchase emit X { user } partition by user\n", []string{
			"t.cep:3:38: partition by must come before emit; clauses go in the order from, partition by, window, match, within, skip, having, emit, on timeout emit, output",
		}},
		{"duplicate_clause", "rule r from Purchase where amount > 1.0 emit X { user } emit Y { user }\n", []string{
			"t.cep:3:57: duplicate emit clause; rule \"r\" already has one at column 41",
		}},
		{"window_in_match", "rule r window sliding 1m match a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:8: window needs from; a match rule cannot have a window",
		}},
		{"timeout_in_filter", "rule r from Purchase emit X { user } on timeout emit Y { user }\n", []string{
			"t.cep:3:38: on timeout emit needs a match clause with within",
		}},
		{"timeout_without_within", "rule r match a:Login -> b:Purchase emit X { n: 1 } on timeout emit Y { n: 2 }\n", []string{
			"t.cep:3:52: on timeout emit needs a within clause: a partial match times out when within expires",
		}},
		{"within_skip_in_filter", "rule r from Purchase within 1m skip none emit X { user }\n", []string{
			"t.cep:3:22: within needs a match clause; it bounds the time of a pattern",
			"t.cep:3:32: skip needs a match clause; it says where to search after a pattern matched",
		}},
		{"having_in_filter", "rule r from Purchase having amount > 1.0 emit X { user }\n", []string{
			"t.cep:3:22: having needs a window or a match; a filter rule filters with where",
		}},
		{"zero_within_and_output", "rule r match a:Login -> b:Purchase within 0s emit X { n: 1 } output first every 0s\n", []string{
			"t.cep:3:43: within must be a positive duration, found 0s",
			"t.cep:3:81: output every must be a positive duration, found 0s",
		}},
		{"zero_windows", "rule r from Purchase window tumbling 0s emit X { n: count() }\nrule s from Purchase window count 0 emit Y { n: count() }\n", []string{
			"t.cep:3:38: tumbling window size must be a positive duration, found 0s",
			"t.cep:4:35: count window size must be at least 1, found 0",
		}},
		{"duplicate_rule", "rule r from Purchase emit X { user }\nrule r from Login emit Y { user }\n", []string{
			"t.cep:4:6: rule \"r\" is already declared at line 3",
		}},
		{"emit_needs_name", "rule r from Purchase emit X { user, amount + 1.0 }\n", []string{
			"t.cep:3:37: emitted field \"amount + 1.0\" needs a name; write name: amount + 1.0 (only a name or a path such as s.user names itself)",
		}},
		{"emit_duplicate_field", "rule r from Purchase emit X { user, user }\n", []string{
			"t.cep:3:37: field \"user\" is emitted twice in emit X (first at column 31)",
		}},
		{"emit_path_names_field", "rule r match a:Login -> b:Purchase emit X { a.user, b.user }\n", []string{
			"t.cep:3:53: field \"user\" is emitted twice in emit X (first at column 45)",
		}},
		{"emit_declared_unknown_field", "event Alert { user: string, level: int }\nrule r from Purchase emit Alert { user, levl: 1 }\n", []string{
			"t.cep:4:41: event type Alert has no field \"levl\"; did you mean \"level\"?",
		}},
		{"emit_declared_wrong_type", "event Alert { user: string, level: int }\nrule r from Purchase emit Alert { user, level: amount }\n", []string{
			"t.cep:4:48: field \"level\" of Alert is int, but the expression is float",
		}},
		{"emit_int_into_float_ok", "event Alert { user: string, level: float }\nrule r from Purchase emit Alert { user, level: 1 }\nrule s from Alert where level > 0.5 emit Y { user }\n", []string{}},
		{"emit_inferred_disagree_fields", "rule r from Purchase emit X { user, amount }\nrule s from Login emit X { user }\n", []string{
			"t.cep:4:24: emit X {user} does not match emit X {user, amount} of rule \"r\" (line 3); rules that emit an undeclared type must emit the same fields, or declare event X",
		}},
		{"emit_inferred_disagree_type", "rule r from Purchase emit X { user, v: amount }\nrule s from Login emit X { user, v: ok }\n", []string{
			"t.cep:4:34: field \"v\" of X is bool here but float in rule \"r\" (line 3); declare event X to fix its type",
		}},
		{"emit_nil", "rule r from Purchase emit X { user, v: nil }\n", []string{
			"t.cep:3:40: cannot infer the type of field \"v\" of X from nil; declare event X { ... } to give it a type",
		}},
		{"emit_reserved", "rule r from Purchase emit invalid { user }\n", []string{
			"t.cep:3:27: cannot emit \"invalid\": the name is reserved for the built-in stream of invalid input",
		}},
		{"cycle_three", "rule a from C emit A { n: 1 }\nrule b from A emit B { n: 1 }\nrule c from B emit C { n: 1 }\n", []string{
			"t.cep:3:6: rules form a cycle: a emits A, which b reads; b emits B, which c reads; c emits C, which a reads",
		}},
		{"cycle_self", "rule a from Purchase emit Purchase { user, amount, at }\n", []string{
			"t.cep:3:6: rule \"a\" reads Purchase, which it emits itself; a rule's output cannot feed the rule",
		}},
		{"starts_with_edge", "rule r match ->> a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:14: a pattern cannot start with the edge ->>; an edge goes between two elements",
		}},
		{"starts_with_not", "rule r match not Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:14: a pattern cannot start with not; absence is measured from an earlier event, so put an element first",
		}},
		{"trailing_not", "rule r match a:Login -> not Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:25: a trailing not needs within: the absence is established when within expires",
		}},
		{"trailing_not_with_within_ok", "rule r match a:Login -> not Purchase within 1m emit X { user: a.user }\n", []string{}},
		{"not_and", "rule r match a:Login -> (not Purchase & b:Login) -> c:Login emit X { n: 1 }\n", []string{
			"t.cep:3:26: not cannot be combined with &; & needs events that occur",
		}},
		{"not_quantifier", "rule r match a:Login -> not Purchase{2} -> c:Login emit X { n: 1 }\n", []string{
			"t.cep:3:37: not cannot take a quantifier; not B already means no B at all",
		}},
		{"not_group", "rule r match a:Login -> not (Purchase) -> c:Login emit X { n: 1 }\n", []string{
			"t.cep:3:25: not applies to one element, not a group",
		}},
		{"quantifier_bounds", "rule r match a:Login{3,2} -> b:Login{0,0} emit X { n: 1 }\n", []string{
			"t.cep:3:21: quantifier {3,2}: the maximum 2 is less than the minimum 3",
			"t.cep:3:37: quantifier {0,0} matches nothing; the maximum must be at least 1",
		}},
		{"quantifier_upper_only", "rule r match a:Login -> b:Login{,2} -> c:Purchase emit X { n: len(b) }\n", nil},
		{"quantifier_upper_zero", "rule r match a:Login -> b:Login{,0} -> c:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:32: quantifier {,0} matches nothing; the maximum must be at least 1",
		}},
		{"until_on_single", "rule r match a:Login{1} until(ok) -> b:Login emit X { n: 1 }\n", []string{
			"t.cep:3:31: until needs a quantifier that repeats (+, *, {n,} or {n,m} with m > 1), found {1}",
		}},
		{"duplicate_alias", "rule r match a:Login -> a:Login emit X { n: 1 }\n", []string{
			"t.cep:3:25: alias \"a\" is already used at column 14",
		}},
		{"alias_is_field", "rule r match ip:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:14: alias \"ip\" is also a field of Login; choose another alias (in a condition a bare name is a field)",
		}},
		{"alias_prev", "rule r match prev:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:14: alias \"prev\" is reserved: prev is the previous event of the partition",
		}},
		{"not_alias", "rule r match a:Login -> not p:Purchase -> b:Login emit X { n: 1 }\n", []string{
			"t.cep:3:29: a not element binds nothing; drop the alias \"p\"",
		}},
		{"skip_unknown", "rule r match first:Login -> second:Purchase skip to last secnd emit X { n: 1 }\n", []string{
			"t.cep:3:58: skip to last secnd: no element of the pattern is named \"secnd\"; did you mean \"second\"?",
		}},
		{"skip_first_element", "rule r match a:Login -> b:Purchase skip to last a emit X { n: 1 }\n", []string{
			"t.cep:3:49: skip to last a: a can be the first element of a match, so the next search would start where this one did; skip to a later element",
		}},
		{"skip_last_repeating_first_ok", "rule r match a:Login+ -> b:Purchase skip to last a emit X { n: len(a) }\n", []string{}},
		{"skip_ambiguous_type", "rule r match a:Purchase -> Login -> Login skip to first Login emit X { n: 1 }\n", []string{
			"t.cep:3:57: skip to first Login: several elements have type Login; give the one you mean an alias",
		}},
		{"list_alias_as_event", "rule r match f:Login+ -> s:Login emit X { ip: f.ip }\n", []string{
			"t.cep:3:47: f is a list of Login events (its element repeats); write f[0].ip, f[-1].ip or map(f, .ip)",
		}},
		{"alias_not_bound", "rule r match a:Login(b.user == user) -> b:Login emit X { n: 1 }\n", []string{
			"t.cep:3:22: alias \"b\" is not bound here: a condition sees only the elements before it and its own alias",
		}},
		{"prev_unknown_field", "rule r match a:Login(prev.ipp == ip) -> b:Login emit X { n: 1 }\n", []string{
			"t.cep:3:27: unknown field \"ipp\" on Login; did you mean \"ip\"?",
		}},
		{"implicit_alias", "rule r match Login -> Purchase(user == Login.user) emit X { user: Purchase.user, ok: Login.ok }\n", []string{}},
		{"nullable_pattern", "rule r match a:Login* emit X { n: 1 }\n", []string{
			"t.cep:3:14: the pattern can match no events at all; at least one element must be required (not ?, * or {0,n})",
		}},
		{"partition_missing_field", "rule r partition by ip match a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:21: partition key \"ip\" is not a field of Purchase; a key must be a field of every type the pattern reads, or be written per type as Purchase.field",
		}},
		{"partition_types_disagree", "rule r partition by Login.ok, Purchase.user match a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:31: partition key 1 is string on Purchase but bool on Login; the keys of all types must have the same type",
		}},
		{"partition_key_count", "rule r partition by Login.user match a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:8: partition by gives Login 1 key(s) but Purchase 0; every type needs the same keys (write one per type as Type.field)",
		}},
		{"partition_alias", "rule r partition by a.user match a:Login -> b:Purchase emit X { n: 1 }\n", []string{
			"t.cep:3:21: partition key cannot use the alias \"a\": a key is computed from each event alone; write a field, or Type.field for one type",
		}},
		{"partition_type_not_read", "rule r partition by Login.user from Purchase emit X { user }\n", []string{
			"t.cep:3:21: partition key \"Login.user\" names Login, which rule \"r\" does not read",
			"t.cep:3:32: from must come before partition by; clauses go in the order from, partition by, window, match, within, skip, having, emit, on timeout emit, output",
		}},
		{"partition_duplicate", "rule r from Purchase partition by user, user emit X { user }\n", []string{
			"t.cep:3:41: duplicate partition key \"user\" (first at column 35)",
		}},
		{"partition_list", "event Tagged { tags: [string] }\nrule r from Tagged partition by tags emit X { n: 1 }\n", []string{
			"t.cep:4:33: partition key \"tags\" is a list ([string]); a key must be a single value",
		}},
		{"window_non_key", "rule r from Purchase partition by user window tumbling 1m emit X { user, amount }\n", []string{
			"t.cep:3:74: \"amount\" is not a partition key; outside an aggregate, a window rule's emit may name only the partition keys (user); aggregate it, e.g. last(amount)",
		}},
		{"window_no_keys", "rule r from Purchase window tumbling 1m having amount > 1.0 emit X { n: count() }\n", []string{
			"t.cep:3:48: \"amount\" is read outside an aggregate, but rule \"r\" has no partition keys; a window rule's having may name fields only inside an aggregate, e.g. last(amount)",
		}},
		{"window_alias_key", "rule r from Purchase p partition by p.user window tumbling 1m emit X { p.user, n: count() }\n", []string{
			"t.cep:3:72: p.user is the partition key \"user\"; in a window rule's emit write it as user",
		}},
		{"window_percentile", "rule r from Purchase window tumbling 1m emit X { p: percentile(amount, 1.5) }\n", []string{
			"t.cep:3:72: percentile needs a constant q in [0,1], found 1.5",
		}},
		{"const_errors", "const a = b\nconst b = 1\nconst c = c\nconst d = nil\nconst e = now()\nconst f = 1 % 0\nconst g = bb\nconst a = 2\n", []string{
			"t.cep:3:11: const \"a\" refers to \"b\", which is declared later (line 4); a const may use only consts declared before it",
			"t.cep:5:11: const \"c\" refers to itself",
			"t.cep:6:11: const \"d\" is nil; a const needs a value",
			"t.cep:7:11: const \"e\" must be constant; now() changes at every call",
			"t.cep:8:13: const \"f\" cannot be computed: integer divide by zero",
			"t.cep:9:11: unknown name \"bb\"; did you mean \"b\"?",
			"t.cep:10:7: const \"a\" is already declared at line 3",
		}},
		{"decl_errors", "event A { x: strin, y: integer, x: int, at: time } time t\nevent A { y: int }\nevent B { at: string } time at\nevent C { n: int } lateness 1s\nevent invalid { n: int }\n", []string{
			"t.cep:3:14: unknown type \"strin\"; did you mean \"string\"?",
			"t.cep:3:24: unknown type \"integer\"; expected bool, int, float, string, time, duration, any or a list [T]",
			"t.cep:3:33: field \"x\" of A is already declared at column 11",
			"t.cep:3:57: time field \"t\" is not a field of A; did you mean \"at\"?",
			"t.cep:4:7: event type \"A\" is already declared at line 3",
			"t.cep:5:29: time field \"at\" of B is string; it must be time",
			"t.cep:6:29: lateness needs a time field: C has no time clause, so its events take their arrival time",
			"t.cep:7:7: event type name \"invalid\" is reserved for the built-in stream of invalid input",
		}},
		{"quantified_group_lists", "rule r match (a:Login b:Purchase)+ -> c:Login(len(a) > 1 and b[0].amount > 1.0) emit X { n: len(b), u: a.user }\n", []string{
			"t.cep:3:104: a is a list of Login events (its element repeats); write a[0].user, a[-1].user or map(a, .user)",
		}},
		{"scope_and_alternation", "rule r match a:Login (b:Purchase | c:Login(b.amount > 1.0)) emit X { n: 1 }\n", []string{
			"t.cep:3:44: alias \"b\" is not bound here: a condition sees only the elements before it and its own alias",
		}},
		{"smoke_mixed", "event A { x: int }\nrule r from A where x > emit B {}\nrule q from A emit C { 1 }\n", []string{
			"t.cep:4:23: the expression ends too early",
			"t.cep:5:24: emitted field \"1\" needs a name; write name: 1 (only a name or a path such as s.user names itself)",
		}},
		{"keyword_fields", "event A { from: int, rule: int }\nrule w5 from A x where x.from == 1 && x.rule > 2 window tumbling 1d emit Z { n: count(), window: 2 }\n", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(t, checkPrelude+tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestCheck_tenMistakes is the "done when": a file with ten planted
// mistakes yields exactly those ten errors, each at its file:line:col.
func TestCheck_tenMistakes(t *testing.T) {
	got := errorStrings(t, tenMistakes)
	want := []string{
		`t.cep:1:43: unknown type "strng"; did you mean "string"?`,
		`t.cep:10:21: unknown name "limt"; did you mean "limit"?`,
		`t.cep:14:8: unknown event type "Purchse"; did you mean "Purchase"?`,
		`t.cep:19:53: f is a list of Login events (its element repeats); write f[0].ip, f[-1].ip or map(f, .ip)`,
		`t.cep:21:17: skip to first g: no element of the pattern is named "g"; did you mean "f"?`,
		`t.cep:26:23: a trailing not needs within: the absence is established when within expires`,
		`t.cep:27:28: unknown field "usr" on Purchase; did you mean "user"?`,
		`t.cep:31:3: within needs a match clause; it bounds the time of a pattern`,
		`t.cep:36:21: field "user" is emitted twice in emit Seen (first at column 15)`,
		`t.cep:38:6: rule "echo" reads Echo, which it emits itself; a rule's output cannot feed the rule`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const tenMistakes = `event Login { user: string, ok: bool, ip: strng, at: time } time at
event Purchase { user: string, amount: float, at: time } time at

const limit = 5

rule storm
  from Login where not ok
  partition by user
  window sliding 5m
  having count() >= limt
  emit Storm { user, attempts: count() }

rule big
  from Purchse where amount > 100.0
  emit Big { user, amount }

rule brute
  partition by user
  match f:Login(not ok){3,} -> s:Login(ok and ip == f.ip)
  within 10m
  skip to first g
  emit Compromise { user: s.user, attempts: len(f) }

rule absent
  partition by user
  match p:Purchase -> not Purchase
  emit Abandoned { user: p.usr }

rule copy
  from Purchase
  within 5m
  emit Copy { user }

rule seen
  from Login
  emit Seen { user, user }

rule echo
  from Echo
  emit Echo { n: 1 }
`

// validProgram uses every construct of the language once; it must check
// without errors, and TestCheck_program inspects what the checker resolved.
const validProgram = `event Login { user: string, ok: bool, ip: string, tags: [string], at: time } time at lateness 5s
event Purchase { user: string, amount: float, items: int, at: time } time at
event Temp { sensor: string, value: float, at: time } time at
event Account { id: string, owner: string, at: time } time at
event Alert { user: string, level: float, note: any }

const big = 1000.0
const huge = big * 10
const admins = ["root", "admin"]
const window_note = "w" + "x"

rule large
  from Purchase p where p.amount > big and p.user not in admins
  partition by user
  emit Alert { user, level: 2, note: p.items ?? 0 }
  output last every 1m

rule tumble
  from Purchase where amount > 0.0
  partition by user
  window tumbling 1m
  having sum(amount) > huge or count() > 3
  emit Spend { user, total: sum(amount), mean: avg(amount), lo: min(amount), hi: max(amount),
               sd: stddev(amount), v: var(amount), n: count_distinct(items), p90: percentile(amount, 0.9),
               first_at: first(at), last_at: last(at) }

rule hop
  from Temp t
  partition by t.sensor
  window hopping 5m every 1m
  emit TempAvg { sensor, avg: avg(t.value) }

rule counts
  from Temp
  window count 100
  emit Hundred { n: count(), note: window_note }

rule sliding_counts
  from Temp
  partition by sensor
  window sliding count 10
  having max(value) - min(value) > 5.0
  emit Swing { sensor }

rule sessions
  from Login
  partition by user, ip
  window session gap 30s
  emit Session { user, ip, n: count() }

rule brute
  partition by user
  match f:Login(not ok and (len(f) == 0 or ip == f[-1].ip)){3,}? -> s:Login(ok and ip == f[0].ip)
  within 10m
  skip to last s
  emit Compromise { user, attempts: len(f), ip: s.ip, first: f[0].at }

rule rising
  partition by sensor
  match a:Temp b:Temp(value > prev.value)+ relaxed until(value > 100.0) c:Temp(value < b[-1].value)
  within gap 1m
  skip none
  emit Rise { sensor: a.sensor, steps: len(b), peak: max(map(b, .value)), total: sum(map(b, .value)) }

rule any_edges
  partition by Login.user, Purchase.user, Account.owner
  match l:Login ->> (p:Purchase | q:Purchase(amount > 10.0)) -> Login & Account
  within 1h
  skip to next
  having l.ok or Login.ok
  emit Combo { user: l.user, a: p.amount ?? q.amount, who: Account.owner }

rule absent
  partition by user
  match p:Purchase(amount > big) -> not Purchase(amount > 0.0)
  within 30m
  emit Abandoned { user: p.user, amount: p.amount }

rule timeout
  partition by user
  match a:Login(not ok) -> b:Login(ok)
  within 5m
  skip past last
  emit Recovered { user: a.user }
  on timeout emit Stuck { user: a.user }

rule greedy
  match a:Purchase+! -> b:Purchase{2,4}? any -> c:Purchase{2} -> d:Purchase{1,}! consecutive
  skip to first b
  emit Many { n: len(a) + len(b) + len(c) + len(d) }

rule chained
  from Compromise
  where attempts > 3 and ip matches "^10\\."
  emit Page { user, reason: "compromise from " + ip, at: first }

rule chained2
  from Page
  emit Paged { user, reason }

rule keywords
  from Login l where l.ok
  emit K { from: l.user, window: 1, rules: len(tags) }

rule multi_qual
  partition by Account.owner, Login.user
  match acc:Account -> Login(ip in ["1.2.3.4"])
  emit Q { owner: acc.owner, user: Login.user }
`

func mustLoad(t *testing.T, src string) *Program {
	t.Helper()
	p, err := LoadSource("valid.cep", []byte(src))
	if err != nil {
		var list ErrorList
		if errors.As(err, &list) {
			t.Fatalf("unexpected errors:\n%s", list)
		}
		t.Fatal(err)
	}
	return p
}

func schemaString(s *event.Schema) string {
	var b strings.Builder
	b.WriteString(s.Name + " {")
	for i, f := range s.Fields {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + f.Name + ": " + f.Type.String())
	}
	b.WriteString(" }")
	return b.String()
}

func TestCheck_program(t *testing.T) {
	p := mustLoad(t, validProgram)

	t.Run("types", func(t *testing.T) {
		want := []string{
			"Login { user: string, ok: bool, ip: string, tags: [string], at: time }",
			"Purchase { user: string, amount: float, items: int, at: time }",
			"Temp { sensor: string, value: float, at: time }",
			"Account { id: string, owner: string, at: time }",
			"Alert { user: string, level: float, note: any }",
			"Spend { user: string, total: float, mean: float, lo: float, hi: float, sd: float, v: float, n: int, p90: float, first_at: time, last_at: time }",
			"TempAvg { sensor: string, avg: float }",
			"Hundred { n: int, note: string }",
			"Swing { sensor: string }",
			"Session { user: string, ip: string, n: int }",
			"Compromise { user: string, attempts: int, ip: string, first: time }",
			"Rise { sensor: string, steps: int, peak: any, total: float }",
			"Combo { user: string, a: float, who: string }",
			"Abandoned { user: string, amount: float }",
			"Recovered { user: string }",
			"Stuck { user: string }",
			"Many { n: int }",
			"Page { user: string, reason: string, at: time }",
			"Paged { user: string, reason: string }",
			"K { from: string, window: int, rules: int }",
			"Q { owner: string, user: string }",
		}
		var got []string
		for i, ty := range p.Types {
			got = append(got, schemaString(ty.Schema))
			if ty.Schema.ID != int32(i) || p.Registry.ByID(int32(i)) != ty.Schema || p.Type(ty.Name) != ty {
				t.Errorf("type %s: id %d, registry and lookup disagree", ty.Name, ty.Schema.ID)
			}
			if ty.Declared() != (i < 5) {
				t.Errorf("type %s: Declared() = %v", ty.Name, ty.Declared())
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("types:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		login := p.Type("Login").Schema
		if slot, _ := login.Slot("at"); login.TimeSlot != slot || login.Lateness != 5*time.Second {
			t.Errorf("Login time slot %d lateness %v", login.TimeSlot, login.Lateness)
		}
		if got := p.Type("Page").Emits; len(got) != 1 || got[0].Name != "chained" {
			t.Errorf("Page emitters %v", got)
		}
	})

	t.Run("consts", func(t *testing.T) {
		huge := p.Const("huge")
		if huge == nil || huge.Value.Float() != 10000 || huge.Type.Kind != event.KindFloat {
			t.Errorf("huge = %+v", huge)
		}
		if a := p.Const("admins"); a == nil || len(a.Value.List()) != 2 || a.Type.Kind != event.KindList {
			t.Errorf("admins = %+v", a)
		}
		if w := p.Const("window_note"); w == nil || w.Value.Str() != "wx" {
			t.Errorf("window_note = %+v", w)
		}
		if len(p.Consts) != 4 || p.Consts[0].Name != "big" {
			t.Errorf("consts %d, first %s", len(p.Consts), p.Consts[0].Name)
		}
	})

	t.Run("kinds", func(t *testing.T) {
		want := map[string]RuleKind{"large": FilterRule, "tumble": WindowRule, "hop": WindowRule, "brute": PatternRule, "chained": FilterRule}
		for name, kind := range want {
			if r := p.Rule(name); r == nil || r.Kind != kind {
				t.Errorf("rule %s: %v, want %v", name, r, kind)
			}
		}
		for i, r := range p.Rules {
			if r.Index != i {
				t.Errorf("rule %s has index %d at %d", r.Name, r.Index, i)
			}
		}
	})

	t.Run("filter", func(t *testing.T) {
		r := p.Rule("large")
		if r.Alias != "p" || r.Source != p.Type("Purchase") || r.Where == nil || r.Where.Type().Kind != event.KindBool {
			t.Errorf("large: alias %q source %v where %v", r.Alias, r.Source, r.Where)
		}
		if r.Output == nil || !r.Output.Last || r.Output.Every != time.Minute {
			t.Errorf("large output %+v", r.Output)
		}
		if len(r.Partition) != 1 || r.Partition[0].Name != "user" || r.Partition[0].Type.Kind != event.KindString || r.Partition[0].Var != 0 {
			t.Errorf("large partition %+v", r.Partition)
		}
		e := r.Emit
		if e.Type != p.Type("Alert") || len(e.Fields) != 3 || e.Fields[1].Name != "level" || e.Fields[1].Slot != 1 || e.Fields[1].Type.Kind != event.KindInt {
			t.Errorf("large emit %+v", e)
		}
	})

	t.Run("window", func(t *testing.T) {
		r := p.Rule("tumble")
		if r.Window == nil || r.Window.Kind != WindowTumbling || r.Window.Size != time.Minute {
			t.Errorf("tumble window %+v", r.Window)
		}
		var funcs []string
		for _, a := range r.Aggregates {
			funcs = append(funcs, a.Func)
		}
		// sum(amount) appears in having and emit but is one aggregate.
		want := []string{"sum", "count", "avg", "min", "max", "stddev", "var", "count_distinct", "percentile", "first", "last"}
		if !slices.Equal(funcs, want) {
			t.Errorf("tumble aggregates %v, want %v", funcs, want)
		}
		for _, a := range r.Aggregates {
			if a.Var < len(r.Partition) {
				t.Errorf("aggregate %s in Vars slot %d, taken by a partition key", a.Func, a.Var)
			}
		}
		if h := p.Rule("hop").Window; h.Kind != WindowHopping || h.Size != 5*time.Minute || h.Step != time.Minute {
			t.Errorf("hop window %+v", h)
		}
		if s := p.Rule("sessions").Window; s.Kind != WindowSession || s.Gap != 30*time.Second {
			t.Errorf("session window %+v", s)
		}
		if c := p.Rule("sliding_counts").Window; c.Kind != WindowSlidingCount || c.Count != 10 {
			t.Errorf("sliding count window %+v", c)
		}
		if k := p.Rule("hop").Partition; len(k) != 1 || k[0].Name != "sensor" {
			t.Errorf("hop keys %+v", k)
		}
	})

	t.Run("pattern", func(t *testing.T) {
		r := p.Rule("brute")
		pi := r.Pattern
		f, s := pi.Alias("f"), pi.Alias("s")
		if f == nil || !f.List || f.Slot != 0 || s == nil || s.List || s.Slot != 0 || pi.Bound != 1 || pi.Lists != 1 {
			t.Fatalf("brute aliases f=%+v s=%+v bound %d lists %d", f, s, pi.Bound, pi.Lists)
		}
		if r.Skip.Kind != SkipToLast || r.Skip.Target != s || r.Within != 10*time.Minute || r.WithinGap {
			t.Errorf("brute skip %+v within %v", r.Skip, r.Within)
		}
		if len(pi.Elements) != 2 || !pi.Elements[0].Repeated || pi.Elements[0].Cond == nil || pi.Element(pi.Elements[1].Elem) != pi.Elements[1] {
			t.Errorf("brute elements %+v", pi.Elements)
		}

		rise := p.Rule("rising")
		b := rise.Pattern.Alias("b")
		if !rise.WithinGap || rise.Skip.Kind != SkipNone || b == nil || !b.List || b.Element.Until == nil {
			t.Errorf("rising: gap %v skip %v b %+v", rise.WithinGap, rise.Skip, b)
		}

		combo := p.Rule("any_edges")
		var reads []string
		for _, ty := range combo.Reads {
			reads = append(reads, ty.Name)
		}
		if !slices.Equal(reads, []string{"Login", "Purchase", "Account"}) {
			t.Errorf("any_edges reads %v", reads)
		}
		if len(combo.Partition) != 1 || combo.Partition[0].Name != "" || len(combo.Partition[0].Exprs) != 3 {
			t.Errorf("any_edges partition %+v", combo.Partition)
		}
		for _, name := range []string{"Login", "Account"} {
			if a := combo.Pattern.Alias(name); a == nil || !a.Implicit {
				t.Errorf("any_edges: implicit alias %s = %+v", name, a)
			}
		}
		if a := combo.Pattern.Alias("Purchase"); a != nil {
			t.Errorf("Purchase appears twice unaliased... got implicit alias %+v", a)
		}
		if combo.Skip.Kind != SkipToNext || combo.Having == nil {
			t.Errorf("any_edges skip %v having %v", combo.Skip, combo.Having)
		}

		absent := p.Rule("absent").Pattern
		if len(absent.Elements) != 2 || !absent.Elements[1].Negated || absent.Elements[1].Alias != nil || absent.Elements[1].Cond == nil {
			t.Errorf("absent elements %+v", absent.Elements)
		}
		to := p.Rule("timeout")
		if to.Timeout == nil || to.Timeout.Type != p.Type("Stuck") || to.Skip.Kind != SkipPastLast {
			t.Errorf("timeout rule %+v", to)
		}
		if g := p.Rule("greedy"); g.Skip.Kind != SkipToFirst || g.Skip.Target.Name != "b" {
			t.Errorf("greedy skip %+v", g.Skip)
		}
	})

	t.Run("order", func(t *testing.T) {
		pos := map[string]int{}
		for i, r := range p.Order {
			pos[r.Name] = i
		}
		if len(p.Order) != len(p.Rules) {
			t.Fatalf("order has %d rules, want %d", len(p.Order), len(p.Rules))
		}
		for _, pair := range [][2]string{{"brute", "chained"}, {"chained", "chained2"}} {
			if pos[pair[0]] > pos[pair[1]] {
				t.Errorf("%s comes after %s in %v", pair[0], pair[1], pos)
			}
		}
	})
}

// TestCheck_order: a rule that reads a derived type comes after its emitter
// in Program.Order even when it is written first; others keep source order.
func TestCheck_order(t *testing.T) {
	p := mustLoad(t, checkPrelude+`
rule page from Alarm emit Page { user }
rule alone from Login emit Seen { user }
rule alarm from Purchase where amount > 1.0 emit Alarm { user }
rule last from Page emit Done { user }
`)
	var got []string
	for _, r := range p.Order {
		got = append(got, r.Name)
	}
	if want := []string{"alone", "alarm", "page", "last"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	if p.Rules[0].Name != "page" {
		t.Errorf("Rules is not in source order: %s first", p.Rules[0].Name)
	}
}

// TestCheck_files: files are checked together; positions name their file.
func TestCheck_files(t *testing.T) {
	a, err := ParseString("a.cep", "event Login { user: string, at: time } time at\nconst limit = 3\n")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseString("b.cep", "rule r from Login where len(user) > limit emit X { user }\n")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 2 || p.Rule("r").Source != p.Type("Login") {
		t.Fatalf("program %+v", p)
	}
	c, _ := ParseString("c.cep", "event Login { id: int }\nrule r from Logn emit Y { n: 1 }\n")
	_, err = Check(a, b, c)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want an ErrorList", err)
	}
	want := "c.cep:1:7: event type \"Login\" is already declared at a.cep:1:7\n" +
		"c.cep:2:6: rule \"r\" is already declared at b.cep:1:6\n" +
		"c.cep:2:13: unknown event type \"Logn\"; did you mean \"Login\"?\n"
	if got := list.String(); got != want {
		t.Errorf("errors:\n%swant:\n%s", got, want)
	}
	if got := list.Error(); got != "c.cep:1:7: event type \"Login\" is already declared at a.cep:1:7 (and 2 more errors)" {
		t.Errorf("Error() = %q", got)
	}
}

// TestCheck_brokenDeclarations: names of declarations that did not parse
// are not reported again as unknown; the syntax errors are.
func TestCheck_brokenDeclarations(t *testing.T) {
	got := errorStrings(t, `event Login { user: string, ok: }
const limit = 3 +* 2 )
rule derive from Login emit Derived { user ]
rule a from Login where ok emit A { user }
rule b from Derived where limit > 1 emit B { user }
`)
	// Syntax messages are the parser's; this test pins only where they are
	// and that nothing else is reported.
	want := []string{"t.cep:1:29: unexpected", "t.cep:2:22: unexpected", "t.cep:3:44: unexpected"}
	if len(got) != len(want) {
		t.Fatalf("errors:\n%s\nwant %d syntax errors", strings.Join(got, "\n"), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d is %q, want it to start with %q", i, got[i], want[i])
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cep")
	b := filepath.Join(dir, "b.cep")
	if err := os.WriteFile(a, []byte("event T { x: int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("rule r from T where x > 1 emit U { x }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(a, b)
	if err != nil || p.Type("U") == nil || p.Type("U").Schema.Fields[0].Type.Kind != event.KindInt {
		t.Fatalf("Load: %v, %+v", err, p)
	}
	if _, err := Load(filepath.Join(dir, "missing.cep")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if err := os.WriteFile(b, []byte("rule r from T where y > 1 emit U { x }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = Load(a, b)
	if p != nil || err == nil || !strings.HasPrefix(err.Error(), b+":1:21: unknown name \"y\"") {
		t.Errorf("Load with an error: %v, %v", p, err)
	}
}

// TestCheck_prefixesNeverPanic checks every prefix of the test programs (a
// cheap stand-in for fuzzing): broken input must give errors, never a panic
// or a Program with errors.
func TestCheck_prefixesNeverPanic(t *testing.T) {
	sources := []string{validProgram, tenMistakes}
	files, _ := filepath.Glob("../testdata/errors/*.cep")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, string(src))
	}
	step := 17 // odd, so that prefixes end at every kind of token over the files
	if testing.Short() {
		step = 97
	}
	for _, src := range sources {
		for n := 0; n <= len(src); n += step {
			p, err := LoadSource("p.cep", []byte(src[:n]))
			if (p == nil) == (err == nil) {
				t.Fatalf("prefix %q: program %v, error %v", src[:n], p != nil, err)
			}
		}
	}
}
