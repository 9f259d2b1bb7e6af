package window

import (
	"errors"
	"math"
	"testing"
)

// TestSlidings_refused: aggregates beyond count, sum and avg are refused;
// an event earlier than the latest time given (any key's) is ErrEventTime;
// a narrow row is ErrRowShape.
func TestSlidings_refused(t *testing.T) {
	aggs, _ := testAggs([]AggSpec{{Op: OpMin, Arg: 0}}, nil)
	if _, err := NewSlidings(aggs, 10); !errors.Is(err, ErrParam) {
		t.Errorf("min: %v, want ErrParam", err)
	}
	aggs, _ = testAggs([]AggSpec{{Op: OpSum, Arg: 0}}, nil)
	if _, err := NewSlidings(aggs, 0); !errors.Is(err, ErrParam) {
		t.Errorf("length 0: %v, want ErrParam", err)
	}
	w, _ := NewSlidings(aggs, 10)
	w.Grow(2)
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
	if err := w.Insert(1, math.MaxInt64-5, row, nil); !errors.Is(err, ErrEventTime) {
		t.Errorf("a window past the end of time: %v, want ErrEventTime", err)
	}
}
