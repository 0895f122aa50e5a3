//go:build !unix

package argon2id

// mapBlocks allocates on the Go heap where anonymous mappings are not
// available through package syscall.
func mapBlocks(n uint32) ([]block, error) { return make([]block, n), nil }

// unmapBlocks leaves B to the collector.
func unmapBlocks([]block) {}
