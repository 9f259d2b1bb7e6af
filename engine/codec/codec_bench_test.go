package codec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/cepengine/cep/engine/event"
)

// Decoding benchmarks: the codec beside a hand-written decoder of the same
// JSON into the same typed events (the practical limit: it knows the four
// keys at compile time) and beside encoding/json into a struct. Compare
// the ns/event of the sub-benchmarks in one run.

var sinkInt int64

func marketRegistry() *event.Registry {
	reg := event.NewRegistry()
	reg.Add(event.NewSchema("Market", []event.Field{
		{Name: "ticker", Type: event.String}, {Name: "price", Type: event.Float},
		{Name: "volume", Type: event.Int}, {Name: "ts", Type: event.Time},
	}, "ts", 0))
	return reg
}

// marketLines makes n JSON lines shaped like the W1 workload: 1000 tickers,
// prices with cents, epoch-millisecond times.
func marketLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(1, 1))
	lines := make([][]byte, n)
	ts := int64(1704067200000)
	for i := range lines {
		ts += int64(r.IntN(5))
		lines[i] = fmt.Appendf(nil, `{"type":"Market","ticker":"S%03d","price":%.2f,"volume":%d,"ts":%d}`,
			r.IntN(1000), 10+r.Float64()*990, r.IntN(100000), ts)
	}
	return lines
}

func reportPerEvent(b *testing.B, lines [][]byte) {
	var size int
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}

func BenchmarkDecode(b *testing.B) {
	lines := marketLines(10000)
	reg := marketRegistry()
	for _, c := range []struct {
		name   string
		intern int
	}{{"codec", 0}, {"codec_no_intern", -1}} {
		b.Run(c.name, func(b *testing.B) {
			d, _ := NewJSONDecoder(nil, reg, Options{Intern: c.intern})
			var ev event.Event
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if err := d.DecodeLine(lines[i%len(lines)], &ev); err != nil {
					b.Fatal(err)
				}
				i++
				sinkInt += ev.Time
			}
			reportPerEvent(b, lines)
		})
	}
	b.Run("handwritten", func(b *testing.B) {
		var ev event.Event
		ev.Fields = make([]event.Value, 4)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if !handDecode(lines[i%len(lines)], &ev) {
				b.Fatal("handDecode failed")
			}
			i++
			sinkInt += ev.Time
		}
		reportPerEvent(b, lines)
	})
	b.Run("encoding_json", func(b *testing.B) {
		var ev event.Event
		ev.Fields = make([]event.Value, 4)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			var m struct {
				Type   string  `json:"type"`
				Ticker string  `json:"ticker"`
				Price  float64 `json:"price"`
				Volume int64   `json:"volume"`
				TS     int64   `json:"ts"`
			}
			if err := json.Unmarshal(lines[i%len(lines)], &m); err != nil {
				b.Fatal(err)
			}
			i++
			ev.Type, ev.Time = 0, m.TS*1e6
			ev.Fields[0], ev.Fields[1], ev.Fields[2], ev.Fields[3] = event.StringValue(m.Ticker), event.FloatValue(m.Price), event.IntValue(m.Volume), event.TimeValue(m.TS*1e6)
			sinkInt += ev.Time
		}
		reportPerEvent(b, lines)
	})
}

// handDecode is what one would write by hand for exactly this record: scan
// the keys, switch on them, parse each value with strconv. It checks less
// than the codec (no nested values, no escapes in keys).
func handDecode(b []byte, ev *event.Event) bool {
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
	}
	str := func() ([]byte, bool) {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return nil, false
		}
		s := b[i+1 : i+1+j]
		i += j + 2
		return s, true
	}
	num := func() []byte {
		j := i
		for j < len(b) && (b[j] == '-' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || (b[j] >= '0' && b[j] <= '9')) {
			j++
		}
		s := b[i:j]
		i = j
		return s
	}
	skip()
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i++
	for {
		skip()
		key, ok := str()
		if !ok {
			return false
		}
		skip()
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i++
		skip()
		switch string(key) {
		case "type":
			t, ok := str()
			if !ok || string(t) != "Market" {
				return false
			}
			ev.Type = 0
		case "ticker":
			s, ok := str()
			if !ok {
				return false
			}
			ev.Fields[0] = event.StringValue(string(s))
		case "price":
			n := num()
			f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(n), len(n)), 64)
			if err != nil {
				return false
			}
			ev.Fields[1] = event.FloatValue(f)
		case "volume":
			n := num()
			v, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(n), len(n)), 10, 64)
			if err != nil {
				return false
			}
			ev.Fields[2] = event.IntValue(v)
		case "ts":
			n := num()
			v, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(n), len(n)), 10, 64)
			if err != nil {
				return false
			}
			ev.Time = v * 1e6
			ev.Fields[3] = event.TimeValue(ev.Time)
		default:
			return false
		}
		skip()
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		return i < len(b) && b[i] == '}'
	}
}

func BenchmarkEncode(b *testing.B) {
	reg := marketRegistry()
	s := reg.ByID(0)
	lines := marketLines(1000)
	d, _ := NewJSONDecoder(nil, reg, Options{})
	evs := make([]event.Event, len(lines))
	for i, l := range lines {
		if err := d.DecodeLine(l, &evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("codec", func(b *testing.B) {
		var buf []byte
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			buf = AppendEvent(buf[:0], s, &evs[i%len(evs)])
			i++
		}
		sinkInt += int64(len(buf))
	})
	b.Run("encoding_json", func(b *testing.B) {
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			ev := &evs[i%len(evs)]
			i++
			out, _ := json.Marshal(struct {
				Type   string  `json:"type"`
				Time   int64   `json:"time"`
				Ticker string  `json:"ticker"`
				Price  float64 `json:"price"`
				Volume int64   `json:"volume"`
				TS     int64   `json:"ts"`
			}{"Market", ev.Time, ev.Fields[0].Str(), ev.Fields[1].Float(), ev.Fields[2].Int(), ev.Fields[3].Time()})
			sinkInt += int64(len(out))
		}
	})
}

// TestBench_handDecodeAgrees keeps the baseline honest: it decodes the
// benchmark's lines to the same events as the codec.
func TestBench_handDecodeAgrees(t *testing.T) {
	reg := marketRegistry()
	d, _ := NewJSONDecoder(nil, reg, Options{})
	for _, l := range marketLines(500) {
		var a, h event.Event
		h.Fields = make([]event.Value, 4)
		if err := d.DecodeLine(l, &a); err != nil || !handDecode(l, &h) {
			t.Fatalf("%s: %v", l, err)
		}
		for i := range a.Fields {
			if !a.Fields[i].Equal(h.Fields[i]) || a.Time != h.Time {
				t.Fatalf("%s: codec %s, hand %s", l, render(reg, &a), render(reg, &h))
			}
		}
	}
}
