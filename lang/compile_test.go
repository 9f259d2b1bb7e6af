package lang

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCompile_windowRules compiles every window kind, keys (plain,
// aliased, qualified, computed), having and output on window and filter
// rules into the engine, and checks the graph's window and output nodes.
func TestCompile_windowRules(t *testing.T) {
	const src = `
event Trade { sym: string, px: float, qty: int, at: time } time at lateness 1s

rule t from Trade partition by sym window tumbling 1m emit T { sym, n: count() }
rule h from Trade tr where tr.qty > 0 partition by tr.sym window hopping 10m every 1m having count() > 1 emit H { sym, avg: avg(px) }
rule s from Trade partition by Trade.sym, qty > 100 window sliding 5m emit S { sym, hi: max(px) } output first every 5m
rule c from Trade window count 100 emit C { sd: stddev(px) }
rule sc from Trade partition by sym window sliding count 20 emit SC { sym, p95: percentile(px, 0.95) } output last every 1m
rule ss from Trade partition by sym window session gap 30s emit SS { sym, since: first(at), lo: min(sym) }
rule f from Trade where px > 100 partition by sym emit F { sym, px } output first every 1h
`
	p, err := LoadSource("w.cep", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	g, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	dump := g.String()
	for _, want := range []string{
		"window Trade by `sym` tumbling 1m {sym: `sym`, n: `count()`}",
		"window Trade by `tr.sym` hopping 10m every 1m having `count() > 1` {sym: `sym`, avg: `avg(px)`}",
		"window Trade by `Trade.sym`, `qty > 100` sliding 5m output first every 5m {sym: `sym`, hi: `max(px)`}",
		"window Trade count 100 {sd: `stddev(px)`}",
		"window Trade by `sym` sliding count 20 output last every 1m {sym: `sym`, p95: `percentile(px, 0.95)`}",
		"window Trade by `sym` session gap 30s {sym: `sym`, since: `first(at)`, lo: `min(sym)`}",
		"output Trade by `sym` output first every 1h",
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("graph has no %q:\n%s", want, dump)
		}
	}
}

// TestCompile_library: every example rule file compiles whole, pattern
// rules with on timeout emit included.
func TestCompile_library(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "rules", "*.cep"))
	if len(files) == 0 {
		t.Skip("no rule files")
	}
	compiled := 0
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		g, err := Compile(p)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if g != nil {
			compiled++
		}
	}
	if compiled == 0 {
		t.Error("no rule file compiled")
	}
}
