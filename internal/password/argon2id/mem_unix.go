//go:build unix

package argon2id

import (
	"syscall"
	"unsafe"
)

// mapBlocks maps n blocks of anonymous memory outside the Go heap: blocks
// hold no pointers, so the collector need not see them, and memory it does
// not see neither counts toward its heap goal (19 MiB of live slots would
// otherwise let as much again of garbage pile up before each collection)
// nor toward the memory limit. The kernel gives the pages zeroed on first
// touch.
func mapBlocks(n uint32) ([]block, error) {
	b, err := syscall.Mmap(-1, 0, int(n)*blockLength*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*block)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
}

// unmapBlocks gives back what mapBlocks mapped.
func unmapBlocks(B []block) {
	if len(B) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(B))), len(B)*blockLength*8)
	if err := syscall.Munmap(b); err != nil {
		panic("argon2id: munmap: " + err.Error()) // only for memory not mapped here
	}
}
