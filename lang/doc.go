// Package lang is the rule language front end: it parses rule files into an
// AST (participle), checks them against the declared event schemas (every
// expression type-checked by expr through engine/eval), formats them in one
// canonical layout, and compiles checked files into the engine's builder API.
//
// Stages, one file each: ast.go (the syntax tree), parse.go (the participle
// grammar), check.go (names, types, rule structure), format.go (the
// canonical layout), errors.go (positioned errors), compile.go (to engine).
//
// Imports: participle, expr (through engine/eval), engine and its
// subpackages; never cmd/. The engine never imports lang.
//
// Concurrency: Parse, Check and Format are pure functions of their input and
// safe for concurrent use; the parser is built once as a package variable.
package lang
