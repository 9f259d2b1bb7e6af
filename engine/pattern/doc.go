// Package pattern is the engine's pattern matcher: a compiled automaton for
// sequence patterns (strict, relaxed and any-match edges, quantifiers with
// greedy, reluctant and branching loops, until, not between elements and
// trailing, within and within gap, the five skip strategies), with partial
// matches kept in a shared, reference-counted buffer in the manner of
// Flink's SharedBuffer, and the partial matches that within discards
// reported as timeouts (Config.Timeout, flat patterns only). Flat
// patterns run on a step automaton that
// allocates nothing per event; groups, alternation and & run on an exact
// general path.
//
// Stage: execution, one Matcher per partition key, or for the commonest
// shape (a -> b -> ... within, with nots) one Flat for all keys, each key
// a small FlatPart the caller keeps; the engine owns the partitions, the
// timer queue and the output.
// Imports: engine/event, engine/eval and the standard library; never lang.
// Concurrency: a Pattern is immutable and may be shared; a Matcher is not
// safe for concurrent use.
//
// Semantics are pinned from outside: internal/patternref holds a slow,
// obviously correct reference matcher that passes the translated Flink and
// Trino conformance cases, and differential tests and FuzzMatch hold this
// package equal to it.
package pattern
