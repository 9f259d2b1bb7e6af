package engine

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func subscribeProgram(t *testing.T) *Matcher {
	b := marketBuilder()
	b.Rule("large").From("Trade").Where("px > big").Emit("Large", Field{Name: "sym"}, Field{Name: "px"})
	b.Rule("all").From("Trade").Emit("Any", Field{Name: "sym"})
	b.Rule("again").From("Large").Emit("Again", Field{Name: "sym"})
	return mustBuild(t, b).NewMatcher(Config{})
}

func TestSubscribe_orderAndFilters(t *testing.T) {
	m := subscribeProgram(t)
	var log []string
	add := func(name, typ string, opts ...SubscribeOption) Subscription {
		id, err := m.Subscribe(typ, func(d *Derived) { log = append(log, name+": "+show(d)) }, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	add("s1", "Large")
	star := add("s2", AllDerived)
	add("s3", "Trade", Filter(`sym == "b"`))
	add("s4", "Large", Filter("px > 1000"))
	removed := add("s5", "Again")
	m.Subscribe("Again", func(d *Derived) {
		log = append(log, "s6 unsubscribes s5 and s2")
		m.Unsubscribe(removed)
		m.Unsubscribe(star)
	})
	add("s7", AllDerived, Filter(`sym != "a"`))
	m.Process(ptr(trade("a", 200, 1, 0)))
	m.Process(ptr(trade("b", 2000, 1, time.Second)))
	m.Close()
	want := `s1: large Large@0s {sym="a", px=200}
s2: large Large@0s {sym="a", px=200}
s2: all Any@0s {sym="a"}
s2: again Again@0s {sym="a"}
s5: again Again@0s {sym="a"}
s6 unsubscribes s5 and s2
s3: Trade@1s {sym="b", px=2000, qty=1, at=1s}
s1: large Large@1s {sym="b", px=2000}
s4: large Large@1s {sym="b", px=2000}
s7: large Large@1s {sym="b", px=2000}
s7: all Any@1s {sym="b"}
s6 unsubscribes s5 and s2
s7: again Again@1s {sym="b"}`
	if got := strings.Join(log, "\n"); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if m.Unsubscribe(removed) {
		t.Error("second Unsubscribe succeeded")
	}
}

func TestSubscribe_errors(t *testing.T) {
	m := subscribeProgram(t)
	h := func(*Derived) {}
	if _, err := m.Subscribe("Larg", h); !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), "did you mean Large?") {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := m.Subscribe("Large", h, Filter("px >")); !errors.Is(err, ErrExpr) {
		t.Errorf("bad filter: %v", err)
	}
	// px exists on Large but not on Any or Again.
	if _, err := m.Subscribe(AllDerived, h, Filter("px > 1")); !errors.Is(err, ErrExpr) || !strings.Contains(err.Error(), "on Any") {
		t.Errorf("filter not valid for every derived type: %v", err)
	}
	if _, err := m.Subscribe("Large", nil); err == nil {
		t.Error("nil handler accepted")
	}
}

func TestSubscribe_chanBlock(t *testing.T) {
	m := subscribeProgram(t)
	c, err := m.SubscribeChan("Any", 0, Block)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for d := range c.C {
			got = append(got, show(d))
		}
	}()
	for i := range 100 {
		m.Process(ptr(trade(string(rune('a'+i%26)), 1, 1, time.Duration(i)*time.Second)))
	}
	m.Close() // closes c.C
	wg.Wait()
	if len(got) != 100 || got[99] != `all Any@1m39s {sym="v"}` || c.Dropped() != 0 {
		t.Errorf("received %d events, last %q, dropped %d", len(got), got[len(got)-1], c.Dropped())
	}
}

func TestSubscribe_chanDropNewest(t *testing.T) {
	m := subscribeProgram(t)
	c, err := m.SubscribeChan(AllDerived, 2, DropNewest, Filter(`sym == "x"`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		m.Process(ptr(trade("x", 1, 1, time.Duration(i)*time.Second)))
	}
	m.Close()
	var got []string
	for d := range c.C {
		got = append(got, show(d))
	}
	want := `all Any@0s {sym="x"}
all Any@1s {sym="x"}`
	if strings.Join(got, "\n") != want || c.Dropped() != 8 || m.Stats().Dropped != 8 {
		t.Errorf("got\n%s\ndropped %d (stats %d), want 8", strings.Join(got, "\n"), c.Dropped(), m.Stats().Dropped)
	}
}

func TestSubscribe_unsubscribeClosesChan(t *testing.T) {
	m := subscribeProgram(t)
	c, _ := m.SubscribeChan("Large", 1, Block)
	if !m.Unsubscribe(c.ID) {
		t.Fatal("Unsubscribe failed")
	}
	if _, open := <-c.C; open {
		t.Error("channel open after Unsubscribe")
	}
	m.Close() // must not close it twice
}
