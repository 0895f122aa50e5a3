//go:build unix

package argon2id

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// TestMemoryOffHeap: a 19 MiB hash leaves the Go heap as it was (its
// blocks are mapped outside it), gives x/crypto's key, and after Free the
// next hash maps fresh memory and gives the same key again.
func TestMemoryOffHeap(t *testing.T) {
	pw, salt := []byte("correct horse"), []byte("0123456789abcdef")
	want := argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
	heap := func() uint64 {
		runtime.GC()
		var s runtime.MemStats
		runtime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	var m Memory
	defer m.Free()
	before := heap()
	for round := range 2 {
		if got := m.IDKey(pw, salt, 2, 19*1024, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("round %d: %x, want %x", round, got, want)
		}
		if !m.mapped || m.Size() != 19<<20 {
			t.Fatalf("round %d: mapped %v, %d bytes; want a 19 MiB mapping", round, m.mapped, m.Size())
		}
		if grown := int64(heap()) - int64(before); grown > 1<<20 {
			t.Errorf("round %d: the Go heap grew %d bytes during a hash in a Memory", round, grown)
		}
		m.Free()
		if m.Size() != 0 || m.mapped {
			t.Fatalf("after Free: %d bytes, mapped %v", m.Size(), m.mapped)
		}
	}
}

// TestDroppedMemoryUnmapped: Memories dropped without Free give their
// mappings back once collected. 100 dropped 4 MiB Memories would hold
// 400 MiB otherwise; the test wants the resident size to grow by less
// than 150 MiB.
func TestDroppedMemoryUnmapped(t *testing.T) {
	rss := func() int64 {
		b, err := os.ReadFile("/proc/self/statm")
		if err != nil {
			t.Skip("no /proc/self/statm here:", err)
		}
		var size, resident int64
		fmt.Sscan(string(b), &size, &resident)
		return resident * int64(os.Getpagesize())
	}
	before := rss()
	for i := range 100 {
		m := new(Memory)
		m.IDKey([]byte("pw"), []byte("0123456789abcdef"), 1, 4*1024, 1, 32)
		if i%10 == 9 {
			runtime.GC() // runs the cleanups of the Memories dropped so far
		}
	}
	runtime.GC()
	time.Sleep(50 * time.Millisecond) // cleanups run on a goroutine of their own
	if grown := rss() - before; grown > 150<<20 {
		t.Errorf("resident size grew %d MiB after dropping 100 Memories of 4 MiB", grown>>20)
	}
}

// TestDroppedDuringHash: a Memory its caller drops as the hash starts
// (new(Memory).IDKey) stays mapped until the hash ends, while collections
// run all along; it used to be collected and unmapped under the hash
// (a SIGSEGV in the BlaMka rounds).
func TestDroppedDuringHash(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	want := argon2.IDKey([]byte("pw"), []byte("0123456789abcdef"), 1, 8*1024, 1, 32)
	for i := range 30 {
		if got := new(Memory).IDKey([]byte("pw"), []byte("0123456789abcdef"), 1, 8*1024, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("hash %d: %x, want %x", i, got, want)
		}
	}
	close(stop)
	<-done
}
