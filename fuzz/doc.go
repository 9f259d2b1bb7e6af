// Package fuzz holds the fuzz targets that cross the lang stages: FuzzParse
// (any bytes: no panic, every error positioned inside the source),
// FuzzFormat (formatting is idempotent and keeps the syntax tree).
//
// Seeds come from every .cep file under the repository's rules/ and
// testdata/ directories, read when a target starts, plus hand-written ones
// in the test file; crashers found by `go test -fuzz` are kept under
// testdata/fuzz/<Target>/ and rerun by plain `go test`.
//
// Imports: lang and the standard library. The package has no non-test code.
package fuzz
