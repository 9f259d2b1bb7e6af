package lang

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanInputs are the corner cases of every lexDef rule.
var scanInputs = []string{
	"", " ", "\t\r\n", "// c", "// c\nx", "/* a */", "/**/", "/*/", "/* a", "/* a **/ b", "/***/",
	"5m", "5ms", "5msx", "5m5", "1h30m", "1h30", "5mµ", "5µs", "10_000ms", "1d", "0x1d", "7ns+", "3m)",
	"1.5", "1.", "1.e5", "1e5", "1e", "1e+", "1E-3", "1_0.2_5e7", ".5", "0x", "0xg", "0x_f", "0b102", "0o78", "0O7", "12_",
	`"a"`, `"a\"b"`, `"a\`, "\"a\nb\"", `'x'`, `'\''`, "`raw\nline`", "`open",
	"abc", "_x$1", "$env", "ünï", "x٣", "event", "events", "matché", "from.rule",
	"->>", "->", "-->", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..", "**", "a?.b", "x ?? y", "{,3}", "#", "@", "~",
	"\\", "§", "\x00", "\x7f", "日本",
}

func TestScan_matchesRegexp(t *testing.T) {
	inputs := append([]string(nil), scanInputs...)
	for _, dir := range []string{"../rules", "../testdata"} {
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".cep") || strings.HasSuffix(path, ".test")) {
				if src, err := os.ReadFile(path); err == nil {
					inputs = append(inputs, string(src))
				}
			}
			return nil
		})
	}
	for _, src := range inputs {
		checkScan(t, src)
	}
}

func checkScan(t *testing.T, src string) {
	t.Helper()
	if !utf8.ValidString(src) {
		return
	}
	want, err := tokenizeRegexp("f", []byte(src))
	if err != nil {
		t.Fatalf("regexp lexer failed on %q: %v", src, err)
	}
	got := scan("f", src)
	if len(want) == 0 && len(got) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Fatalf("scan(%q): token %d = %+v, want %+v", src, i, got[i], want[i])
			}
		}
		t.Fatalf("scan(%q): %d tokens, want %d", src, len(got), len(want))
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range scanInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			t.Skip()
		}
		checkScan(t, src)
	})
}

// BenchmarkScan compares the scanner with lexDef's regular expressions on
// the example rule libraries, in the same run.
func BenchmarkScan(b *testing.B) {
	var src []byte
	for _, f := range []string{"../rules/security.cep", "../rules/iot.cep", "../rules/trading.cep"} {
		s, err := os.ReadFile(f)
		if err != nil {
			b.Skip(err)
		}
		src = append(src, s...)
	}
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			scan("f", string(src))
		}
	})
	b.Run("regexp", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			_, _ = tokenizeRegexp("f", src)
		}
	})
}
