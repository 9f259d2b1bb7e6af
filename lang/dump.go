package lang

import (
	"reflect"
	"strconv"
	"strings"
)

// Dump renders f's syntax tree without positions, comments or layout, one
// node per line: two files that differ only in those dump the same.
// Expressions appear as their text with white space runs outside string
// literals made one space. Tests use it to check that formatting keeps a
// file's meaning; it walks the tree by reflection, so a field added to the
// AST is compared without changing Dump.
func Dump(f *File) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(f), 0)
	b.WriteByte('\n')
	return b.String()
}

var (
	positionType = reflect.TypeFor[Position]()
	exprType     = reflect.TypeFor[Expr]()
	fileType     = reflect.TypeFor[File]()
)

func dumpValue(b *strings.Builder, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dumpValue(b, v.Elem(), depth)
	case reflect.Struct:
		if v.Type() == exprType {
			b.WriteString("Expr ")
			b.WriteString(strconv.Quote(normalizeExpr(v.FieldByName("Text").String())))
			return
		}
		b.WriteString(v.Type().Name())
		b.WriteString(" {")
		for i := range v.NumField() {
			sf := v.Type().Field(i)
			if sf.Type == positionType || !sf.IsExported() {
				continue
			}
			if v.Type() == fileType && (sf.Name == "Name" || sf.Name == "Src" || sf.Name == "Comments") {
				continue
			}
			newline(b, depth+1)
			b.WriteString(sf.Name)
			b.WriteString(": ")
			dumpValue(b, v.Field(i), depth+1)
		}
		newline(b, depth)
		b.WriteByte('}')
	case reflect.Slice:
		b.WriteByte('[')
		for i := range v.Len() {
			newline(b, depth+1)
			dumpValue(b, v.Index(i), depth+1)
		}
		if v.Len() > 0 {
			newline(b, depth)
		}
		b.WriteByte(']')
	case reflect.String:
		b.WriteString(strconv.Quote(v.String()))
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	default:
		b.WriteString(v.Kind().String())
	}
}

func newline(b *strings.Builder, depth int) {
	b.WriteByte('\n')
	b.WriteString(strings.Repeat("  ", depth))
}
