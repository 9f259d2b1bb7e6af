package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cepctl/*.txtar with the actual output")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cepctl": func() { os.Exit(Main()) },
	})
}

// TestCLI_scripts runs the txtar scripts of testdata/cepctl: each runs
// cepctl commands and compares their output with the files of the archive.
// With -update, cmp rewrites those files instead of failing.
func TestCLI_scripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/cepctl",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds:                map[string]func(ts *testscript.TestScript, neg bool, args []string){"exitcode": cmdExitcode},
	})
}

// cmdExitcode is "exitcode N PROG ARGS...": it runs PROG as exec does
// (stdout and stderr are kept for cmp and stdout/stderr) and fails unless
// the exit status is exactly N. testscript's "! exec" only tells zero from
// non-zero, and cepctl's 1 and 2 mean different things.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad status %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}
