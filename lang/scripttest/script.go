package scripttest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Script is one parsed rule script.
type Script struct {
	Name  string
	Rules string // the rules section, other lines blanked, so positions are the script's
	// RulesSeen reports whether a rules section exists.
	RulesSeen bool
	Inputs    []Input
	Expect    []Line // derived events
	Late      []Line // events expected on the late stream
	Invalid   []*regexp.Regexp
	// InvalidLines are the script lines of Invalid, for messages.
	InvalidLines []int
	Processing   bool // options: clock processing
	// ExpectSeen reports whether an expect section exists (a script with no
	// expect section expects no derived events, but must say so).
	ExpectSeen bool
	// Absolute is true when any time in the script is written in RFC 3339:
	// output times are then printed that way, else as offsets.
	Absolute bool
}

// InputKind tells what an input line is.
type InputKind uint8

// The input kinds.
const (
	InputEvent InputKind = iota
	InputJSON
	InputWatermark
)

// Input is one line of the events section.
type Input struct {
	Line   int
	Kind   InputKind
	Time   int64  // event time or watermark, Unix nanoseconds
	Type   string // InputEvent
	Fields string // InputEvent: the expr map literal, "{...}"
	JSON   string // InputJSON: the raw record
}

// Line is one expected event: time, type and field literal.
type Line struct {
	Line   int
	Time   int64
	Type   string
	Fields string
}

// Error is a script error at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Parse parses a script.
func Parse(name string, src []byte) (*Script, error) {
	s := &Script{Name: name}
	lines := strings.Split(string(src), "\n")
	var rules []string
	section := ""
	errf := func(line int, format string, args ...any) error {
		return &Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	for i, raw := range lines {
		n := i + 1
		text := strings.TrimRight(raw, " \t\r")
		if text != "" && text[0] != ' ' && text[0] != '\t' {
			if strings.HasPrefix(text, "#") {
				rules = append(rules, "")
				continue
			}
			switch text {
			case "rules":
				s.RulesSeen = true
			case "events":
			case "expect":
				s.ExpectSeen = true
			case "expect late", "expect invalid", "options":
			default:
				return nil, errf(n, "unknown section %q; expected rules, events, expect, expect late, expect invalid or options", text)
			}
			section = text
			rules = append(rules, "")
			continue
		}
		if section == "rules" {
			rules = append(rules, raw)
			continue
		}
		rules = append(rules, "")
		body := strings.TrimSpace(text)
		if body == "" || strings.HasPrefix(body, "#") {
			continue
		}
		switch section {
		case "":
			return nil, errf(n, "text before the first section")
		case "events":
			in, err := s.parseInput(n, body)
			if err != nil {
				return nil, errf(n, "%v", err)
			}
			s.Inputs = append(s.Inputs, in)
		case "expect", "expect late":
			l, err := s.parseLine(n, body)
			if err != nil {
				return nil, errf(n, "%v", err)
			}
			if section == "expect" {
				s.Expect = append(s.Expect, l)
			} else {
				s.Late = append(s.Late, l)
			}
		case "expect invalid":
			q, err := strconv.Unquote(body)
			if err != nil {
				return nil, errf(n, "expected a quoted regexp, found %s", body)
			}
			re, err := regexp.Compile(q)
			if err != nil {
				return nil, errf(n, "bad regexp: %v", err)
			}
			s.Invalid = append(s.Invalid, re)
			s.InvalidLines = append(s.InvalidLines, n)
		case "options":
			switch body {
			case "clock processing":
				s.Processing = true
			default:
				return nil, errf(n, "unknown option %q; expected clock processing", body)
			}
		}
	}
	if !s.RulesSeen {
		return nil, errf(1, "script has no rules section")
	}
	s.Rules = strings.Join(rules, "\n")
	return s, nil
}

func (s *Script) parseInput(line int, body string) (Input, error) {
	if rest, ok := strings.CutPrefix(body, "json "); ok {
		return Input{Line: line, Kind: InputJSON, JSON: strings.TrimSpace(rest)}, nil
	}
	if rest, ok := strings.CutPrefix(body, "watermark "); ok {
		t, err := s.parseTime(strings.TrimSpace(rest))
		if err != nil {
			return Input{}, err
		}
		return Input{Line: line, Kind: InputWatermark, Time: t}, nil
	}
	l, err := s.parseLine(line, body)
	if err != nil {
		return Input{}, err
	}
	return Input{Line: line, Kind: InputEvent, Time: l.Time, Type: l.Type, Fields: l.Fields}, nil
}

// parseLine parses TIME Type { fields }.
func (s *Script) parseLine(line int, body string) (Line, error) {
	f := strings.Fields(body)
	if len(f) < 2 {
		return Line{}, fmt.Errorf("expected TIME Type { field: value, ... }, found %q", body)
	}
	t, err := s.parseTime(f[0])
	if err != nil {
		return Line{}, err
	}
	rest := strings.TrimSpace(body[len(f[0]):])
	typ := rest
	fields := "{}"
	if i := strings.IndexByte(rest, '{'); i >= 0 {
		typ = strings.TrimSpace(rest[:i])
		fields = strings.TrimSpace(rest[i:])
		if !strings.HasSuffix(fields, "}") {
			return Line{}, fmt.Errorf("field list of %s does not end with }", typ)
		}
	}
	if !isName(typ) {
		return Line{}, fmt.Errorf("expected an event type name after the time, found %q", typ)
	}
	return Line{Line: line, Time: t, Type: typ, Fields: fields}, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

var durationRE = regexp.MustCompile(`^(\d+(ns|us|µs|ms|s|m|h|d))+$`)

func (s *Script) parseTime(text string) (int64, error) {
	if durationRE.MatchString(text) {
		d, err := parseDuration(text)
		return int64(d), err
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return 0, fmt.Errorf("expected a time (a duration from the epoch such as 3m, or RFC 3339), found %q", text)
	}
	s.Absolute = true
	return t.UnixNano(), nil
}

var unitRE = regexp.MustCompile(`(\d+)(ns|us|µs|ms|s|m|h|d)`)

var units = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

func parseDuration(text string) (time.Duration, error) {
	var d time.Duration
	for _, m := range unitRE.FindAllStringSubmatch(text, -1) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q", text)
		}
		d += time.Duration(n) * units[m[2]]
	}
	return d, nil
}

// FormatTime prints a time as the script wrote times: an offset from the
// epoch, or RFC 3339.
func (s *Script) FormatTime(t int64) string {
	if s.Absolute {
		return time.Unix(0, t).UTC().Format(time.RFC3339Nano)
	}
	return formatOffset(time.Duration(t))
}

// formatOffset prints a duration in the script's units: 0s, 3m, 1h30m, 1d2h,
// 500ms.
func formatOffset(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}, {"us", time.Microsecond}, {"ns", time.Nanosecond}} {
		if d >= u.d {
			fmt.Fprintf(&b, "%d%s", d/u.d, u.name)
			d %= u.d
		}
	}
	return b.String()
}
