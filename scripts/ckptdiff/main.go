// Command ckptdiff compares the weights of two ccface checkpoint files bit
// for bit: `go run ./scripts/ckptdiff A.ccf B.ccf` exits 0 when identical.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/ccface/ccface/engine/train"
	"github.com/ccface/ccface/sessions"
)

func load(path string) (map[string][]float32, int64) {
	s, err := sessions.Open(filepath.Dir(filepath.Dir(path)), filepath.Dir(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_, blob, err := s.LoadCheckpoint(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w, step, err := train.CheckpointWeights(blob)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
		os.Exit(2)
	}
	return w, step
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: ckptdiff A.ccf B.ccf")
		os.Exit(2)
	}
	a, sa := load(os.Args[1])
	b, sb := load(os.Args[2])
	var names []string
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	diff := 0
	for _, n := range names {
		if !slices.Equal(a[n], b[n]) {
			fmt.Printf("differs: %s\n", n)
			diff++
		}
	}
	if len(a) != len(b) {
		fmt.Printf("parameter sets differ: %d vs %d tensors\n", len(a), len(b))
		diff++
	}
	if diff > 0 {
		os.Exit(1)
	}
	fmt.Printf("identical: %d tensors, steps %d and %d\n", len(names), sa, sb)
}
