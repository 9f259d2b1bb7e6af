package eval

import (
	"errors"
	"fmt"

	"github.com/cepengine/cep/engine/event"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Frame is what a program reads: the current event (bare names), the
// previous event of the partition (prev), events bound to aliases, lists of
// events bound to quantified aliases, and typed variables (partition keys,
// aggregate results). Missing entries read as nil.
type Frame struct {
	Current *event.Event
	Prev    *event.Event
	Bound   []*event.Event
	Lists   [][]*event.Event
	Vars    []event.Value
}

// Machine evaluates programs. It owns a reusable expr VM, its environment
// map and scratch space, and counts runtime errors. One per matcher: it is
// NOT safe for concurrent use.
type Machine struct {
	failed bool
	errors uint64
	last   RuntimeError
	hasErr bool

	elems [maxElemDepth]*event.Event // current elements of lowered list predicates

	vm      vm.VM
	env     map[string]any
	maps    []map[string]any // event maps handed to the VM, reused
	mapsUse int
}

// NewMachine returns a machine ready to evaluate any program.
func NewMachine() *Machine {
	return &Machine{env: make(map[string]any)}
}

var emptyFrame Frame

// Eval evaluates p over f. A runtime error yields nil and is counted.
func (m *Machine) Eval(p *Program, f *Frame) event.Value {
	if f == nil {
		f = &emptyFrame
	}
	m.failed = false
	v := m.eval(p.root, f)
	if m.failed {
		m.errors++
		m.last.Source = p.origin
		return event.Nil
	}
	if p.typ.Kind == event.KindFloat && v.Kind() == event.KindInt {
		// expr's builtins may return an int where the checker said float
		// (sum of an empty list): the result has its static type.
		return event.FloatValue(float64(v.Int()))
	}
	return v
}

// evalTree is EvalBool over the tree: for programs that are not bool (any),
// and for those compiled with ForceVM.
func evalTree(m *Machine, p *Program, f *Frame) bool {
	if f == nil {
		f = &emptyFrame
	}
	m.failed = false
	var t tri
	if p.typ.Kind == event.KindBool {
		t = m.truth(p.root, f)
	} else {
		v := m.eval(p.root, f)
		if !m.failed && v.Kind() != event.KindBool && !v.IsNil() {
			m.fail(p.root, ErrNotBool)
		}
		t = triOf(v)
	}
	if m.failed {
		m.errors++
		m.last.Source = p.origin
		return false
	}
	return t == triTrue
}

// Errors returns the number of evaluations that failed with a runtime error.
func (m *Machine) Errors() uint64 { return m.errors }

// LastError returns the last runtime error, or nil if there was none.
func (m *Machine) LastError() error {
	if !m.hasErr {
		return nil
	}
	e := m.last
	return &e
}

// fail marks the current evaluation failed. The first error of an
// evaluation is the one kept, as the VM stops at its first error.
func (m *Machine) fail(n *node, err error) {
	if m.failed {
		return
	}
	m.failed = true
	m.hasErr = true
	m.last = RuntimeError{Line: int(n.line), Col: int(n.col), Err: err}
}

// vmProg is a subtree compiled for expr's VM, with the names it reads.
type vmProg struct {
	prog  *vm.Program
	needs []*binding
	src   string
	typ   event.Type
}

// runVM evaluates a VM leaf: it fills the environment with the names the
// leaf reads, runs the reused VM and converts the result back to a value.
func (m *Machine) runVM(n *node, f *Frame) event.Value {
	p := n.vm
	if m.env == nil {
		m.env = make(map[string]any)
	}
	m.mapsUse = 0
	for _, b := range p.needs {
		m.env[b.name] = m.goValue(b, f)
	}
	out, err := m.vm.Run(p.prog, m.env)
	if err != nil {
		m.failVM(n, p, err)
		return event.Nil
	}
	v, err := fromGo(out)
	if err != nil {
		m.fail(n, err)
		return event.Nil
	}
	return v
}

func (m *Machine) failVM(n *node, p *vmProg, err error) {
	if m.failed {
		return
	}
	line, col := int(n.line), int(n.col)
	var fe *file.Error
	if errors.As(err, &fe) {
		line, col = position(p.src, fe.From)
		err = fmt.Errorf("%w: %s", ErrVM, fe.Message)
	} else {
		err = fmt.Errorf("%w: %v", ErrVM, err)
	}
	m.failed = true
	m.hasErr = true
	m.last = RuntimeError{Line: line, Col: col, Err: err}
}

// goValue is the VM's view of a binding.
func (m *Machine) goValue(b *binding, f *Frame) any {
	switch b.kind {
	case bindField:
		return toGo(fieldOf(f.Current, b.slot))
	case bindAlias:
		if e := f.bound(b.slot); e != nil {
			return m.eventMap(e, b.schema)
		}
		return nil
	case bindPrev:
		if f.Prev != nil {
			return m.eventMap(f.Prev, b.schema)
		}
		return nil
	case bindList:
		lst := f.list(b.slot)
		out := make([]any, len(lst))
		for i, e := range lst {
			out[i] = m.eventMap(e, b.schema)
		}
		return out
	case bindConst:
		return b.goVal
	case bindVar:
		return toGo(f.variable(b.slot))
	}
	return nil
}

// eventMap returns a map of e's fields (nil for missing ones, and for all of
// them when e is nil), reusing the machine's maps: no VM result keeps one,
// since results are converted to values before the next run.
func (m *Machine) eventMap(e *event.Event, s *event.Schema) map[string]any {
	if m.mapsUse == len(m.maps) {
		m.maps = append(m.maps, make(map[string]any, len(s.Fields)))
	}
	mp := m.maps[m.mapsUse]
	m.mapsUse++
	clear(mp)
	for i, fd := range s.Fields {
		mp[fd.Name] = toGo(fieldOf(e, i))
	}
	return mp
}
