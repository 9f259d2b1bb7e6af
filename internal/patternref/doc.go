// Package patternref pins the semantics of pattern rules from outside the
// engine: a slow reference matcher, and the translation of the outside
// conformance cases (Flink CEP and Trino MATCH_RECOGNIZE tests) into rule
// scripts under testdata/conformance.
//
// The reference matcher (Run, RunRule) works from a checked lang.Program
// and evaluates conditions with engine/eval, exactly as the engine's
// matcher must, but by brute force: for every event of a partition it
// searches every way the pattern can match from there (a backtracking
// search over the pattern's syntax tree), keeps the ones that satisfy the
// documented rules (contiguity per edge, loop contiguity, until, negation,
// within), applies the greedy and reluctant modes as filters over those
// matches, and then the skip strategy in the documented match order. It is
// exponential in the worst case and meant for the small inputs of tests;
// its value is that each rule of docs/language.md is one visible piece of
// code. The package README (testdata/conformance/README.md) lists the
// semantic decisions it makes where the manual is silent.
//
// The translation (TranslateFlink, TranslateTrino) turns a case of
// ../shared/conformance/cases.jsonl into a script; `go test -update` in
// this package regenerates testdata/conformance from the cases, and the
// tests check every generated script with lang and run the reference on it
// against the outside expectation.
//
// Imports: lang, lang/scripttest, engine/eval, engine/event, expr. It is a
// test oracle, never used by the engine. Concurrency: Run is safe for
// concurrent use on distinct inputs (each call owns its eval.Machine).
package patternref
