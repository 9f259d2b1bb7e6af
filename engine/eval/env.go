package eval

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/checker/nature"
)

// Env is the set of names an expression may use, each bound to a place in a
// Frame. Build one per scope and compile all of the scope's expressions
// against it: the first Compile builds expr's configuration for the Env and
// the later ones reuse it (a window rule's expressions also share their
// aggregate slots). An Env is not safe for concurrent use, not even by
// concurrent Compiles: Compile fills that cache and allocates aggregate
// slots. Compiles against distinct Envs may run concurrently.
type Env struct {
	event  *event.Schema       // bare names: fields of Frame.Current
	names  map[string]*binding // explicit names; they shadow event fields
	aggs   []*aggSlot          // aggregates allocated by Compile(..., Aggregates(...))
	aggKey map[string]*aggSlot
	varEnd int // one past the highest Var slot declared

	// cfg is expr's configuration for this Env, built by the first
	// Compile; every method that changes the names resets it.
	cfg *exprConfigs
	// fields are the bindings of the event's fields, built by the first
	// lookup of one; Event resets them.
	fields []binding
}

type bindKind uint8

const (
	bindField bindKind = iota // a field of Frame.Current
	bindAlias                 // an event in Frame.Bound[slot]
	bindList                  // a list of events in Frame.Lists[slot]
	bindPrev                  // Frame.Prev
	bindConst                 // an inlined constant
	bindVar                   // Frame.Vars[slot]
)

type binding struct {
	kind   bindKind
	name   string
	schema *event.Schema // alias, list, prev; the event schema for fields
	slot   int           // field slot, Bound/Lists/Vars slot
	typ    event.Type    // field, const and var types
	val    event.Value   // constant value
	goVal  any           // constant value boxed once for the VM
}

type aggSlot struct {
	agg Aggregate
	key string
}

// NewEnv returns an empty environment.
func NewEnv() *Env {
	return &Env{names: map[string]*binding{}, aggKey: map[string]*aggSlot{}}
}

// Event makes the fields of s bare names, read from Frame.Current.
func (e *Env) Event(s *event.Schema) {
	e.event = s
	e.cfg = nil
	e.fields = nil
}

// Alias binds name to the event in Frame.Bound[slot]: name.field reads it,
// and is nil while the alias is unbound.
func (e *Env) Alias(name string, s *event.Schema, slot int) {
	e.names[name] = &binding{kind: bindAlias, name: name, schema: s, slot: slot}
	e.cfg = nil
}

// ListAlias binds name to the list of events in Frame.Lists[slot]: name[i].f
// (negative i counts from the end), len(name), map(name, .f), ...
func (e *Env) ListAlias(name string, s *event.Schema, slot int) {
	e.names[name] = &binding{kind: bindList, name: name, schema: s, slot: slot}
	e.cfg = nil
}

// Prev binds `prev` to the previous event of the partition (Frame.Prev);
// prev.field is nil when there is none.
func (e *Env) Prev(s *event.Schema) {
	e.names["prev"] = &binding{kind: bindPrev, name: "prev", schema: s}
	e.cfg = nil
}

// Const binds name to a constant, inlined into the compiled code.
func (e *Env) Const(name string, v event.Value) {
	e.names[name] = &binding{kind: bindConst, name: name, typ: valueType(v), val: v, goVal: toGo(v)}
	e.cfg = nil
}

// Var binds name to a typed value read from Frame.Vars[slot] (partition
// keys, aggregate results). Declare every Var before compiling with
// Aggregates, which allocates slots after the highest one declared.
func (e *Env) Var(name string, t event.Type, slot int) {
	e.names[name] = &binding{kind: bindVar, name: name, typ: t, slot: slot}
	if slot+1 > e.varEnd {
		e.varEnd = slot + 1
	}
	e.cfg = nil
}

// Names returns every name in scope, sorted, for "did you mean" suggestions.
func (e *Env) Names() []string {
	seen := map[string]bool{}
	var out []string
	for n := range e.names {
		seen[n] = true
		out = append(out, n)
	}
	if e.event != nil {
		for _, f := range e.event.Fields {
			if !seen[f.Name] {
				seen[f.Name] = true
				out = append(out, f.Name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Aggregates returns every aggregate allocated in this Env so far, in slot
// order: the engine maintains one state per entry and stores its result in
// Frame.Vars[Var] before evaluating the programs that read it.
func (e *Env) Aggregates() []Aggregate {
	out := make([]Aggregate, len(e.aggs))
	for i, a := range e.aggs {
		out[i] = a.agg
	}
	return out
}

// lookup resolves a name: explicit names first, then event fields.
func (e *Env) lookup(name string) (*binding, bool) {
	if b, ok := e.names[name]; ok {
		return b, true
	}
	if strings.HasPrefix(name, aggPrefix) {
		for _, a := range e.aggs {
			if aggName(a.agg.Var) == name {
				return &binding{kind: bindVar, name: name, slot: a.agg.Var, typ: a.agg.Type}, true
			}
		}
	}
	if e.event != nil {
		if i, ok := e.event.Slot(name); ok {
			if e.fields == nil {
				e.fields = make([]binding, len(e.event.Fields))
				for j, f := range e.event.Fields {
					e.fields[j] = binding{kind: bindField, name: f.Name, schema: e.event, slot: j, typ: f.Type}
				}
			}
			return &e.fields[i], true
		}
	}
	return nil, false
}

// aggPrefix names aggregate results in expr's environment; "·" is not a
// letter to expr's lexer, so no source can name them.
const aggPrefix = "$·agg"

// aggName is the environment name of the aggregate read from a Vars slot.
func aggName(slot int) string { return aggPrefix + strconv.Itoa(slot) }

// envNature builds expr's type environment: a strict map type, so that an
// unknown name or field is a compile error. It is what
// types.Map{...}.Nature() gives for the Env's names (env_test.go holds it
// to that), built directly, with one nature per schema and per type shared
// by every name of that schema or type.
func (e *Env) envNature() nature.Nature {
	nb := natureBuilder{}
	size := len(e.names) + len(e.aggs)
	if e.event != nil {
		size += len(e.event.Fields)
	}
	fields := make(map[string]nature.Nature, size)
	if e.event != nil {
		for _, f := range e.event.Fields {
			fields[f.Name] = nb.typ(f.Type)
		}
	}
	for name, b := range e.names {
		switch b.kind {
		case bindAlias, bindPrev:
			fields[name] = nb.schema(b.schema)
		case bindList:
			elem := nb.schema(b.schema)
			fields[name] = arrayNature(elem)
		case bindConst:
			if b.val.IsNil() {
				fields[name] = nature.Nature{Nil: true}
			} else {
				fields[name] = nb.typ(b.typ)
			}
		case bindVar:
			fields[name] = nb.typ(b.typ)
		}
	}
	for _, a := range e.aggs {
		fields[aggName(a.agg.Var)] = nb.typ(a.agg.Type)
	}
	return mapNature(fields)
}

// natureBuilder memoizes the natures of one envNature call. They are not
// shared between Envs: expr caches lookups in them.
type natureBuilder struct {
	time    *nature.Nature
	schemas []schemaNature
}

type schemaNature struct {
	s  *event.Schema
	nt nature.Nature
}

var (
	mapOfAny   = reflect.TypeOf(map[string]any{})
	sliceOfAny = reflect.TypeOf([]any{})
)

// mapNature is types.Map's nature: a strict map[string]any with fields.
func mapNature(fields map[string]nature.Nature) nature.Nature {
	nt := nature.FromType(mapOfAny)
	nt.TypeData = &nature.TypeData{Fields: fields}
	nt.Strict = true
	return nt
}

// arrayNature is types.Array's nature: []any with its element's nature.
func arrayNature(elem nature.Nature) nature.Nature {
	nt := nature.FromType(sliceOfAny)
	nt.TypeData = &nature.TypeData{Fields: make(map[string]nature.Nature, 1)}
	nt.Ref = &elem
	return nt
}

func (nb *natureBuilder) schema(s *event.Schema) nature.Nature {
	for _, sn := range nb.schemas {
		if sn.s == s {
			return sn.nt
		}
	}
	fields := make(map[string]nature.Nature, len(s.Fields))
	for _, f := range s.Fields {
		fields[f.Name] = nb.typ(f.Type)
	}
	nt := mapNature(fields)
	nb.schemas = append(nb.schemas, schemaNature{s, nt})
	return nt
}

// The natures of the scalar types. They have no TypeData, the part expr
// fills in lazily, so all Envs may share them; nature.FromType would look
// each one up in a map.
var (
	boolNature     = nature.FromType(boolType)
	intNature      = nature.FromType(intType)
	floatNature    = nature.FromType(floatType)
	stringNature   = nature.FromType(stringType)
	durationNature = nature.FromType(durationType)
)

// typ is the nature of a declared type: times are time.Time and durations
// time.Duration, so that expr's time arithmetic type-checks.
func (nb *natureBuilder) typ(t event.Type) nature.Nature {
	switch t.Kind {
	case event.KindBool:
		return boolNature
	case event.KindInt:
		return intNature
	case event.KindFloat:
		return floatNature
	case event.KindString:
		return stringNature
	case event.KindTime:
		if nb.time == nil {
			nt := nature.FromType(timeType)
			nb.time = &nt
		}
		return *nb.time
	case event.KindDuration:
		return durationNature
	case event.KindList:
		if t.Elem == nil {
			return arrayNature(nature.Nature{})
		}
		return arrayNature(nb.typ(*t.Elem))
	}
	return nature.Nature{}
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	durationType = reflect.TypeOf(time.Duration(0))
	intType      = reflect.TypeOf(0)
	floatType    = reflect.TypeOf(0.0)
	stringType   = reflect.TypeOf("")
	boolType     = reflect.TypeOf(false)
)

// valueType is the type of a constant value.
func valueType(v event.Value) event.Type {
	switch v.Kind() {
	case event.KindList:
		var elem *event.Type
		for _, it := range v.List() {
			t := valueType(it)
			if elem == nil {
				elem = &t
			} else if !elem.Equal(t) {
				return event.ListOf(event.Any)
			}
		}
		if elem == nil {
			return event.ListOf(event.Any)
		}
		return event.ListOf(*elem)
	case event.KindNil:
		return event.Any
	}
	return event.Type{Kind: v.Kind()}
}
