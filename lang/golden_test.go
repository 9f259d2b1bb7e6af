package lang

import "flag"

// update makes golden tests rewrite their golden files instead of
// comparing: go test ./lang -update. Every golden test of the package uses
// this one flag.
var update = flag.Bool("update", false, "rewrite golden files")
