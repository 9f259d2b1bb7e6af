package eval

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/cepengine/cep/engine/event"
)

// toGo converts a value to the Go value expr's VM works with: times become
// time.Time in UTC, durations time.Duration, lists []any. Only the VM
// fallback uses it; it allocates.
func toGo(v event.Value) any {
	switch v.Kind() {
	case event.KindBool:
		return v.Bool()
	case event.KindInt:
		return int(v.Int())
	case event.KindFloat:
		return v.Float()
	case event.KindString:
		return v.Str()
	case event.KindTime:
		return time.Unix(0, v.Time()).UTC()
	case event.KindDuration:
		return v.Duration()
	case event.KindList:
		items := v.List()
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = toGo(it)
		}
		return out
	}
	return nil
}

// fromGo converts a VM result back to a value. Values of types the engine
// has no kind for (maps, structs, functions) are an error.
func fromGo(x any) (event.Value, error) {
	switch x := x.(type) {
	case nil:
		return event.Nil, nil
	case bool:
		return event.BoolValue(x), nil
	case int:
		return event.IntValue(int64(x)), nil
	case int64:
		return event.IntValue(x), nil
	case float64:
		return event.FloatValue(x), nil
	case string:
		return event.StringValue(x), nil
	case time.Time:
		if !timeInRange(x) {
			return event.Nil, fmt.Errorf("%w: %s", ErrTimeRange, x.Format(time.RFC3339))
		}
		return event.TimeValue(x.UnixNano()), nil
	case time.Duration:
		return event.DurationValue(x), nil
	case []any:
		out := make([]event.Value, len(x))
		for i, it := range x {
			v, err := fromGo(it)
			if err != nil {
				return event.Nil, err
			}
			out[i] = v
		}
		return event.ListValue(out), nil
	}
	rv := reflect.ValueOf(x)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return event.IntValue(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return event.IntValue(int64(rv.Uint())), nil
	case reflect.Float32:
		return event.FloatValue(rv.Float()), nil
	case reflect.Slice, reflect.Array:
		out := make([]event.Value, rv.Len())
		for i := range out {
			v, err := fromGo(rv.Index(i).Interface())
			if err != nil {
				return event.Nil, err
			}
			out[i] = v
		}
		return event.ListValue(out), nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return event.Nil, nil
		}
	}
	return event.Nil, fmt.Errorf("%w: result of type %T is not a value", ErrVM, x)
}

// typeOf maps a checked expr type to a value type. ok is false for types
// that have no value kind (maps, structs, functions).
func typeOf(t reflect.Type) (event.Type, bool) {
	if t == nil {
		return event.Any, true
	}
	switch t {
	case timeType:
		return event.Time, true
	case durationType:
		return event.Duration, true
	}
	switch t.Kind() {
	case reflect.Bool:
		return event.Bool, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return event.Int, true
	case reflect.Float32, reflect.Float64:
		return event.Float, true
	case reflect.String:
		return event.String, true
	case reflect.Interface:
		return event.Any, true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return event.Type{}, false // []byte
		}
		et, ok := typeOf(t.Elem())
		if !ok {
			return event.Type{}, false
		}
		return event.ListOf(et), true
	}
	return event.Type{}, false
}

// A time is a value only within the range of Unix nanoseconds in an int64;
// expr's VM computes times beyond it, which must not wrap around.
var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

func timeInRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }

// addTime is t + d in Unix nanoseconds, as time.Time.Add computes it, and
// whether the result is in range.
func addTime(t, d int64) (int64, bool) {
	s := t + d
	return s, (d >= 0) == (s >= t)
}
