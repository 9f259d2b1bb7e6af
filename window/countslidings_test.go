package window

import (
	"errors"
	"testing"
)

// TestCountSlidings_refused: aggregates beyond count, sum and avg are
// refused; an event earlier than the latest time given (any key's) is
// ErrEventTime; a narrow row is ErrRowShape.
func TestCountSlidings_refused(t *testing.T) {
	aggs, _ := testAggs([]AggSpec{{Op: OpMax, Arg: 0}}, nil)
	if _, err := NewCountSlidings(aggs, 10); !errors.Is(err, ErrParam) {
		t.Errorf("max: %v, want ErrParam", err)
	}
	aggs, _ = testAggs([]AggSpec{{Op: OpSum, Arg: 0}}, nil)
	if _, err := NewCountSlidings(aggs, 0); !errors.Is(err, ErrParam) {
		t.Errorf("size 0: %v, want ErrParam", err)
	}
	w, _ := NewCountSlidings(aggs, 10)
	w.Grow(2)
	if w.Keys() != 2 || w.BlockBytes() != 8*(1+4+10*2) {
		t.Errorf("keys %d, block %d bytes, want 2 and %d", w.Keys(), w.BlockBytes(), 8*(1+4+10*2))
	}
	row := Row[int]{Num: []float64{1, 2, 3}}
	if err := w.Insert(0, 50, row, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Insert(1, 49, row, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("key 1 behind key 0: %v, want ErrEventTime", err)
	}
	if err := w.Insert(1, 50, Row[int]{}, nil); !errors.Is(err, ErrRowShape) {
		t.Errorf("narrow row: %v, want ErrRowShape", err)
	}
}
