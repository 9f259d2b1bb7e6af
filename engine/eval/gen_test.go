package eval_test

import (
	"math/rand/v2"
	"strconv"
)

// exprGen generates random well-typed expressions over the fixture env,
// mixing the lowered subset with VM-only builtins, so that the
// differential tests reach combinations no table lists.
type exprGen struct {
	r *rand.Rand
}

func newExprGen(seed uint64) *exprGen {
	return &exprGen{r: rand.New(rand.NewPCG(seed, 42))}
}

func (g *exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *exprGen) gen(kind string, depth int) string {
	if depth <= 0 || g.r.IntN(4) == 0 {
		return g.leaf(kind)
	}
	d := depth - 1
	switch kind {
	case "bool":
		switch g.r.IntN(16) {
		case 0:
			return "(" + g.gen("bool", d) + " " + g.pick("and", "or", "&&", "||") + " " + g.gen("bool", d) + ")"
		case 1:
			return g.pick("not ", "!") + "(" + g.gen("bool", d) + ")"
		case 2:
			return "(" + g.gen("num", d) + " " + g.pick("<", "<=", ">", ">=", "==", "!=") + " " + g.gen("num", d) + ")"
		case 3:
			return "(" + g.gen("str", d) + " " + g.pick("<", "==", "!=", ">=", "contains", "startsWith", "endsWith") + " " + g.gen("str", d) + ")"
		case 4:
			return "(" + g.gen(g.pick("num", "str", "bool", "time", "dur"), d) + " " + g.pick("==", "!=") + " nil)"
		case 5:
			return "(" + g.gen("str", d) + " in [" + g.leaf("str") + ", " + g.leaf("str") + "])"
		case 6:
			return "(" + g.gen("int", d) + " in [1, 2, " + g.leaf("int") + "])"
		case 7:
			return "(" + g.gen("time", d) + " " + g.pick("<", ">", "==", "!=", "<=") + " " + g.gen("time", d) + ")"
		case 8:
			return "(" + g.gen("dur", d) + " " + g.pick("<", ">", "==", ">=") + " " + g.gen("dur", d) + ")"
		case 9:
			return "(" + g.gen("bool", d) + " ? " + g.gen("bool", d) + " : " + g.gen("bool", d) + ")"
		case 10:
			return "(" + g.gen("bool", d) + " ?? " + g.gen("bool", d) + ")"
		case 11:
			return "(" + g.gen("str", d) + ` matches "` + g.pick("^A", "b$", "a|b", "^$") + `")`
		case 12:
			return g.pick("all", "any", "none", "one") + "(f, " + g.pick(".ok", ".qty > 1", ".sym == sym", ".price > price", "# != nil") + ")"
		case 13:
			return "(" + g.gen("str", d) + " in " + g.pick("tags", "prev.tags", "watch", "f[0].tags") + ")"
		case 14:
			return "(" + g.gen("bool", d) + " == " + g.gen("bool", d) + ")"
		default:
			return "(" + g.gen("num", d) + " in [" + g.gen("num", d) + ", " + g.leaf("num") + "])"
		}
	case "int":
		switch g.r.IntN(10) {
		case 0:
			return "(" + g.gen("int", d) + " " + g.pick("+", "-", "*") + " " + g.gen("int", d) + ")"
		case 1:
			return "(" + g.gen("int", d) + " % " + g.gen("int", d) + ")"
		case 2:
			return "-" + g.gen("int", d)
		case 3:
			return "len(" + g.pick("sym", "tags", "f", "prev.tags", "a.sym", g.gen("str", d)) + ")"
		case 4:
			return "(" + g.gen("bool", d) + " ? " + g.gen("int", d) + " : " + g.gen("int", d) + ")"
		case 5:
			return "(" + g.gen("int", d) + " ?? " + g.gen("int", d) + ")"
		case 6:
			return g.pick("abs(", "int(") + g.gen("int", d) + ")"
		case 9:
			return g.pick("count(f, .qty > 0)", "count(f, .sym == sym)", "len(filter(f, .ok))")
		case 7:
			return "f[" + g.gen("int", d) + "].qty"
		default:
			return g.pick("max(", "min(") + g.gen("int", d) + ", " + g.gen("int", d) + ")"
		}
	case "num":
		if g.r.IntN(2) == 0 {
			return g.gen("int", depth)
		}
		return g.gen("float", depth)
	case "float":
		switch g.r.IntN(6) {
		case 0:
			return "(" + g.gen("num", d) + " " + g.pick("+", "-", "*", "/", "**") + " " + g.gen("float", d) + ")"
		case 1:
			return "(" + g.gen("num", d) + " / " + g.gen("num", d) + ")"
		case 2:
			return "-" + g.gen("float", d)
		case 3:
			return "(" + g.gen("float", d) + " ?? " + g.gen("float", d) + ")"
		case 4:
			return g.pick("sum(map(f, .price))", "float(qty)", "abs(price)", "mean(map(f, .price))", "(at - prev.at).Seconds()")
		default:
			return "(" + g.gen("bool", d) + " ? " + g.gen("float", d) + " : " + g.gen("float", d) + ")"
		}
	case "str":
		switch g.r.IntN(5) {
		case 0:
			return "(" + g.gen("str", d) + " + " + g.gen("str", d) + ")"
		case 1:
			return g.pick("upper(", "lower(", "trim(") + g.gen("str", d) + ")"
		case 2:
			return "(" + g.gen("str", d) + " ?? " + g.gen("str", d) + ")"
		case 3:
			return "(" + g.gen("bool", d) + " ? " + g.gen("str", d) + " : " + g.gen("str", d) + ")"
		default:
			return "f[" + g.gen("int", d) + "].sym"
		}
	case "time":
		switch g.r.IntN(3) {
		case 0:
			return "(" + g.gen("time", d) + " " + g.pick("+", "-") + " " + g.gen("dur", d) + ")"
		case 1:
			return "(" + g.gen("dur", d) + " + " + g.gen("time", d) + ")"
		default:
			return "(" + g.gen("bool", d) + " ? " + g.gen("time", d) + " : " + g.gen("time", d) + ")"
		}
	case "dur":
		switch g.r.IntN(5) {
		case 0:
			return "(" + g.gen("time", d) + " - " + g.gen("time", d) + ")"
		case 1:
			return "(" + g.gen("dur", d) + " " + g.pick("+", "-") + " " + g.gen("dur", d) + ")"
		case 2:
			return "(" + g.gen("dur", d) + " * " + g.gen("int", d) + ")"
		case 3:
			return "(" + g.gen("int", d) + " * " + g.gen("dur", d) + ")"
		default:
			return "(" + g.gen("dur", d) + " ?? " + g.gen("dur", d) + ")"
		}
	}
	return g.leaf(kind)
}

func (g *exprGen) leaf(kind string) string {
	switch kind {
	case "bool":
		return g.pick("ok", "prev.ok", "a.ok", "f[0].ok", "f[-1].ok", "true", "false")
	case "int":
		return g.pick("qty", "prev.qty", "a.qty", "f[0].qty", "f[-1].qty", "limit", "n", "len(f)", strconv.Itoa(g.r.IntN(10)-3))
	case "num":
		return g.leaf(g.pick("int", "float"))
	case "float":
		return g.pick("price", "prev.price", "a.price", "f[1].price", "big", "0.5", "2.0", "-1.5", "0.0")
	case "str":
		return g.pick("sym", "side", "prev.sym", "a.side", "key", `"AAPL"`, `"a"`, `""`, `"é"`)
	case "time":
		return g.pick("at", "prev.at", "a.at", "f[0].at", `date("2024-03-01 12:00:00")`)
	case "dur":
		return g.pick("wait", "prev.wait", `duration("5m")`, `duration("-1s")`, "a.wait", `duration("2500000h")`)
	}
	return "nil"
}
