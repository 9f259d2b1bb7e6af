package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// expandArgs replaces each directory argument by the files in it whose
// names end in ext, in name order (not recursively: a directory is one
// program, as a Go package is). Other arguments are kept as given. A path
// that does not exist, or a directory without such files, is a usage error.
func expandArgs(args []string, ext string) ([]string, error) {
	var out []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fileError(err)
		}
		if !fi.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fileError(err)
		}
		n := len(out)
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ext) && !strings.HasPrefix(e.Name(), ".") {
				out = append(out, filepath.Join(a, e.Name()))
			}
		}
		if len(out) == n {
			return nil, usageError("%s: no *%s files", a, ext)
		}
	}
	return out, nil
}

// fileError makes a usage error of a failure to read a named file, worded
// "path: reason" whatever the failing operation was.
func fileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return usageError("%s: %v", pe.Path, pe.Err)
	}
	return usageError("%v", err)
}
