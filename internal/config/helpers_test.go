package config

import (
	"slices"

	"github.com/google/go-cmp/cmp"
)

// cmpSorted compares string slices ignoring order.
var cmpSorted = cmp.Transformer("sorted", func(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})
