package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
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
	const events = 20000
	var in bytes.Buffer
	for i := range events {
		in.WriteString(`{"type":"P","user":"u` + strconv.Itoa(i%100) + `","n":` + strconv.Itoa(i%10) + `,"at":` + strconv.Itoa(i*10) + "}\n")
	}
	input := in.Bytes()

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
