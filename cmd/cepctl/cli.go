package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit statuses, as gofmt and go vet use them.
const (
	exitOK      = 0
	exitFailure = 1 // the input is at fault: rule errors, failed scripts, a broken run
	exitUsage   = 2 // the command line is at fault, or a named file cannot be read
)

// Main runs cepctl with os.Args and the process's standard streams, and
// returns the exit status.
func Main() int {
	return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// streams are a command's standard input and outputs.
type streams struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// exitError ends a command with a status. A nil err means the command has
// already reported what went wrong (rule errors, script failures).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// failed ends a command that has reported its failure itself.
func failed() error { return &exitError{code: exitFailure} }

// usageError ends a command for a bad command line or an unreadable file.
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// run executes one command line and returns its exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := &streams{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		// Cobra's own errors: an unknown command or flag, a wrong number of
		// arguments.
		fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
		return exitUsage
	}
	if ee.err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), ee.err)
		if ee.code == exitUsage && isArgError(ee.err) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return ee.code
}

// argError marks a usage error about the arguments themselves (as opposed
// to a file that cannot be read), which earns a pointer to --help.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func isArgError(err error) bool {
	var a *argError
	return errors.As(err, &a)
}

// badArgs is a usage error about the command line.
func badArgs(format string, args ...any) error {
	return &exitError{code: exitUsage, err: &argError{msg: fmt.Sprintf(format, args...)}}
}

// minArgs requires at least n arguments, naming what they are.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return badArgs("no %s given", what)
		}
		return nil
	}
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "cepctl",
		Short: "Check, format, run and test cep rule files",
		Long: `cepctl checks, formats and runs rule files of the cep complex event
processing engine, and runs rule scripts.

Exit status: 0 on success; 1 when the rules or scripts are at fault (rule
errors, failed scripts, a run that could not finish); 2 when the command
line is at fault (unknown command or flag, missing arguments) or a named
file cannot be read.`,
		Example: `  cepctl check rules/security.cep
  cepctl fmt -l rules
  cepctl run rules/security.cep --input events.jsonl --late late.jsonl
  cepctl test testdata/scripts`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Without a command: the help, on stderr, as a usage error.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(s.stderr)
			cmd.Help()
			return &exitError{code: exitUsage}
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(newCheckCmd(s), newFmtCmd(s), newRunCmd(s), newTestCmd(s))
	return root
}
