package main

import (
	"errors"
	"fmt"

	"github.com/cepengine/cep/lang"
	"github.com/spf13/cobra"
)

func newCheckCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "check FILES...",
		Short: "Parse and check rule files as one program",
		Long: `Check parses and checks the rule files together, as one program:
declarations of every file are visible in every other. A directory stands
for the *.cep files in it.

Every error is printed to standard error, one per line, sorted, as
file:line:col: message. A clean program prints nothing.

Exit status: 0 clean, 1 with errors, 2 on a usage error or a file that
cannot be read.`,
		Example: `  cepctl check rules/security.cep
  cepctl check types.cep fraud.cep    # one program of two files
  cepctl check shop/                  # shop/*.cep, as one program`,
		Args: minArgs(1, "rule files"),
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := expandArgs(args, ".cep")
			if err != nil {
				return err
			}
			_, err = lang.Load(paths...)
			return s.loadFailure(err)
		},
	}
}

// loadFailure reports an error of lang.Load (nil: none). Rule errors are
// listed one per line on standard error (status 1); a file that cannot be
// read is a usage error (status 2).
func (s *streams) loadFailure(err error) error {
	if err == nil {
		return nil
	}
	var list lang.ErrorList
	if errors.As(err, &list) {
		fmt.Fprint(s.stderr, list.String())
		return failed()
	}
	return fileError(err)
}
