package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/codec"
	"github.com/cepengine/cep/engine/event"
)

// TestRun_recordJSON pins the format of --late and --invalid records and
// checks that each is valid JSON whose reason reads back unchanged.
func TestRun_recordJSON(t *testing.T) {
	s := event.NewSchema("T", []event.Field{{Name: "s", Type: event.Type{Kind: event.KindString}}}, "", 0)
	ev := &event.Event{Time: 2e9, Fields: []event.Value{event.StringValue("a\"b")}}
	for _, tc := range []struct {
		name string
		rec  engine.Record
		want string
	}{
		{"undecodable, quotes and bad UTF-8 in the reason",
			engine.Record{Stream: engine.StreamInvalid, Pos: engine.Pos{File: "in.jsonl", Line: 3, Col: 9, Offset: 120}, Index: 3,
				Err: &codec.Error{Msg: "unknown event type \"R\xffx\"", Err: engine.ErrUnknownType}, Field: -1},
			`{"stream":"invalid","pos":"in.jsonl:3:9","offset":120,"index":3,"reason":"unknown event type \"R\ufffdx\""}`},
		{"no position (Go API), no offset",
			engine.Record{Stream: engine.StreamInvalid, Index: 7, Err: errors.New("x\ny"), Field: -1},
			`{"stream":"invalid","index":7,"reason":"x\ny"}`},
		{"a line without offset (CSV)",
			engine.Record{Stream: engine.StreamInvalid, Pos: engine.Pos{File: "in.csv", Line: 2, Col: 1, Offset: -1}, Index: 1, Err: errors.New("bad"), Field: -1},
			`{"stream":"invalid","pos":"in.csv:2:1","index":1,"reason":"bad"}`},
		{"late, with the event",
			engine.Record{Stream: engine.StreamLate, Pos: engine.Pos{File: "in.jsonl", Line: 5, Col: 1, Offset: 200}, Index: 5,
				Err: engine.ErrLate, Event: ev, Schema: s, Field: -1, Bound: 3e9},
			`{"stream":"late","pos":"in.jsonl:5:1","offset":200,"index":5,"reason":"event time 1970-01-01T00:00:02Z is 1s behind the watermark 1970-01-01T00:00:03Z","event":{"type":"T","time":"1970-01-01T00:00:02Z","s":"a\"b"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(appendRecordJSON(nil, &tc.rec))
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
			var back struct{ Reason string }
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if want := strings.ToValidUTF8(tc.rec.Reason(), "\ufffd"); back.Reason != want {
				t.Errorf("reason reads back as %q, want %q", back.Reason, want)
			}
		})
	}
}

// TestRun_deterministic runs the same rules and input twice in process,
// including out-of-order, late and invalid input, and wants the same bytes
// on every output.
func TestRun_deterministic(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "r.cep")
	input := filepath.Join(dir, "in.jsonl")
	write(t, rules, `event P { user: string, n: int, at: time } time at lateness 3s
rule big from P where n > 2 emit Big { user, n }
rule bigger from Big where n > 5 emit Bigger { user }
`)
	var in strings.Builder
	for i := range 500 {
		// Times wander back up to 2s (reordered, within the lateness), and
		// one event in ten is 6s behind (late).
		at := i*1000 - (i*7919%3)*1000
		if i%10 == 5 {
			at = i*1000 - 6000
		}
		if i%37 == 0 {
			in.WriteString("{not json\n")
		}
		in.WriteString(`{"type":"P","user":"u` + strconv.Itoa(i%13) + `","n":` + strconv.Itoa(i%9) + `,"at":` + strconv.Itoa(at) + "}\n")
	}
	write(t, input, in.String())
	runOnce := func(k string) (stdout, stderr, late string) {
		var o, e bytes.Buffer
		lateFile := filepath.Join(dir, "late"+k)
		code := run([]string{"run", rules, "--input", input, "--late", lateFile, "--summary", "counts"}, strings.NewReader(""), &o, &e)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, e.String())
		}
		b, err := os.ReadFile(lateFile)
		if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), string(b)
	}
	o1, e1, l1 := runOnce("1")
	o2, e2, l2 := runOnce("2")
	if o1 != o2 || e1 != e2 || l1 != l2 {
		t.Fatalf("two runs differ")
	}
	if strings.Count(l1, "\n") == 0 || !strings.Contains(e1, "invalid: expected") || strings.Count(o1, "\n") < 100 {
		t.Fatalf("the input should give late, invalid and derived events:\nstderr: %s\nlate lines: %d, derived lines: %d", e1, strings.Count(l1, "\n"), strings.Count(o1, "\n"))
	}
}

// TestRun_wallClock checks that arrival times never go back.
func TestRun_wallClock(t *testing.T) {
	c := wallClock{start: time.Now()}
	prev := c.Now()
	for range 10000 {
		now := c.Now()
		if now < prev {
			t.Fatalf("clock went back: %d after %d", now, prev)
		}
		prev = now
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRun_streams checks that a derived event reaches standard output
// while the input is still open: output is flushed when the input waits.
func TestRun_streams(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "r.cep")
	write(t, rules, "event P { n: int, at: time } time at\nrule r from P where n > 0 emit Q { n }\n")
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run([]string{"run", rules, "-q"}, inR, outW, io.Discard)
		outW.Close()
	}()
	lines := bufio.NewReader(outR)
	for i, want := range []string{
		`{"type":"Q","time":"1970-01-01T00:00:01Z","rule":"r","n":1}` + "\n",
		`{"type":"Q","time":"1970-01-01T00:00:02Z","rule":"r","n":2}` + "\n",
	} {
		// The input stays open: the line must come out now.
		if _, err := io.WriteString(inW, `{"type":"P","n":`+strconv.Itoa(i+1)+`,"at":`+strconv.Itoa((i+1)*1000)+"}\n"); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			l, _ := lines.ReadString('\n')
			got <- l
		}()
		select {
		case l := <-got:
			if l != want {
				t.Fatalf("got %q, want %q", l, want)
			}
		case <-time.After(10 * time.Second): // a deadlock guard, not a timing check
			t.Fatal("no output while the input is open")
		}
	}
	inW.Close()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
