package engine

import (
	"math"

	"github.com/cepengine/cep/engine/eval"
	"github.com/cepengine/cep/engine/event"
	"github.com/cepengine/cep/engine/pattern"
)

// countEmit is a counting pattern operator's emission state in a matcher
// (PatternMatch.CountOnly): the frame of having and emit, whose Vars are
// the partition key followed by count().
type countEmit struct {
	vars  []event.Value
	frame eval.Frame
	mc    pattern.Match
}

func newCountEmit(p *patternPlan) *countEmit {
	return &countEmit{vars: make([]event.Value, max(p.nKeys, p.countVar+1))}
}

// emitCount receives the count of the matches completed at one event of
// the key being run (pattern's emit callback in count-only mode): it puts
// the count beside the key, applies having and emits the derived event as
// emitMatch does.
func (op *patternOp) emitCount(mc *pattern.Match) {
	ce := op.cnt
	copy(ce.vars, mc.Frame.Vars)
	ce.vars[op.p.countVar] = event.IntValue(countInt(mc.Count))
	ce.frame = eval.Frame{Vars: ce.vars}
	if h := op.p.chaving; h != nil && !op.m.vm.EvalBool(h, &ce.frame) {
		return
	}
	ce.mc = pattern.Match{Time: mc.Time, Frame: &ce.frame, Count: mc.Count}
	op.emitMatch(&ce.mc)
}

// countInt is count()'s value: the matcher's count, which saturates at
// 2^64-1, as an int, which saturates at 2^63-1.
func countInt(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}
