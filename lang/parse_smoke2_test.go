package lang

import (
	"fmt"
	"testing"
)

func TestSmoke2(t *testing.T) {
	for _, src := range []string{
		"rule w5 from A x where x.from == 1 && x.rule > 2 window tumbling 1d emit Z { n: count(), window: 2 }",
		"event A { x: int } time\nrule r from A where x > emit B {}\nrule q from A emit C { 1 }\nevent B { y: }",
		"rule r match a:A(x > 1 -> b:B emit X {}",
		"rule r from A where x == \"abc emit X {}",
		"rule r from A where x == 1 § emit X {}",
		"garbage here\nrule r from A emit X {}",
		"rule r from A window sliding 5x emit X {}",
		"rule r from A window sliding 99999999999999999d emit X {}",
	} {
		f, err := ParseString("t.cep", src)
		fmt.Printf("---\n%v\n", err)
		if el, ok := err.(ErrorList); ok {
			fmt.Print(el.String())
		}
		if f != nil {
			fmt.Println(len(f.Decls), f.Broken)
			for _, d := range f.Decls {
				if r, ok := d.(*Rule); ok && r.From() != nil && r.From().Where != nil {
					fmt.Printf("where %q\n", r.From().Where.Text)
				}
			}
		}
	}
}
