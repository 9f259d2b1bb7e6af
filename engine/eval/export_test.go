package eval

import "strings"

var testOpNames = [numTestOps]string{
	tTruth: "truth", tBool: "bool", tIsNil: "isNil",
	tFloatEq: "floatEq", tFloatNe: "floatNe", tFloatLt: "floatLt", tFloatLe: "floatLe", tFloatGt: "floatGt", tFloatGe: "floatGe",
	tIntEq: "intEq", tIntNe: "intNe", tIntLt: "intLt", tIntLe: "intLe", tIntGt: "intGt", tIntGe: "intGe",
	tStrEq0: "strEq0", tStrEq4: "strEq4", tStrEq8: "strEq8", tStrEq: "strEq",
	tStrLt: "strLt", tStrLe: "strLe", tStrGt: "strGt", tStrGe: "strGe",
	tStrInPacked: "strInPacked", tStrIn: "strIn", tStrInMap: "strInMap", tIntIn: "intIn", tIntInMap: "intInMap",
}

// BranchShape describes p's branch program for tests: its tests in order,
// each its op, prefixed with ! when it asks whether the node is false; ""
// when p has none.
func BranchShape(p *Program) string {
	var parts []string
	for _, t := range p.tests {
		s := testOpNames[t.op]
		if t.neg {
			s = "!" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
