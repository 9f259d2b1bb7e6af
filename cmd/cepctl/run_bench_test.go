package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
)

// BenchmarkRun measures cepctl run end to end (load, compile, decode,
// match, encode, summary) against a baseline in the same run: the same
// steps called directly, without the CLI (no flags, flushing reader,
// record sinks). The ratio is the CLI's overhead.
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	rules := filepath.Join(dir, "r.cep")
	if err := os.WriteFile(rules, []byte(`event P { user: string, n: int, at: time } time at lateness 1s
rule big from P where n > 4 emit Big { user, n }
rule bigger from Big where n > 7 emit Bigger { user }
`), 0o644); err != nil {
		b.Fatal(err)
	}
	events := *runEvents
	var in bytes.Buffer
	for i := range events {
		in.WriteString(`{"type":"P","user":"u` + strconv.Itoa(i%100) + `","n":` + strconv.Itoa(i%10) + `,"at":` + strconv.Itoa(i*10) + "}\n")
	}
	input := in.Bytes()

	// The baseline: a hand-written program that only decodes the
	// same JSON Lines into the same typed events, with encoding/json.
	b.Run("decode-only/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		type P struct {
			Type string `json:"type"`
			User string `json:"user"`
			N    int64  `json:"n"`
			At   int64  `json:"at"`
		}
		for b.Loop() {
			sc := bufio.NewScanner(bytes.NewReader(input))
			n := 0
			for sc.Scan() {
				var p P
				if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
					b.Fatal(err)
				}
				n += int(p.N)
			}
			benchSink = n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	})
	// The same with the engine's own schema-aware decoder: the fastest
	// decode-only program we know.
	b.Run("decode-only/codec", func(b *testing.B) {
		b.ReportAllocs()
		p, err := lang.Load(rules)
		if err != nil {
			b.Fatal(err)
		}
		g, err := lang.Compile(p)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			dec, _ := codec.NewJSONDecoder(bytes.NewReader(input), g.Registry(), codec.Options{})
			var ev event.Event
			n := 0
			for dec.Next(&ev) == nil {
				n += int(ev.Fields[1].Int())
			}
			benchSink = n
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	})
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := lang.Load(rules)
			if err != nil {
				b.Fatal(err)
			}
			g, err := lang.Compile(p)
			if err != nil {
				b.Fatal(err)
			}
			m := g.NewMatcher(engine.Config{})
			out := bufio.NewWriterSize(io.Discard, 64<<10)
			enc := codec.NewEncoder(out, g.Registry(), false)
			m.Subscribe(engine.AllDerived, func(d *engine.Derived) { enc.Encode(d) })
			dec, _ := codec.NewJSONDecoder(bytes.NewReader(input), g.Registry(), codec.Options{})
			if err := codec.Feed(dec, m); err != nil {
				b.Fatal(err)
			}
			m.Close()
			out.Flush()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	})
	b.Run("cepctl", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if code := run([]string{"run", rules, "-q"}, bytes.NewReader(input), io.Discard, io.Discard); code != 0 {
				b.Fatalf("exit %d", code)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
	})
}

var benchSink int

// runEvents sets BenchmarkRun's input size: the figure is on 1M
// events (-run-events=1000000 -benchtime=1x); the default keeps a plain
// -bench run short.
var runEvents = flag.Int("run-events", 20000, "BenchmarkRun: JSON Lines events in the input")
