//go:build !unix

package argon2id

import "errors"

// mapBlocks refuses where anonymous mappings are not available through
// package syscall: grow then allocates on the Go heap, which the
// collector frees.
func mapBlocks(uint32) ([]block, error) { return nil, errors.ErrUnsupported }

// unmapBlocks is never called here (mapBlocks maps nothing).
func unmapBlocks([]block) {}
