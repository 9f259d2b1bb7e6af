package eval

import (
	"reflect"
	"testing"
	"time"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/types"
)

// The reference for envNature: the Env's names as an expr types.Map, whose
// Nature() is what expr's own conf.New would build.

func refEnv(e *Env) types.Map {
	m := types.Map{}
	if e.event != nil {
		for _, f := range e.event.Fields {
			m[f.Name] = refType(f.Type)
		}
	}
	for name, b := range e.names {
		switch b.kind {
		case bindAlias, bindPrev:
			m[name] = refSchema(b.schema)
		case bindList:
			m[name] = types.Array(refSchema(b.schema))
		case bindConst:
			if b.val.IsNil() {
				m[name] = types.Nil
			} else {
				m[name] = refType(b.typ)
			}
		case bindVar:
			m[name] = refType(b.typ)
		}
	}
	for _, a := range e.aggs {
		m[aggName(a.agg.Var)] = refType(a.agg.Type)
	}
	return m
}

func refSchema(s *event.Schema) types.Map {
	m := types.Map{}
	for _, f := range s.Fields {
		m[f.Name] = refType(f.Type)
	}
	return m
}

func refType(t event.Type) types.Type {
	switch t.Kind {
	case event.KindBool:
		return types.Bool
	case event.KindInt:
		return types.Int
	case event.KindFloat:
		return types.Float64
	case event.KindString:
		return types.String
	case event.KindTime:
		return types.TypeOf(time.Time{})
	case event.KindDuration:
		return types.TypeOf(time.Duration(0))
	case event.KindList:
		if t.Elem == nil {
			return types.Array(types.Any)
		}
		return types.Array(refType(*t.Elem))
	}
	return types.Any
}

// TestEnv_nature holds the directly built type environment to the one expr
// builds from a types.Map, over every kind of name and field type.
func TestEnv_nature(t *testing.T) {
	s := event.NewSchema("S", []event.Field{
		{Name: "b", Type: event.Bool}, {Name: "i", Type: event.Int}, {Name: "f", Type: event.Float},
		{Name: "s", Type: event.String}, {Name: "t", Type: event.Time}, {Name: "d", Type: event.Duration},
		{Name: "any", Type: event.Any}, {Name: "ls", Type: event.ListOf(event.String)},
		{Name: "la", Type: event.ListOf(event.Any)}, {Name: "lt", Type: event.ListOf(event.Time)},
		{Name: "lnil", Type: event.Type{Kind: event.KindList}},
	}, "t", 0)
	other := event.NewSchema("O", []event.Field{{Name: "x", Type: event.Int}, {Name: "i", Type: event.String}}, "", 0)
	env := NewEnv()
	env.Event(s)
	env.Prev(s)
	env.Alias("a", other, 0)
	env.Alias("i", s, 1) // shadows the field i
	env.ListAlias("l", other, 0)
	env.Const("k", event.FloatValue(1))
	env.Const("none", event.Nil)
	env.Const("set", event.ListValue([]event.Value{event.StringValue("x")}))
	env.Var("v", event.Duration, 0)
	env.allocAggregate("count()", Aggregate{Func: "count", Type: event.Int})
	env.allocAggregate("last(ls)", Aggregate{Func: "last", Type: event.ListOf(event.String)})

	sameNature(t, "envNature", env.envNature(), refEnv(env).Nature())
	// An aggregate allocated once the configuration is cached is added to
	// it in place.
	env.configs()
	env.allocAggregate("max(t)", Aggregate{Func: "max", Type: event.Time})
	sameNature(t, "the cached environment after an aggregate", env.cfg.plain.Env, refEnv(env).Nature())
}

func sameNature(t *testing.T, what string, got, want nature.Nature) {
	t.Helper()
	for name, w := range want.Fields {
		if g, ok := got.Fields[name]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s: name %s is %#v, want %#v", what, name, g, w)
		}
	}
	for name := range got.Fields {
		if _, ok := want.Fields[name]; !ok {
			t.Errorf("%s: extra name %s", what, name)
		}
	}
	// The rest of the nature, without the fields (copies: the cached
	// environment must stay as it is).
	gt, wt := *got.TypeData, *want.TypeData
	gt.Fields, wt.Fields = nil, nil
	got.TypeData, want.TypeData = nil, nil
	if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gt, wt) {
		t.Errorf("%s: %#v, want %#v", what, got, want)
	}
}

// TestEnv_cacheInvalidation: every method that adds a name makes the next
// Compile see it, though the Env's configuration was cached before.
func TestEnv_cacheInvalidation(t *testing.T) {
	s := event.NewSchema("S", []event.Field{{Name: "x", Type: event.Int}}, "", 0)
	for _, tc := range []struct {
		src string
		add func(*Env)
	}{
		{`x > 1`, func(e *Env) { e.Event(s) }},
		{`a.x > 1`, func(e *Env) { e.Alias("a", s, 0) }},
		{`len(l) > 1`, func(e *Env) { e.ListAlias("l", s, 0) }},
		{`prev.x > 1`, func(e *Env) { e.Prev(s) }},
		{`k > 1`, func(e *Env) { e.Const("k", event.IntValue(2)) }},
		{`v > 1`, func(e *Env) { e.Var("v", event.Int, 0) }},
	} {
		env := NewEnv()
		env.Const("unrelated", event.IntValue(1))
		if _, err := Compile(`unrelated > 0`, env); err != nil {
			t.Fatal(err)
		}
		if _, err := Compile(tc.src, env); err == nil {
			t.Fatalf("%q compiled before its name was added", tc.src)
		}
		tc.add(env)
		if _, err := Compile(tc.src, env); err != nil {
			t.Errorf("%q after adding its name: %v", tc.src, err)
		}
	}
}
