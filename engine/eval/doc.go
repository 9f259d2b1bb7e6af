// Package eval compiles expr-lang/expr expressions against event schemas and
// evaluates them over event slots.
//
// Stage: expression compiler and evaluator, used by the engine's operators
// (filters, pattern conditions, partition keys, having and emit).
// Imports: engine/event, github.com/expr-lang/expr (parser, checker,
// compiler, vm) and the standard library; never lang, window or participle.
// Concurrency: an Env is a build-time object, not safe for concurrent use:
// Compile caches expr's configuration in the Env it compiles against (and
// in the argument Env of Aggregates), and allocates aggregate slots there,
// so one Env must not be used by two Compiles at once, nor changed during
// one. Compiles against distinct Envs may run concurrently: the tables they
// share are read-only. A Program is immutable once compiled and may be
// shared by any number of goroutines. A Machine holds the mutable
// evaluation state (a reused expr VM, its environment map, error counters)
// and is NOT safe for concurrent use: one per matcher.
//
// # Compile cost
//
// The first Compile against an Env builds expr's configuration and type
// environment for it (every field, alias and list of its scope); later
// Compiles against the same Env reuse them, and Env methods that add names
// invalidate them. Compile all of a scope's expressions against one Env.
//
// # Pipeline
//
// expr parses and type-checks the source against a strict types.Map built
// from the Env, so an unknown name or field is a compile error; times are
// time.Time and durations time.Duration there, so `at - prev.at >
// duration("5m")` type-checks. The checked AST is then lowered to a tree of
// nodes over event.Value, dispatched by a switch on the op: field, alias,
// prev, list-element and variable reads, constants, comparisons,
// arithmetic, and/or/not, `in` over constant arrays and lists, contains,
// startsWith, endsWith, matches with a constant regexp, `??`, ternaries,
// len, nil tests, time/duration arithmetic (as integer nanoseconds), and
// all/any/none/one/count/sum over a list alias (sum(map(f, .x)) without
// building the list). That path allocates nothing, string concatenation
// aside. Any other subtree is compiled for expr's VM and becomes one leaf
// of the lowered tree (the fallback, which allocates); ForceVM compiles the
// whole expression for the VM. The disabled builtin now() would make
// results depend on the wall clock.
//
// EvalBool runs a bool program as a branch program (branch.go): and, or,
// not and bool ternaries become jumps, and the common tests (a field of the
// current event against a constant: numbers, strings, bools, nil checks,
// `in` over constant strings or ints) are fused instructions run by one
// loop; any other bool subtree is one test evaluated over the tree. It
// gives the same result, counts the same runtime errors and keeps the same
// first error as Eval.
//
// Values in frames must have the kinds their schemas and Vars declare (the
// decoder and the engine guarantee it); a value of another kind gives an
// unspecified result, never a crash.
//
// # Missing values
//
// A missing field is nil (event.Nil), and so is a field of an unbound alias
// or of a missing prev. Evaluation follows SQL's NULL:
//
//   - comparisons (==, !=, <, <=, >, >=, in, contains, startsWith, endsWith,
//     matches) with a nil operand are unknown, which is nil; EvalBool reads
//     it as false, so `x > 5`, `x != 5` and `not (x > 5)` all reject an
//     event without x, and a condition on prev is false where there is none;
//   - `x == nil` and `x != nil` (against the literal nil) test for it, and
//     `prev == nil`, `a == nil` test whether the event is there;
//   - arithmetic, unary minus, len and concatenation of nil are nil;
//   - and/or/not use three-valued logic (false and nil = false, true or
//     nil = true, not nil = nil);
//   - a ternary whose condition is nil takes the else branch (SQL CASE);
//   - `a ?? b` is b when a is nil;
//   - predicates of all/any/none/one/filter/count/find treat nil as false.
//
// The VM program is rewritten so that it follows the same rules (see
// patcher), and the differential tests hold both paths to identical
// results.
//
// Runtime errors (integer division by zero, index out of range, errors
// raised inside the VM, a time beyond the Unix nanoseconds an int64 holds,
// 1677-09-21 to 2262-04-11, computed by time arithmetic, date() or a time
// method: ErrTimeRange, never a time wrapped around) never panic: the whole
// evaluation yields nil, and the Machine counts it and keeps the last error
// with its position.
//
// # Aggregates
//
// With the Aggregates option, count() sum(x) avg(x) min(x) max(x) first(x)
// last(x) stddev(x) var(x) count_distinct(x) percentile(x, q) become reads
// of Frame.Vars slots allocated in the Env passed to Compile, after its
// highest declared Var: compile all of a window rule's expressions against
// one Env and they share their aggregates (Env.Aggregates lists them). The
// arguments compile against the argument Env. Elsewhere those calls are an
// error with the aggregate's position, except the expr builtins of the same
// names applied to a list (sum(map(f, .x)), max(a, b)).
//
// # Differential testing
//
// Package engine/eval/evaltest provides Differential and Compare, which
// compile an expression lowered and with ForceVM and require identical
// results and identical failures over a set of frames, and RandomFrames,
// which draws seeded frames with missing fields for a Shape. Other packages'
// tests may reuse them.
package eval
