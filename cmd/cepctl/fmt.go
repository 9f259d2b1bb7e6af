package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cepengine/cep/lang"
	"github.com/spf13/cobra"
)

// stdinName names standard input in messages and listings, as gofmt does.
const stdinName = "<standard input>"

type fmtFlags struct {
	list  bool // -l: list files whose formatting differs
	write bool // -w: rewrite them
	diff  bool // -d: print a unified diff
}

func newFmtCmd(s *streams) *cobra.Command {
	var f fmtFlags
	cmd := &cobra.Command{
		Use:   "fmt [-l] [-w] [-d] [FILES...]",
		Short: "Format rule files in the canonical layout",
		Long: `Fmt formats rule files in the canonical layout, in the manner of gofmt.
A directory stands for the *.cep files in it.

Without flags the formatted source is printed to standard output. The
flags combine: -l lists the files whose formatting differs from fmt's,
-w rewrites those files in place (atomically, keeping their mode), -d
prints unified diffs of the changes. Without FILES, fmt reads standard
input and writes standard output.

A file with syntax errors is not formatted: its errors are printed to
standard error as file:line:col: message, and the other files are still
processed.

Exit status: 0 on success (whether or not files differ), 1 if a file has
syntax errors, 2 on a usage error or a file that cannot be read.`,
		Example: `  cepctl fmt rules/security.cep        # print the formatted file
  cepctl fmt -l rules                  # list the files that need formatting
  cepctl fmt -w rules                  # format them in place
  cepctl fmt -d rules/iot.cep          # show what would change
  cepctl fmt < rule.cep > formatted.cep`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				if f.write {
					return badArgs("cannot use -w with standard input")
				}
				src, err := io.ReadAll(s.stdin)
				if err != nil {
					return usageError("reading standard input: %v", err)
				}
				return s.formatOne(stdinName, src, f, true)
			}
			paths, err := expandArgs(args, ".cep")
			if err != nil {
				return err
			}
			var worst *exitError
			for _, p := range paths {
				err := s.formatFile(p, f)
				var ee *exitError
				if errors.As(err, &ee) {
					if ee.err != nil {
						fmt.Fprintf(s.stderr, "%s: %v\n", cmd.CommandPath(), ee.err)
					}
					if worst == nil || ee.code > worst.code {
						worst = &exitError{code: ee.code}
					}
				} else if err != nil {
					return err
				}
			}
			if worst != nil {
				return worst
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.list, "list", "l", false, "list files whose formatting differs")
	fl.BoolVarP(&f.write, "write", "w", false, "write the result to the file instead of standard output")
	fl.BoolVarP(&f.diff, "diff", "d", false, "print unified diffs instead of the formatted source")
	return cmd
}

// formatFile formats one named file.
func (s *streams) formatFile(path string, f fmtFlags) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fileError(err)
	}
	return s.formatOne(path, src, f, false)
}

// formatOne formats src and does what the flags say with the result.
func (s *streams) formatOne(name string, src []byte, f fmtFlags, stdin bool) error {
	out, err := lang.FormatSource(name, src)
	if err != nil {
		var list lang.ErrorList
		if errors.As(err, &list) {
			fmt.Fprint(s.stderr, list.String())
		} else {
			fmt.Fprintln(s.stderr, err)
		}
		return failed()
	}
	if !f.list && !f.write && !f.diff {
		if _, err := s.stdout.Write(out); err != nil {
			return &exitError{code: exitFailure, err: err}
		}
		return nil
	}
	if bytes.Equal(src, out) {
		return nil
	}
	if f.list {
		fmt.Fprintln(s.stdout, name)
	}
	if f.write && !stdin {
		if err := writeFileAtomic(name, out); err != nil {
			return &exitError{code: exitFailure, err: err}
		}
	}
	if f.diff {
		if _, err := s.stdout.Write(unifiedDiff(name+".orig", name, src, out)); err != nil {
			return &exitError{code: exitFailure, err: err}
		}
	}
	return nil
}

// writeFileAtomic replaces the file at path by data: it writes a temporary
// file in the same directory and renames it over the original, so a reader
// (or a crash) sees the old content or the new, never a part. The file
// keeps its permission bits; a symbolic link keeps pointing at the file,
// which is replaced.
func writeFileAtomic(path string, data []byte) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(fi.Mode().Perm()); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
