package engine

import (
	"fmt"
	"sync/atomic"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
)

// AllDerived subscribes to every event any rule emits (not to input events).
const AllDerived = "*"

// Subscription identifies a subscription, for Unsubscribe. The zero value
// identifies none.
type Subscription uint64

// SubscribeOption configures a subscription.
type SubscribeOption func(*subOptions)

type subOptions struct {
	filter string
}

// Filter delivers only the events for which expr (expr-lang syntax, over the
// event's fields and the program's constants) is true. With AllDerived it
// must compile against every derived type.
func Filter(expr string) SubscribeOption {
	return func(o *subOptions) { o.filter = expr }
}

type sub struct {
	id     Subscription
	typ    int32 // -1: AllDerived
	h      func(*Derived)
	rh     func(*Record)
	stream Stream
	progs  []*eval.Program // per type id; nil: no filter
	dead   bool
	ch     *ChanSubscription
}

// subscriptions keeps, per type, the handlers in subscription order. The
// per-type lists are rebuilt on every change (copy on write), so a handler
// may subscribe or unsubscribe while the matcher iterates an old list.
type subscriptions struct {
	g       *Graph
	next    Subscription
	all     []*sub   // every live subscription, in id order
	input   [][]*sub // per type: subscribers of input events of the type
	derived [][]*sub // per type: subscribers of derived events of the type
	// lone, per type: the handler of derived events when the type has one
	// subscriber and it has no filter, the common case, which run then
	// calls directly; nil otherwise.
	lone    []func(*Derived)
	late    []*sub
	invalid []*sub
	refused []*sub
}

func (s *subscriptions) init(g *Graph) {
	s.g = g
	s.input = make([][]*sub, g.reg.Len())
	s.derived = make([][]*sub, g.reg.Len())
	s.lone = make([]func(*Derived), g.reg.Len())
}

func (s *subscriptions) add(x *sub) Subscription {
	s.next++
	x.id = s.next
	s.all = append(s.all, x)
	s.rebuild()
	return x.id
}

func (s *subscriptions) rebuild() {
	n := s.g.reg.Len()
	input := make([][]*sub, n)
	derived := make([][]*sub, n)
	var late, invalid, refused []*sub
	for _, x := range s.all {
		switch {
		case x.rh != nil && x.stream == StreamLate:
			late = append(late, x)
		case x.rh != nil && x.stream == StreamRefused:
			refused = append(refused, x)
		case x.rh != nil:
			invalid = append(invalid, x)
		case x.typ < 0:
			for t := range n {
				if s.g.derived[t] {
					derived[t] = append(derived[t], x)
				}
			}
		default:
			input[x.typ] = append(input[x.typ], x)
			derived[x.typ] = append(derived[x.typ], x)
		}
	}
	// The per-type lists are new; the outer slices stay, as the matcher's
	// run plans point into derived.
	copy(s.input, input)
	copy(s.derived, derived)
	for t, l := range derived {
		s.lone[t] = nil
		if len(l) == 1 && l[0].progs == nil {
			s.lone[t] = l[0].h
		}
	}
	s.late, s.invalid = late, invalid
	s.refused = refused
}

func (s *subscriptions) remove(id Subscription) *sub {
	for i, x := range s.all {
		if x.id == id {
			x.dead = true
			s.all = append(s.all[:i:i], s.all[i+1:]...)
			s.rebuild()
			return x
		}
	}
	return nil
}

func (s *subscriptions) closeAll() {
	for _, x := range s.all {
		if x.ch != nil && !x.ch.closed {
			x.ch.closed = true
			close(x.ch.ch)
		}
	}
}

// Subscribe calls h for every event of the named type: events rules emit,
// and input events of the type as they are processed (in event-time order).
// AllDerived ("*") subscribes to every emitted event. Handlers run on the
// matcher's goroutine, synchronously, in subscription order; an event is
// valid only during the call (Clone it to keep it).
func (m *Matcher) Subscribe(typeName string, h func(*Derived), opts ...SubscribeOption) (Subscription, error) {
	x, err := m.newSub(typeName, opts)
	if err != nil {
		return 0, err
	}
	if h == nil {
		return 0, fmt.Errorf("engine: subscribe %s: nil handler", typeName)
	}
	x.h = h
	return m.addSub(x), nil
}

// addSub adds a subscription and refreshes the per-type lists the matcher
// reads per event.
func (m *Matcher) addSub(x *sub) Subscription {
	id := m.subs.add(x)
	m.syncSubs()
	return id
}

func (m *Matcher) syncSubs() {
	for t := range m.types {
		m.types[t].input = m.subs.input[t]
	}
}

func (m *Matcher) newSub(typeName string, opts []SubscribeOption) (*sub, error) {
	var o subOptions
	for _, f := range opts {
		f(&o)
	}
	x := &sub{typ: -1}
	var types []*event.Schema
	if typeName == AllDerived {
		for _, s := range m.g.reg.Schemas() {
			if m.g.derived[s.ID] {
				types = append(types, s)
			}
		}
	} else {
		s, ok := m.g.reg.Lookup(typeName)
		if !ok {
			return nil, fmt.Errorf("%w %s%s", ErrUnknownType, typeName, suggest(typeName, m.typeNames()))
		}
		x.typ = s.ID
		types = append(types, s)
	}
	if o.filter != "" {
		x.progs = make([]*eval.Program, m.g.reg.Len())
		for _, s := range types {
			env := eval.NewEnv()
			env.Event(s)
			for _, k := range m.g.consts {
				env.Const(k.name, k.val)
			}
			p, err := eval.Compile(o.filter, env, eval.ExpectBool(), eval.NoAggregates())
			if err != nil {
				return nil, fmt.Errorf("%w: subscription filter on %s: %w", ErrExpr, s.Name, err)
			}
			x.progs[s.ID] = p
		}
	}
	return x, nil
}

func (m *Matcher) typeNames() []string {
	var names []string
	for _, s := range m.g.reg.Schemas() {
		names = append(names, s.Name)
	}
	return names
}

// SubscribeLate calls h for every event of the late stream.
func (m *Matcher) SubscribeLate(h func(*Record)) Subscription {
	return m.addSub(&sub{typ: -1, rh: h, stream: StreamLate})
}

// SubscribeInvalid calls h for every record of the invalid stream.
func (m *Matcher) SubscribeInvalid(h func(*Record)) Subscription {
	return m.addSub(&sub{typ: -1, rh: h, stream: StreamInvalid})
}

// Unsubscribe ends a subscription (closing its channel, for SubscribeChan);
// false if there is no such subscription.
func (m *Matcher) Unsubscribe(id Subscription) bool {
	x := m.subs.remove(id)
	if x == nil {
		return false
	}
	m.syncSubs()
	if x.ch != nil && !x.ch.closed {
		x.ch.closed = true
		close(x.ch.ch)
	}
	return true
}

func (m *Matcher) deliver(subs []*sub, d *Derived) {
	for _, x := range subs {
		if x.dead {
			continue
		}
		if x.progs != nil {
			p := x.progs[d.Event.Type]
			if p == nil {
				continue
			}
			cur := m.frame.Current
			m.frame.Current = &d.Event
			ok := m.vm.EvalBool(p, &m.frame)
			m.frame.Current = cur
			if !ok {
				continue
			}
		}
		x.h(d)
	}
}

func (m *Matcher) deliverRecord(subs []*sub, r *Record) {
	busy := m.busy
	m.busy = true
	for _, x := range subs {
		if !x.dead {
			x.rh(r)
		}
	}
	m.busy = busy
}

// Backpressure says what a channel subscription does when its channel is
// full.
type Backpressure uint8

const (
	// Block makes the matcher wait until the consumer takes the event: no
	// event is lost, and a slow consumer slows the producer down. The
	// consumer must not be the goroutine that calls the matcher.
	Block Backpressure = iota
	// DropNewest drops the event that does not fit and counts it
	// (ChanSubscription.Dropped, Stats.Dropped): the matcher never waits.
	DropNewest
)

// ChanSubscription delivers events to another goroutine through C. The
// events are clones owned by the receiver. C is closed by Unsubscribe and by
// the matcher's Close.
type ChanSubscription struct {
	C       <-chan *Derived
	ID      Subscription
	ch      chan *Derived
	dropped atomic.Uint64
	closed  bool
}

// Dropped returns how many events DropNewest has dropped; safe to call from
// any goroutine.
func (c *ChanSubscription) Dropped() uint64 { return c.dropped.Load() }

// SubscribeChan is Subscribe for another goroutine: each event is cloned and
// sent on a channel of the given capacity, under the back-pressure policy.
// The default policy, Block, loses nothing.
func (m *Matcher) SubscribeChan(typeName string, capacity int, policy Backpressure, opts ...SubscribeOption) (*ChanSubscription, error) {
	x, err := m.newSub(typeName, opts)
	if err != nil {
		return nil, err
	}
	c := &ChanSubscription{ch: make(chan *Derived, capacity)}
	c.C = c.ch
	x.ch = c
	if policy == DropNewest {
		x.h = func(d *Derived) {
			select {
			case c.ch <- d.Clone():
			default:
				c.dropped.Add(1)
				m.stats.Dropped++
			}
		}
	} else {
		x.h = func(d *Derived) { c.ch <- d.Clone() }
	}
	c.ID = m.addSub(x)
	return c, nil
}
