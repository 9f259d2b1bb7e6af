package main

import (
	"bytes"
	"fmt"
)

// This file is fmt -d's unified diff: a longest-common-subsequence diff
// over lines, written here rather than taken from a library because rule
// files are small and these ~100 lines are all it takes (Go's own
// internal/diff cannot be imported).

// diffContext is the number of unchanged lines around each change.
const diffContext = 3

// maxDiffCells bounds the LCS table (4 bytes a cell). Past it, after the
// common head and tail are trimmed, the rest is shown as removed and added
// whole: still a correct diff, only not a minimal one.
const maxDiffCells = 16 << 20

// diffOp is one line of an edit script: ' ' kept, '-' removed, '+' added.
type diffOp struct {
	kind byte
	line []byte // with its line break, if it has one
}

// unifiedDiff returns the unified diff turning a into b, with file headers
// in gofmt -d's style; nil if they are equal.
func unifiedDiff(oldName, newName string, a, b []byte) []byte {
	if bytes.Equal(a, b) {
		return nil
	}
	ops := editScript(splitLines(a), splitLines(b))
	var out bytes.Buffer
	fmt.Fprintf(&out, "diff %s %s\n--- %s\n+++ %s\n", oldName, newName, oldName, newName)
	// aAt[k], bAt[k]: lines of a and b before op k.
	aAt := make([]int, len(ops)+1)
	bAt := make([]int, len(ops)+1)
	for k, op := range ops {
		aAt[k+1], bAt[k+1] = aAt[k], bAt[k]
		if op.kind != '+' {
			aAt[k+1]++
		}
		if op.kind != '-' {
			bAt[k+1]++
		}
	}
	for i := 0; i < len(ops); {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start, end := max(0, i-diffContext), i
		for {
			for end < len(ops) && ops[end].kind != ' ' {
				end++
			}
			next := end // the next change, if any
			for next < len(ops) && ops[next].kind == ' ' {
				next++
			}
			if next < len(ops) && next-end <= 2*diffContext {
				end = next // close enough: one hunk
				continue
			}
			end = min(end+diffContext, next)
			break
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aAt[start], aAt[end]), hunkRange(bAt[start], bAt[end]))
		for _, op := range ops[start:end] {
			out.WriteByte(op.kind)
			out.Write(op.line)
			if !bytes.HasSuffix(op.line, []byte("\n")) {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = end
	}
	return out.Bytes()
}

// hunkRange formats the lines [from, to) of a file as "start,count", with
// 1-based start; an empty range names the line before it.
func hunkRange(from, to int) string {
	if from == to {
		return fmt.Sprintf("%d,0", from)
	}
	return fmt.Sprintf("%d,%d", from+1, to-from)
}

// splitLines splits after each line break; a last line without one is
// kept as it is.
func splitLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		n := bytes.IndexByte(b, '\n') + 1
		if n == 0 {
			n = len(b)
		}
		lines = append(lines, b[:n])
		b = b[n:]
	}
	return lines
}

// editScript returns a shortest edit script turning a into b, removals
// before additions within a change.
func editScript(a, b [][]byte) []diffOp {
	var ops []diffOp
	pre := 0
	for pre < len(a) && pre < len(b) && bytes.Equal(a[pre], b[pre]) {
		ops = append(ops, diffOp{' ', a[pre]})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && bytes.Equal(a[len(a)-1-suf], b[len(b)-1-suf]) {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	if n*m > maxDiffCells {
		for _, l := range ma {
			ops = append(ops, diffOp{'-', l})
		}
		for _, l := range mb {
			ops = append(ops, diffOp{'+', l})
		}
	} else {
		// lcs[i*(m+1)+j] is the length of a longest common subsequence
		// of ma[i:] and mb[j:].
		w := m + 1
		lcs := make([]int32, (n+1)*w)
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if bytes.Equal(ma[i], mb[j]) {
					lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
				} else {
					lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
				}
			}
		}
		i, j := 0, 0
		for i < n || j < m {
			switch {
			case i < n && j < m && bytes.Equal(ma[i], mb[j]):
				ops = append(ops, diffOp{' ', ma[i]})
				i, j = i+1, j+1
			case j == m || (i < n && lcs[(i+1)*w+j] >= lcs[i*w+j+1]):
				ops = append(ops, diffOp{'-', ma[i]})
				i++
			default:
				ops = append(ops, diffOp{'+', mb[j]})
				j++
			}
		}
	}
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, diffOp{' ', l})
	}
	return ops
}
