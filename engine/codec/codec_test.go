package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cepengine/cep/engine"
	"github.com/cepengine/cep/engine/event"
)

func testRegistry() *event.Registry {
	reg := event.NewRegistry()
	reg.Add(event.NewSchema("Trade", []event.Field{
		{Name: "sym", Type: event.String},
		{Name: "px", Type: event.Float},
		{Name: "qty", Type: event.Int},
		{Name: "at", Type: event.Time},
	}, "at", 0))
	reg.Add(event.NewSchema("Note", []event.Field{
		{Name: "text", Type: event.String},
		{Name: "ok", Type: event.Bool},
		{Name: "tags", Type: event.ListOf(event.String)},
		{Name: "extra", Type: event.Any},
		{Name: "wait", Type: event.Duration},
	}, "", 0))
	return reg
}

// render prints an event compactly, with its values re-encoded as JSON.
func render(reg *event.Registry, ev *event.Event) string {
	s := reg.ByID(ev.Type)
	var b []byte
	b = append(b, s.Name...)
	b = append(b, '{')
	for i, v := range ev.Fields {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s.Fields[i].Name...)
		b = append(b, '=')
		b = AppendValue(b, v)
	}
	b = append(b, '}')
	if s.TimeSlot >= 0 {
		b = append(b, " @"...)
		b = engine.AppendTime(b, ev.Time)
	}
	return string(b)
}

func TestJSON_decode(t *testing.T) {
	reg := testRegistry()
	tests := []struct {
		in, want string
	}{
		{`{"type":"Trade","sym":"A","px":1.5,"qty":3,"at":"2024-01-01T00:00:03Z"}`, `Trade{sym="A" px=1.5 qty=3 at="2024-01-01T00:00:03Z"} @2024-01-01T00:00:03Z`},
		{`{"sym":"A","type":"Trade","at":1704067203500}`, `Trade{sym="A" px=null qty=null at="2024-01-01T00:00:03.5Z"} @2024-01-01T00:00:03.5Z`},
		{` { "at" : "2024-01-01T01:00:00+01:00" , "type" : "Trade", "px": 2, "qty": 4.0, "x": {"a":[1,{"b":null}]} } `, `Trade{sym=null px=2 qty=4 at="2024-01-01T00:00:00Z"} @2024-01-01T00:00:00Z`},
		{`{"type":"Trade","sym":"\u00e9\"\n\ud83d\ude00","at":0}`, `Trade{sym="é\"\n😀" px=null qty=null at="1970-01-01T00:00:00Z"} @1970-01-01T00:00:00Z`},
		{`{"type":"Trade","sym":null,"px":-1e-3,"qty":-9223372036854775808,"at":"2024-02-29T23:59:59.123456789Z"}`, `Trade{sym=null px=-0.001 qty=-9223372036854775808 at="2024-02-29T23:59:59.123456789Z"} @2024-02-29T23:59:59.123456789Z`},
		{`{"type":"Note","text":"hi","ok":true,"tags":["a","b"],"extra":7,"wait":"1m30s"}`, `Note{text="hi" ok=true tags=["a","b"] extra=7 wait="1m30s"}`},
		{`{"type":"Note","extra":7.5,"wait":1500}`, `Note{text=null ok=null tags=null extra=7.5 wait="1.5s"}`},
		{`{"type":"Note","extra":[1,"x",false,null],"tags":[]}`, `Note{text=null ok=null tags=[] extra=[1,"x",false,null] wait=null}`},
		{`{"ty\u0070e":"Note"}`, `Note{text=null ok=null tags=null extra=null wait=null}`},

		{`not json`, `t.jsonl:1:1: expected a JSON object, found "not"`},
		{`{"type":"Trade",}`, `t.jsonl:1:17: expected a field name, found "}"`},
		{`{"type":"Trade" "at":1}`, `t.jsonl:1:17: expected ',' or '}' after a field value, found string "at"`},
		{`{"type":"Trade","at":1} x`, `t.jsonl:1:25: unexpected "x" after the object`},
		{`{"type":"Trade","at":01}`, `t.jsonl:1:23: expected ',' or '}' after a field value, found "1"`},
		{`{"type":"Trade","sym":"a`, `t.jsonl:1:23: unterminated string`},
		{`{"type":"Trade","sym":"\x"}`, `t.jsonl:1:24: invalid escape in string`},
		{`{"type":"Trade","junk":[1,2}`, `t.jsonl:1:28: expected ',' or ']', found "}"`},
		{`{"type":"Trade","junk":tru}`, `t.jsonl:1:24: expected a value, found "tru"`},
		{`{"type":"Nope","at":1}`, `t.jsonl:1:9: unknown event type "Nope"`},
		{`{"type":3,"at":1}`, `t.jsonl:1:9: field "type": expected a type name string, found "3"`},
		{`{"at":1}`, `t.jsonl:1:1: missing "type" field naming the event type`},
		{`{"type":"Trade","px":"1.5","at":1}`, `t.jsonl:1:22: field px: expected float, found string`},
		{`{"type":"Trade","qty":1.5,"at":1}`, `t.jsonl:1:23: field qty: expected int, found 1.5`},
		{`{"type":"Trade","qty":9223372036854775808,"at":1}`, `t.jsonl:1:23: field qty: integer 9223372036854775808 out of range`},
		{`{"type":"Trade","at":"yesterday"}`, `t.jsonl:1:22: field at: expected an RFC 3339 time, found string "yesterday"`},
		{`{"type":"Trade","at":"2024-02-30T00:00:00Z"}`, `t.jsonl:1:22: field at: expected an RFC 3339 time, found string "2024-02-30T00:00:00Z"`},
		{`{"type":"Trade","sym":"A"}`, `t.jsonl:1:1: missing event time: field at of Trade is absent`},
		{`{"type":"Trade","at":null}`, `t.jsonl:1:1: missing event time: field at of Trade is absent`},
		{`{"type":"Note","tags":["a",1]}`, `t.jsonl:1:28: field tags[1]: expected string, found number`},
		{`{"type":"Note","ok":{"a":1}}`, `t.jsonl:1:21: field ok: expected bool, found object`},
		{`{"type":"Note","extra":{}}`, `t.jsonl:1:24: field extra: expected any, found object`},
	}
	for _, tt := range tests {
		d, err := NewJSONDecoder(strings.NewReader(tt.in+"\n"), reg, Options{Source: "t.jsonl"})
		if err != nil {
			t.Fatal(err)
		}
		var ev event.Event
		got := ""
		if err := d.Next(&ev); err != nil {
			got = err.Error()
		} else {
			got = render(reg, &ev)
		}
		if got != tt.want {
			t.Errorf("%s\n got %s\nwant %s", tt.in, got, tt.want)
		}
		if err := d.Next(&ev); err != io.EOF {
			t.Errorf("%s: second Next = %v, want EOF", tt.in, err)
		}
	}
}

func TestJSON_errorsWrapSentinels(t *testing.T) {
	reg := testRegistry()
	tests := []struct {
		in   string
		want error
	}{
		{`[1]`, ErrSyntax},
		{`{"type":"X"}`, engine.ErrUnknownType},
		{`{"type":"Trade","px":true,"at":1}`, engine.ErrFieldType},
		{`{"type":"Trade"}`, engine.ErrMissingTime},
	}
	for _, tt := range tests {
		d, _ := NewJSONDecoder(strings.NewReader(tt.in), reg, Options{})
		var ev event.Event
		err := d.Next(&ev)
		var rec *Error
		if !errors.Is(err, tt.want) || !errors.As(err, &rec) {
			t.Errorf("%s: error %v, want *Error wrapping %v", tt.in, err, tt.want)
		}
	}
}

func TestJSON_positions(t *testing.T) {
	reg := testRegistry()
	in := "{\"type\":\"Trade\",\"at\":1}\r\n\n   \n{\"type\":\"Trade\",\"at\":x}\n{\"type\":\"Trade\",\"at\":2}"
	d, _ := NewJSONDecoder(strings.NewReader(in), reg, Options{Source: "f"})
	var ev event.Event
	var got []string
	for {
		err := d.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			var rec *Error
			errors.As(err, &rec)
			got = append(got, rec.Pos.String()+"@"+strconv.FormatInt(rec.Pos.Offset, 10)+" "+rec.Msg)
			continue
		}
		got = append(got, d.Pos().String()+"@"+strconv.FormatInt(d.Pos().Offset, 10)+" ok")
	}
	want := []string{"f:1:1@0 ok", `f:4:22@51 expected a value, found "x"`, "f:5:1@54 ok"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if in[51] != 'x' {
		t.Fatalf("offset check: in[51] = %q", in[51])
	}
}

func TestJSON_longLines(t *testing.T) {
	reg := testRegistry()
	long := `{"type":"Trade","at":1,"pad":"` + strings.Repeat("x", 200<<10) + `"}`
	in := long + "\n" + `{"type":"Trade","at":2}` + "\n"
	d, _ := NewJSONDecoder(strings.NewReader(in), reg, Options{MaxLineBytes: 100 << 10})
	var ev event.Event
	err := d.Next(&ev)
	if !errors.Is(err, ErrLineTooLong) || d.Pos().Line != 1 {
		t.Fatalf("long line: %v at %v", err, d.Pos())
	}
	if err := d.Next(&ev); err != nil || ev.Time != 2e6 || d.Pos().Line != 2 || d.Pos().Offset != int64(len(long)+1) {
		t.Fatalf("after long line: %v %v %+v", err, ev.Time, d.Pos())
	}
	// Within the limit, a long line decodes.
	d, _ = NewJSONDecoder(strings.NewReader(in), reg, Options{})
	if err := d.Next(&ev); err != nil || ev.Time != 1e6 {
		t.Fatalf("long line within limit: %v", err)
	}
}

func TestJSON_options(t *testing.T) {
	reg := testRegistry()
	d, err := NewJSONDecoder(strings.NewReader(`{"kind":"Trade","at":1.5}`+"\n"+`{"at":2}`), reg, Options{TypeField: "kind", TimeUnit: Seconds})
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	if err := d.Next(&ev); err != nil || ev.Time != 1.5e9 {
		t.Fatalf("type field kind, seconds: %v %d", err, ev.Time)
	}
	if err := d.Next(&ev); err == nil {
		t.Fatal("record without the type field decoded")
	}
	for unit, want := range map[TimeUnit]int64{Seconds: 7e9, Millis: 7e6, Micros: 7e3, Nanos: 7} {
		d, _ := NewJSONDecoder(strings.NewReader(`{"at":7}`), reg, Options{Type: "Trade", TimeUnit: unit})
		if err := d.Next(&ev); err != nil || ev.Time != want {
			t.Errorf("unit %s: %v %d, want %d", unit, err, ev.Time, want)
		}
	}
	if _, err := NewJSONDecoder(nil, reg, Options{Type: "Nope"}); !errors.Is(err, engine.ErrUnknownType) {
		t.Errorf("unknown fixed type: %v", err)
	}
	for _, s := range []string{"s", "ms", "us", "ns"} {
		u, err := ParseTimeUnit(s)
		if err != nil || u.String() != s {
			t.Errorf("ParseTimeUnit(%s) = %v, %v", s, u, err)
		}
	}
	if _, err := ParseTimeUnit("h"); err == nil {
		t.Error("ParseTimeUnit(h) succeeded")
	}
}

func TestScan_rfc3339MatchesTime(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		sec := r.Int64N(1<<36) - 1<<35
		tm := time.Unix(sec, r.Int64N(1e9))
		var s string
		switch r.IntN(4) {
		case 0:
			s = tm.UTC().Format(time.RFC3339)
		case 1:
			s = tm.UTC().Format(time.RFC3339Nano)
		case 2:
			s = tm.In(time.FixedZone("", (r.IntN(48)-24)*1800)).Format(time.RFC3339Nano)
		default:
			s = tm.UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		got, ok := parseRFC3339([]byte(s))
		if (err == nil) != ok || ok && got != want.UnixNano() {
			t.Fatalf("%s: got %d %v, time.Parse %d %v", s, got, ok, want.UnixNano(), err)
		}
	}
	for _, s := range []string{"2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+0100", "2024-01-01X00:00:00Z"} {
		if _, ok := parseRFC3339([]byte(s)); ok {
			t.Errorf("%s accepted", s)
		}
	}
}

func TestScan_floatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		var s string
		switch r.IntN(3) {
		case 0:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(30)-15)), 'g', -1, 64)
		case 1:
			s = strconv.FormatFloat(float64(r.IntN(1e6))/100, 'f', -1, 64)
		default:
			s = strconv.Itoa(r.IntN(1e9)) + "." + strconv.Itoa(r.IntN(1e9)) + "e" + strconv.Itoa(r.IntN(60)-30)
		}
		want, _ := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		if !ok || got != want {
			t.Fatalf("%s: got %v %v, strconv %v", s, got, ok, want)
		}
	}
}

func TestCSV_decode(t *testing.T) {
	reg := testRegistry()
	in := "at,sym,unused,px,qty\n" +
		"2024-01-01T00:00:01Z,A,zz,1.5,3\n" +
		"1704067202000,\"B,C\",,,\n" +
		"2024-01-01T00:00:03Z,D,,x,1\n" +
		",E,,1,1\n" +
		"1,2\n" +
		"2024-01-01T00:00:04Z,\"F\"\"\",,2e3,-4\n"
	d, err := NewCSVDecoder(strings.NewReader(in), reg, Options{Type: "Trade", Source: "t.csv"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var ev event.Event
	for {
		err := d.Next(&ev)
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, err.Error())
			continue
		}
		got = append(got, d.Pos().String()+" "+render(reg, &ev))
	}
	want := []string{
		`t.csv:2:1 Trade{sym="A" px=1.5 qty=3 at="2024-01-01T00:00:01Z"} @2024-01-01T00:00:01Z`,
		`t.csv:3:1 Trade{sym="B,C" px=null qty=null at="2024-01-01T00:00:02Z"} @2024-01-01T00:00:02Z`,
		`t.csv:4:25: field px: expected float, found "x"`,
		`t.csv:5:1: missing event time: field at of Trade is absent`,
		`t.csv:6:1: record has 2 fields, header has 5`,
		`t.csv:7:1 Trade{sym="F\"" px=2000 qty=-4 at="2024-01-01T00:00:04Z"} @2024-01-01T00:00:04Z`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := NewCSVDecoder(strings.NewReader(""), reg, Options{}); err == nil {
		t.Error("CSV without a type accepted")
	}
	d, _ = NewCSVDecoder(strings.NewReader("text,tags,extra,ok,wait\nhi,\"[\"\"a\"\"]\",2.5,true,1s\n"), reg, Options{Type: "Note"})
	if err := d.Next(&ev); err != nil || render(reg, &ev) != `Note{text="hi" ok=true tags=["a"] extra=2.5 wait="1s"}` {
		t.Errorf("Note: %v %s", err, render(reg, &ev))
	}
}

func TestEncode_derived(t *testing.T) {
	reg := testRegistry()
	out := event.NewSchema("Alert", []event.Field{
		{Name: "sym", Type: event.String}, {Name: "n", Type: event.Int}, {Name: "px", Type: event.Float},
		{Name: "ok", Type: event.Bool}, {Name: "when", Type: event.Time}, {Name: "d", Type: event.Duration},
		{Name: "l", Type: event.ListOf(event.Any)}, {Name: "none", Type: event.Any},
	}, "", 0)
	reg.Add(out)
	in := &event.Event{Type: 0, Time: 1704067203500e6, Fields: []event.Value{event.StringValue("A"), event.FloatValue(2), event.IntValue(1), event.TimeValue(1704067203500e6)}}
	d := &engine.Derived{
		Event: event.Event{Type: out.ID, Time: 1704067203000e6, Fields: []event.Value{
			event.StringValue("a\"b\\c\n\x01<>&\u2028\xff"), event.IntValue(-7), event.FloatValue(35),
			event.BoolValue(false), event.TimeValue(1704067203000000001), event.DurationValue(90 * time.Second),
			event.ListValue([]event.Value{event.IntValue(1), event.FloatValue(0.5), event.Nil}), event.Nil,
		}},
		Schema: out, Rule: "r1", Inputs: []*event.Event{in},
	}
	var buf bytes.Buffer
	enc := NewEncoder(&buf, reg, true)
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	want := `{"type":"Alert","time":"2024-01-01T00:00:03Z","rule":"r1","sym":"a\"b\\c\n\u0001<>&\u2028\ufffd","n":-7,"px":35,"ok":false,"when":"2024-01-01T00:00:03.000000001Z","d":"1m30s","l":[1,0.5,null],"none":null,"events":[{"type":"Trade","time":"2024-01-01T00:00:03.5Z","sym":"A","px":2,"qty":1,"at":"2024-01-01T00:00:03.5Z"}]}` + "\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Errorf("output is not JSON: %v", err)
	}
}

func TestEncode_floats(t *testing.T) {
	tenth := 0.1
	tests := []struct {
		f    float64
		want string
	}{
		{35, "35"}, {-0.5, "-0.5"}, {0, "0"}, {1e20, "100000000000000000000"}, {1e21, "1e+21"},
		{1e-6, "0.000001"}, {1e-7, "1e-7"}, {tenth + 2*tenth, "0.30000000000000004"}, {123456789.125, "123456789.125"},
		{math.NaN(), "null"}, {math.Inf(-1), "null"}, {5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
	}
	for _, tt := range tests {
		got := string(AppendFloat(nil, tt.f))
		if got != tt.want {
			t.Errorf("%v: got %s, want %s", tt.f, got, tt.want)
		}
		if want, _ := json.Marshal(tt.f); !math.IsNaN(tt.f) && !math.IsInf(tt.f, 0) && got != string(want) {
			t.Errorf("%v: got %s, encoding/json %s", tt.f, got, want)
		}
	}
}

func TestEncode_stringsMatchJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		got := AppendString(nil, string(b))
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q encoded as %s: %v", b, got, err)
		}
		if want := strings.ToValidUTF8(string(b), "\ufffd"); back != want && utf8Valid(b) {
			t.Fatalf("%q round trip gave %q", b, back)
		}
	}
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\x00") == string(b) }

func TestJSON_decodeAllocs(t *testing.T) {
	reg := testRegistry()
	d, _ := NewJSONDecoder(nil, reg, Options{})
	line := []byte(`{"type":"Trade","sym":"ABC","px":101.25,"qty":300,"at":1704067203500}`)
	var ev event.Event
	if err := d.DecodeLine(line, &ev); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = d.DecodeLine(line, &ev) }); n != 0 {
		t.Errorf("DecodeLine allocates %v times per line, want 0", n)
	}
}

// FuzzJSONDecode checks that the decoder never panics, accepts only valid
// JSON, and rejects invalid JSON as a syntax error.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{`{"type":"Trade","sym":"A","px":1.5,"qty":3,"at":"2024-01-01T00:00:03Z"}`, `{"type":"Note","tags":["a"],"extra":[1,{"x":null}]}`, `{"a":"\ud83d\ude00"}`, `[`} {
		f.Add(s)
	}
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\n") {
			return
		}
		d, _ := NewJSONDecoder(nil, reg, Options{})
		var ev event.Event
		err := d.DecodeLine([]byte(s), &ev)
		valid := json.Valid([]byte(s))
		if err == nil && !valid {
			t.Fatalf("accepted invalid JSON %q", s)
		}
		if !valid && !errors.Is(err, ErrSyntax) && strings.TrimSpace(s) != "" {
			t.Fatalf("invalid JSON %q: error %v, want a syntax error", s, err)
		}
	})
}
