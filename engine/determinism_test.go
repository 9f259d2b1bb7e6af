package engine_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
)

// genJSONL makes a seeded stream of Trade records, some out of order, some
// late, some invalid.
func genJSONL(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	var b bytes.Buffer
	now := int64(1704067200000)
	for i := range n {
		now += int64(r.IntN(500))
		ts := now - int64(r.IntN(4000))
		switch r.IntN(40) {
		case 0:
			b.WriteString("not json\n")
			continue
		case 1:
			fmt.Fprintf(&b, `{"type":"Trade","sym":"S%d","px":"x","at":%d}`+"\n", i%7, ts)
			continue
		}
		fmt.Fprintf(&b, `{"type":"Trade","sym":"S%d","px":%g,"qty":%d,"at":%d}`+"\n", r.IntN(7), float64(r.IntN(20000))/100, r.IntN(500), ts)
	}
	return b.Bytes()
}

func runProgram(t *testing.T, input []byte, explain bool, split int) []byte {
	t.Helper()
	b := engine.NewBuilder()
	b.Event("Trade").Field("sym", event.String).Field("px", event.Float).Field("qty", event.Int).Field("at", event.Time).
		Time("at").Lateness(3 * time.Second)
	b.Rule("large").From("Trade").Where("px > 150").Emit("Large", engine.Field{Name: "sym"}, engine.Field{Name: "px"}, engine.Field{Name: "notional", Expr: "px * qty"})
	b.Rule("huge").From("Large").Where("notional > 50000").Emit("Huge", engine.Field{Name: "sym"}, engine.Field{Name: "notional"})
	b.Rule("s3").From("Trade").Where(`sym in ["S3", "S4"] and qty % 2 == 0`).Emit("Even", engine.Field{Name: "sym"}, engine.Field{Name: "half", Expr: "qty / 2"})
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	m := g.NewMatcher(engine.Config{Explain: explain})
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	enc := codec.NewEncoder(w, g.Registry(), explain)
	m.Subscribe(engine.AllDerived, func(d *engine.Derived) { enc.Encode(d) })
	m.SubscribeLate(func(r *engine.Record) { w.WriteString(r.String() + "\n") })
	m.SubscribeInvalid(func(r *engine.Record) { w.WriteString(r.String() + "\n") })
	// Feed in two parts: the split must not matter.
	cut := bytes.IndexByte(input[split:], '\n') + split + 1
	for i, part := range [][]byte{input[:cut], input[cut:]} {
		dec, _ := codec.NewJSONDecoder(bytes.NewReader(part), g.Registry(), codec.Options{Source: fmt.Sprint("part", i)})
		if err := codec.Feed(dec, m); err != nil {
			t.Fatal(err)
		}
	}
	m.Close()
	s := m.Stats()
	if s.In != s.Processed+s.Late+s.Invalid {
		t.Fatalf("invariant: %+v", s)
	}
	fmt.Fprintf(w, "stats in=%d processed=%d late=%d invalid=%d derived=%d\n", s.In, s.Processed, s.Late, s.Invalid, s.Derived)
	w.Flush()
	return out.Bytes()
}

func TestEngine_deterministic(t *testing.T) {
	input := genJSONL(1, 5000)
	for _, explain := range []bool{false, true} {
		a := runProgram(t, input, explain, 1000)
		b := runProgram(t, input, explain, 1000)
		if !bytes.Equal(a, b) {
			t.Fatalf("explain=%v: two runs differ", explain)
		}
		if n := bytes.Count(a, []byte("\n")); n < 500 || !bytes.Contains(a, []byte(": late: ")) || !bytes.Contains(a, []byte(": invalid: ")) {
			t.Fatalf("explain=%v: output too thin (%d lines):\n%s", explain, n, a[:min(len(a), 2000)])
		}
	}
}

// TestEngine_imports keeps the import direction: the engine never imports
// lang, participle or cmd.
func TestEngine_imports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/cepengine/cep/engine", "github.com/cepengine/cep/engine/codec").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "cepengine/cep/lang") || strings.Contains(dep, "participle") || strings.Contains(dep, "cepengine/cep/cmd") {
			t.Errorf("engine depends on %s", dep)
		}
	}
}
