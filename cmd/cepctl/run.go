package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/lang"
	"github.com/spf13/cobra"
)

type runFlags struct {
	input       string
	typeField   string
	timeUnit    string
	clock       string
	explain     bool
	late        string
	invalid     string
	summary     string
	quiet       bool
	maxKeys     int
	maxPartials int
}

// The values of --summary.
const (
	summaryFull   = "full"   // counts, elapsed time and events/s
	summaryCounts = "counts" // counts only: the same every run
	summaryNone   = "none"
)

func newRunCmd(s *streams) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run RULES... [--input FILE|-] [flags]",
		Short: "Run rules over JSON Lines events",
		Long: `Run loads, checks and compiles the rule files (a directory stands for the
*.cep files in it), then reads JSON Lines events, one object a line, whose
"type" field names the event type, and writes the derived events to
standard output as JSON Lines: "type", "time", "rule", the emitted
fields, and with --explain "events", the input events each was made from.
The same rules and input give the same bytes on standard output, every
run, as long as events take their time from their time fields: arrival
times (--clock processing, types without a time field) come from the wall
clock. Output is flushed whenever the input has nothing more to read, so a
live stream (a pipe) sees its derived events as they come.

Bad input does not stop the run and is never dropped silently. A record
that is not a valid event goes to the invalid stream, an event behind the
watermark to the late stream. With --invalid FILE and --late FILE each
record is a JSON object on a line of its own:

  {"stream":"late","pos":"events.jsonl:7:1","offset":412,"index":7,
   "reason":"event time ... is 3s behind the watermark ...",
   "event":{"type":"Purchase","time":"...",...fields}}

"pos" is file:line:col of the record (col: where the problem is, for an
undecodable record), "offset" the byte offset of that position in the
input, "index" the record's 1-based place among all records read, "event"
the decoded event when there is one. Both flags may name the same file.
Without them each record is a line on standard error, "pos: stream:
reason".

At the end a summary goes to standard error: events in, derived out, late,
invalid, expression errors, and elapsed time with events/s (--summary).

Exit status: 0 when the input was read to its end (late and invalid
records included), 1 when the rules have errors or cannot run yet (on
timeout emit) or output fails, 2 on a usage error or a file that
cannot be read.`,
		Example: `  cepctl run rules/security.cep --input events.jsonl
  tail -f events.jsonl | cepctl run shop/ --late late.jsonl --invalid bad.jsonl
  cepctl run fraud.cep --input events.jsonl --time-unit s --explain
  cepctl run fraud.cep --input - --clock processing --summary counts`,
		Args: minArgs(1, "rule files"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return s.runRules(args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.input, "input", "i", "-", "JSON Lines file of input events; - is standard input")
	fl.StringVar(&f.typeField, "type-field", "type", "input field naming each record's event type")
	fl.StringVar(&f.timeUnit, "time-unit", "ms", "unit of epoch numbers in time and duration fields: s, ms, us or ns")
	fl.StringVar(&f.clock, "clock", "event", "event: time from the types' time fields; processing: every event takes its arrival time")
	fl.BoolVar(&f.explain, "explain", false, "add to each derived event the input events it was made from")
	fl.IntVar(&f.maxKeys, "max-keys", 0, "at most `N` keys per rule; events with a new key beyond it are refused and reported (0: no limit)")
	fl.IntVar(&f.maxPartials, "max-partials", 0, "at most `N` partial matches per key of a pattern rule; beyond it they are dropped and the event reported (0: 10000)")
	fl.StringVar(&f.late, "late", "", "write late events to `FILE` as JSON Lines (default: lines on standard error)")
	fl.StringVar(&f.invalid, "invalid", "", "write invalid records to `FILE` as JSON Lines (default: lines on standard error)")
	fl.StringVar(&f.summary, "summary", summaryFull, "summary on standard error: full (with timing), counts (deterministic) or none")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no summary (--summary none)")
	return cmd
}

// runConfig is the checked form of the flags.
type runConfig struct {
	unit       codec.TimeUnit
	processing bool
	summary    string
}

func (f *runFlags) check() (runConfig, error) {
	var c runConfig
	unit, err := codec.ParseTimeUnit(f.timeUnit)
	if err != nil || f.timeUnit == "" {
		return c, badArgs("--time-unit %q: want s, ms, us or ns", f.timeUnit)
	}
	c.unit = unit
	switch f.clock {
	case "event":
	case "processing":
		c.processing = true
	default:
		return c, badArgs("--clock %q: want event or processing", f.clock)
	}
	switch f.summary {
	case summaryFull, summaryCounts, summaryNone:
		c.summary = f.summary
	default:
		return c, badArgs("--summary %q: want full, counts or none", f.summary)
	}
	if f.quiet {
		c.summary = summaryNone
	}
	if f.typeField == "" {
		return c, badArgs("--type-field must not be empty")
	}
	if f.input == "" {
		return c, badArgs("--input must not be empty; use - for standard input")
	}
	return c, nil
}

// wallClock gives arrival times: the wall time at start plus the monotonic
// time since, so arrival times never go back even if the system clock does
// (a step back would make processing-time events late).
type wallClock struct{ start time.Time }

func (c wallClock) Now() int64 { return c.start.UnixNano() + int64(time.Since(c.start)) }

func (s *streams) runRules(args []string, f runFlags) (err error) {
	cfg, err := f.check()
	if err != nil {
		return err
	}
	paths, err := expandArgs(args, ".cep")
	if err != nil {
		return err
	}
	prog, err := lang.Load(paths...)
	if err != nil {
		return s.loadFailure(err)
	}
	g, err := lang.Compile(prog)
	if err != nil {
		var list lang.ErrorList
		if errors.As(err, &list) {
			fmt.Fprint(s.stderr, list.String())
			return failed()
		}
		return &exitError{code: exitFailure, err: err}
	}

	in, source := s.stdin, "<stdin>"
	var inInfo os.FileInfo // nil for standard input
	if f.input != "-" {
		file, err := os.Open(f.input)
		if err != nil {
			return fileError(err)
		}
		defer file.Close()
		in, source = file, f.input
		if inInfo, err = file.Stat(); err != nil {
			return fileError(err)
		}
	}
	// Creating a record file truncates it: never the input.
	for _, p := range []string{f.late, f.invalid} {
		if p == "" || inInfo == nil {
			continue
		}
		if fi, err := os.Stat(p); err == nil && os.SameFile(fi, inInfo) {
			return badArgs("%s is the input; the late and invalid records need another file", p)
		}
	}

	// The record sinks: files, or lines on standard error.
	errw := bufio.NewWriter(s.stderr)
	defer errw.Flush()
	files := map[string]*outFile{}
	defer func() {
		for _, o := range files {
			if cerr := o.close(); cerr != nil && err == nil {
				err = &exitError{code: exitFailure, err: cerr}
			}
		}
	}()
	late, err := recordSink(f.late, errw, files)
	if err != nil {
		return err
	}
	invalid, err := recordSink(f.invalid, errw, files)
	if err != nil {
		return err
	}
	// Events a rule refused (its key limit, engine.Config.MaxKeys, or its
	// partial match limit, MaxPartials) are
	// reported on standard error like late and invalid records.
	refused, err := recordSink("", errw, files)
	if err != nil {
		return err
	}

	m := g.NewMatcher(engine.Config{
		Clock:          wallClock{start: time.Now()},
		ProcessingTime: cfg.processing,
		MaxKeys:        f.maxKeys,
		MaxPartials:    f.maxPartials,
		Explain:        f.explain,
	})
	out := bufio.NewWriterSize(s.stdout, 64<<10)
	enc := codec.NewEncoder(out, g.Registry(), f.explain)
	var werr error // the first output error; it stops the input
	if _, err := m.Subscribe(engine.AllDerived, func(d *engine.Derived) {
		if werr == nil {
			werr = enc.Encode(d)
		}
	}); err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	m.SubscribeLate(func(r *engine.Record) {
		if werr == nil {
			werr = late.write(r)
		}
	})
	m.SubscribeInvalid(func(r *engine.Record) {
		if werr == nil {
			werr = invalid.write(r)
		}
	})
	m.SubscribeRefused(func(r *engine.Record) {
		if werr == nil {
			werr = refused.write(r)
		}
	})

	// Flush every output before each read of the input: at most once per
	// 64 KiB of a file, and whenever a pipe has nothing more for now.
	in = &flushingReader{r: in, flush: func() {
		if werr == nil {
			werr = out.Flush()
		}
		if werr == nil {
			werr = flushFiles(files)
		}
		errw.Flush()
	}}
	dec, err := codec.NewJSONDecoder(in, g.Registry(), codec.Options{TypeField: f.typeField, TimeUnit: cfg.unit, Source: source})
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	start := time.Now()
	ferr := codec.Feed(stopper{Decoder: dec, err: &werr}, m)
	m.Close() // after a read error too: what was read is processed
	elapsed := time.Since(start)
	if werr == nil {
		werr = out.Flush()
	}
	switch {
	case werr != nil:
		return &exitError{code: exitFailure, err: fmt.Errorf("writing output: %w", werr)}
	case ferr != nil:
		return &exitError{code: exitFailure, err: fmt.Errorf("reading %s: %w", source, ferr)}
	}
	if cfg.summary != summaryNone {
		errw.WriteString(summaryLine(m.Stats(), elapsed, cfg.summary == summaryFull))
	}
	return nil
}

// summaryLine is the end-of-run report, e.g. "cepctl run: 7 events in,
// 3 derived, 1 late, 1 invalid, 0 expression errors; 1.2ms, 5833 events/s".
func summaryLine(st engine.Stats, elapsed time.Duration, timing bool) string {
	b := []byte("cepctl run: ")
	b = strconv.AppendUint(b, st.In, 10)
	b = append(b, " events in, "...)
	b = strconv.AppendUint(b, st.Derived, 10)
	b = append(b, " derived, "...)
	b = strconv.AppendUint(b, st.Late, 10)
	b = append(b, " late, "...)
	b = strconv.AppendUint(b, st.Invalid, 10)
	b = append(b, " invalid, "...)
	if st.Refused > 0 {
		b = strconv.AppendUint(b, st.Refused, 10)
		b = append(b, " refused, "...)
	}
	b = strconv.AppendUint(b, st.EvalErrors, 10)
	b = append(b, " expression errors"...)
	if timing {
		b = append(b, "; "...)
		b = append(b, elapsed.Round(time.Microsecond).String()...)
		if secs := elapsed.Seconds(); secs > 0 {
			b = append(b, ", "...)
			b = strconv.AppendFloat(b, float64(st.In)/secs, 'f', 0, 64)
			b = append(b, " events/s"...)
		}
	}
	return string(append(b, '\n'))
}

// stopper ends the input once output has failed (a closed pipe): Feed
// returns the error instead of decoding on.
type stopper struct {
	codec.Decoder
	err *error
}

func (s stopper) Next(ev *event.Event) error {
	if *s.err != nil {
		return *s.err
	}
	return s.Decoder.Next(ev)
}

// flushingReader calls flush before each read of r. The decoder reads
// through a large buffer, so a read of r means all input so far is
// decoded and processed.
type flushingReader struct {
	r     io.Reader
	flush func()
}

func (f *flushingReader) Read(p []byte) (int, error) {
	f.flush()
	return f.r.Read(p)
}

func flushFiles(files map[string]*outFile) error {
	for _, o := range files {
		if err := o.w.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// outFile is a file that receives records, buffered.
type outFile struct {
	f *os.File
	w *bufio.Writer
}

func (o *outFile) close() error {
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// recordSink returns where the records of one stream go: path as JSON
// Lines (files shared by name, so --late and --invalid may name the same
// file), or lines of text on stderr when path is "".
func recordSink(path string, stderr *bufio.Writer, files map[string]*outFile) (*sink, error) {
	if path == "" {
		return &sink{w: stderr}, nil
	}
	if o, ok := files[path]; ok {
		return &sink{w: o.w, json: true}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fileError(err)
	}
	o := &outFile{f: f, w: bufio.NewWriter(f)}
	files[path] = o
	return &sink{w: o.w, json: true}, nil
}

// sink writes the records of the late or the invalid stream.
type sink struct {
	w    io.Writer
	json bool
	buf  []byte
}

func (s *sink) write(r *engine.Record) error {
	if s.json {
		s.buf = appendRecordJSON(s.buf[:0], r)
	} else {
		s.buf = append(s.buf[:0], r.String()...)
	}
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	return err
}

// appendRecordJSON appends a record of the late or invalid stream as one
// JSON object with keys in a fixed order: "stream", "pos" (file:line:col,
// absent if unknown), "offset" (the byte offset of pos in the input, absent
// if unknown), "index" (1-based among all records), "reason", "event" (the
// decoded event, absent if there is none).
func appendRecordJSON(b []byte, r *engine.Record) []byte {
	b = append(b, `{"stream":`...)
	b = codec.AppendString(b, r.Stream.String())
	if r.Pos.IsValid() {
		b = append(b, `,"pos":`...)
		b = codec.AppendString(b, r.Pos.String())
		if r.Pos.Offset >= 0 {
			b = append(b, `,"offset":`...)
			b = strconv.AppendInt(b, r.Pos.Offset, 10)
		}
	}
	b = append(b, `,"index":`...)
	b = strconv.AppendUint(b, r.Index, 10)
	b = append(b, `,"reason":`...)
	b = codec.AppendString(b, r.Reason())
	if r.Event != nil && r.Schema != nil {
		b = append(b, `,"event":`...)
		b = codec.AppendEvent(b, r.Schema, r.Event)
	}
	return append(b, '}')
}
