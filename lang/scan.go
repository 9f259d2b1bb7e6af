package lang

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// scan is the lexer: a hand-written scanner that produces exactly the
// tokens of lexDef's regular expressions (a differential test and a fuzz
// target hold the two equal), about ten times faster. lexDef stays the
// definition of the token types and the reference.
func scan(filename string, src string) []lexer.Token {
	toks := make([]lexer.Token, 0, len(src)/3+1)
	pos := lexer.Position{Filename: filename, Line: 1, Column: 1}
	for i := 0; i < len(src); {
		typ, n := scanToken(src, i)
		t := lexer.Token{Type: typ, Value: src[i : i+n], Pos: pos}
		if typ == tokIdent {
			t, _ = keywordMapper(t)
		}
		toks = append(toks, t)
		pos.Advance(t.Value)
		i += n
	}
	return toks
}

// scanToken returns the type and byte length of the token at src[i:],
// trying the rules in lexDef's order.
func scanToken(src string, i int) (lexer.TokenType, int) {
	c := src[i]
	switch {
	case c == '/' && i+1 < len(src) && src[i+1] == '/':
		n := strings.IndexByte(src[i:], '\n')
		if n < 0 {
			n = len(src) - i
		}
		return tokComment, n
	case c == '/' && i+1 < len(src) && src[i+1] == '*':
		if end := strings.Index(src[i+2:], "*/"); end >= 0 {
			return tokComment, end + 4
		}
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		j := i + 1
		for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r' || src[j] == '\n') {
			j++
		}
		return tokWhitespace, j - i
	case isDigit(c):
		if n := scanDuration(src, i); n > 0 {
			return tokDuration, n
		}
		if n := scanFloat(src, i); n > 0 {
			return tokFloat, n
		}
		return tokInt, scanInt(src, i)
	case c == '"' || c == '\'':
		if n := scanQuoted(src, i, c); n > 0 {
			return tokString, n
		}
	case c == '`':
		if end := strings.IndexByte(src[i+1:], '`'); end >= 0 {
			return tokString, end + 2
		}
	}
	if r, n := utf8.DecodeRuneInString(src[i:]); r == '_' || r == '$' || unicode.IsLetter(r) {
		j := i + n
		for j < len(src) {
			r, m := utf8.DecodeRuneInString(src[j:])
			if !(r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsNumber(r)) {
				break
			}
			j += m
		}
		return tokIdent, j - i
	}
	if n := scanPunct(src, i); n > 0 {
		return tokPunct, n
	}
	_, n := utf8.DecodeRuneInString(src[i:])
	return tokBad, n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isWordASCII(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

var durationUnitsOrdered = []string{"ns", "us", "µs", "ms", "s", "m", "h", "d"}

// scanDuration matches (\d+(ns|us|µs|ms|s|m|h|d))+\b.
func scanDuration(src string, i int) int {
	end := 0 // end of the longest run of whole segments
	j := i
	for j < len(src) && isDigit(src[j]) {
		k := j
		for k < len(src) && isDigit(src[k]) {
			k++
		}
		unit := 0
		for _, u := range durationUnitsOrdered {
			if strings.HasPrefix(src[k:], u) {
				unit = len(u)
				break
			}
		}
		if unit == 0 {
			break
		}
		j = k + unit
		end = j
	}
	if end == 0 || (end < len(src) && isWordASCII(src[end])) {
		return 0
	}
	return end - i
}

// scanFloat matches \d[\d_]*\.\d[\d_]*([eE][-+]?\d+)?|\d[\d_]*[eE][-+]?\d+.
func scanFloat(src string, i int) int {
	j := i + 1
	for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
		j++
	}
	if j+1 < len(src) && src[j] == '.' && isDigit(src[j+1]) {
		j += 2
		for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
			j++
		}
		if n := scanExponent(src, j); n > 0 {
			j += n
		}
		return j - i
	}
	if n := scanExponent(src, j); n > 0 {
		return j + n - i
	}
	return 0
}

func scanExponent(src string, j int) int {
	if j >= len(src) || (src[j] != 'e' && src[j] != 'E') {
		return 0
	}
	k := j + 1
	if k < len(src) && (src[k] == '+' || src[k] == '-') {
		k++
	}
	d := k
	for k < len(src) && isDigit(src[k]) {
		k++
	}
	if k == d {
		return 0
	}
	return k - j
}

// scanInt matches 0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|\d[\d_]*.
func scanInt(src string, i int) int {
	if src[i] == '0' && i+2 < len(src) {
		var ok func(byte) bool
		switch src[i+1] {
		case 'x', 'X':
			ok = func(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '_' }
		case 'b', 'B':
			ok = func(c byte) bool { return c == '0' || c == '1' || c == '_' }
		case 'o', 'O':
			ok = func(c byte) bool { return c >= '0' && c <= '7' || c == '_' }
		}
		if ok != nil && ok(src[i+2]) {
			j := i + 3
			for j < len(src) && ok(src[j]) {
				j++
			}
			return j - i
		}
	}
	j := i + 1
	for j < len(src) && (isDigit(src[j]) || src[j] == '_') {
		j++
	}
	return j - i
}

// scanQuoted matches q(\\.|[^q\\\n])*q, where . is any rune but a newline.
func scanQuoted(src string, i int, q byte) int {
	j := i + 1
	for j < len(src) {
		switch c := src[j]; {
		case c == q:
			return j + 1 - i
		case c == '\n':
			return 0
		case c == '\\':
			if j+1 >= len(src) || src[j+1] == '\n' {
				return 0
			}
			_, n := utf8.DecodeRuneInString(src[j+1:])
			j += 1 + n
		default:
			_, n := utf8.DecodeRuneInString(src[j:])
			j += n
		}
	}
	return 0
}

var punctLong = []string{"->>", "->", "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "..", "**"}

const punctShort = "-+*/%^<>=!?:.,;|&#@~()[]{}"

func scanPunct(src string, i int) int {
	for _, p := range punctLong {
		if strings.HasPrefix(src[i:], p) {
			return len(p)
		}
	}
	if strings.IndexByte(punctShort, src[i]) >= 0 {
		return 1
	}
	return 0
}
