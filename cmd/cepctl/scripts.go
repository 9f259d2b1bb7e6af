package main

import (
	"fmt"

	"github.com/cepengine/cep/lang/scripttest"
	"github.com/spf13/cobra"
)

func newTestCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "test FILES|DIRS...",
		Short: "Run rule scripts",
		Long: `Test runs rule scripts: files holding rules, input events and the
derived, late and invalid events expected from them (the format is
described in the documentation of package lang/scripttest). A directory
stands for the *.test files in it.

Each script is run as written and metamorphically (events one at a time,
in one batch, in random batches, and with the rules formatted again); all
runs must agree. For each script a line "ok   NAME" or "FAIL NAME"
followed by the differences is printed, then a line "N passed, N failed".

Exit status: 0 if every script passed, 1 if one failed, 2 on a usage
error or a path that does not exist.`,
		Example: `  cepctl test testdata/scripts
  cepctl test brute_force.test abandoned.test`,
		Args: minArgs(1, "script files or directories"),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := expandArgs(args, ".test")
			if err != nil {
				return err
			}
			passed, failedN := 0, 0
			for _, p := range paths {
				r := scripttest.RunFile(p)
				fmt.Fprintln(s.stdout, r.String())
				if r.Failed() {
					failedN++
				} else {
					passed++
				}
			}
			fmt.Fprintf(s.stdout, "%d passed, %d failed\n", passed, failedN)
			if failedN > 0 {
				return failed()
			}
			return nil
		},
	}
}
