// Package window holds the engine's window structures and incremental
// aggregates: pure data structures with time passed in.
//
// Stage: runtime state, below engine (imports flow cmd/cepctl -> lang ->
// engine -> window).
//
// Imports: the standard library only (roaring, which the project may use,
// is not needed at present: see Distinct); never engine, lang or
// participle.
//
// Concurrency: nothing here is safe for concurrent use. A window, an Acc, a
// Ring, a MonoDeque, a Distinct and a Percentile each belong to one
// goroutine. An *Aggs is immutable once built and may be shared by any
// number of windows and goroutines.
//
// # Time
//
// Times are int64 Unix nanoseconds. Each window instance (one per key in
// the engine) receives its events in (time, sequence) order; the engine
// reorders before calling. There are no clocks, timers or goroutines: time
// moves only through Insert(ts, ...) and Advance(watermark).
//
//   - Advance(wm) states that no later event has a time below wm. It closes
//     every window whose end is <= wm, and emits the sliding expiry instants
//     before wm (an event leaving at wm itself may still share its instant
//     with an arrival at wm; see Sliding). math.MaxInt64 is the
//     end-of-input watermark.
//   - Insert(ts, ...) first does Advance(ts): events arrive in order, so
//     reaching an event at ts means time has reached ts. At one instant,
//     closing and expiry therefore come before arrivals; a sliding window
//     folds the expiries at ts into the emission of the arrival at ts.
//   - Event times must keep every window bound inside the int64 range and
//     below math.MaxInt64 (ErrEventTime otherwise). That excludes one window
//     length at each end of the years 1677-2262, and makes all window
//     arithmetic exact, with no saturation.
//   - NextDeadline reports the smallest watermark at which Advance would
//     emit, for the engine's timer queue.
//
// Results go to a Sink as Result values, valid only during the Emit call.
//
// Tumblings, Slidings and CountSlidings keep the tumbling, sliding and
// sliding count windows of many keys in columns, for aggregates that are
// all count, sum or avg: no object per key (Tumblings: a key's start,
// count and sums; Slidings: a 32-byte record and one buffer holding the
// sums, the last results and a ring of the events; CountSlidings: one
// fixed block in a slab, the ring allocated whole, for small windows).
// Each behaves as its window kind per key when times come in order across
// all keys.
//
// # Window semantics
//
//	kind          contents                              emitted             Start, End, Time
//	Tumbling      [k*size, (k+1)*size), epoch-aligned   on close            [Start, End), Time = End
//	Hopping       [k*step, k*step+size), epoch-aligned  on close            [Start, End), Time = End
//	Session       events less than gap apart            on close            [first, last+gap), Time = End
//	CountTumbling every n events                        on the n-th event   first and last event times, Time = End
//	Sliding       events with now-d < t <= now          every arrival, and  (Start, End] = (now-d, now], Time = now
//	                                                    every expiry instant
//	                                                    with no arrival
//	CountSliding  the last n events                     every arrival       oldest and newest event times, Time = End
//
// A time window that never received an event is never emitted. A session
// is split by a gap of gap or more: an event exactly gap after the previous
// one starts a new session (Flink would join it; here the session has
// already closed at that instant, because closing comes before arrivals).
// A sliding event at t leaves the window at t+d, so events exactly d apart
// are never together in a sliding window. Events at the same time expire
// together, one emission per expiry instant; an arrival at that instant
// carries the expiry in its own emission, so no result shows a state that
// lasted no time. A partial CountTumbling window (fewer than n events at
// end of input) is not emitted, as in Esper's length_batch and Flink's
// count windows.
//
// Sliding windows report Result.Changed: whether any aggregate differs from
// the previous emission of the same window (the first emission after a
// reset is a change). Equality is numeric (-0 == +0, NaN equals NaN); first
// and last compare with the Aggs' equal function, or by event identity
// when it is nil; min and max over Val with the equal function, or as
// equivalent under Less.
//
// # Aggregates
//
// An Aggs lists the aggregates of a rule (count sum avg min max first last
// stddev var count_distinct percentile), each reading one column of the Row
// an event supplies: Num for numeric aggregates, Key for count_distinct
// (any injective uint64 encoding: the int itself, an interned string id),
// Val for first and last (any type V, stored as given), and for min and max
// of values a float64 cannot hold exactly (AggSpec.Val: strings, times,
// large integers, ordered by ValFuncs.Less). All are incremental:
// per event O(1) amortized for count, sum, avg, var, stddev, first, last and
// sliding min/max (monotonic deque) and count_distinct (a hash table of
// the keys' occurrences, expected O(1)); a binary search
// and a memmove of at most PercentileExactMax values for exact percentile,
// O(1) add and O(buckets) query for the sketch beyond.
//
//   - sum and avg use Neumaier-compensated sums, whose error stays within a
//     few ulps of the largest value in the window however long it slides;
//     var and stddev use Welford's recurrence with its inverse for removal,
//     recomputed by two passes over the window after n removals or when a
//     removal cancels (amortized O(1)), and are sample statistics (divisor
//     n-1, no value below two events).
//   - NaN and infinities are counted apart from the running state, so that a
//     non-finite value leaving a sliding window restores an exact result:
//     any NaN makes sum, avg, var, stddev, min, max and percentile NaN; +Inf
//     and -Inf together make sum NaN.
//   - Missing values (SQL's NULL) are ignored by every aggregate but count()
//     and first/last, which take the events as they are: a Num column holds
//     Missing (a NaN with its own payload, apart from real NaNs), min and
//     max over Val skip the values ValFuncs.Missing reports, and
//     count_distinct skips the events whose Skip column holds Missing (a
//     Key column has no value to spare). Sum, avg, var and stddev divide by
//     the values present; over no values present they have none.
//   - count and count_distinct of an empty window are 0; every other
//     aggregate of an empty window has no value (ok == false).
//   - percentile(x, q), q in [0, 1], is the nearest-rank percentile: the
//     k-th smallest value with k = ceil(q*n) clamped to [1, n]. It is exact
//     up to PercentileExactMax values; beyond that a relative-error sketch
//     (DDSketch-style log buckets) answers within PercentileAccuracy (1%)
//     of the exact value, and a sliding window returns to exact once it
//     holds PercentileExactMax/2 values or fewer. See Percentile.
//
// Allocation: in steady state (buffers grown to the working size) inserting
// an event, expiring one and closing a window allocate nothing, for every
// aggregate: count_distinct's hash table keeps its buffer across windows.
package window
