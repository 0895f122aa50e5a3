package argon2id

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestRFC9106 is RFC 9106 §5.3's Argon2id test vector (secret and
// associated data included), computed twice in one Memory: the second
// time in memory the first left dirty.
func TestRFC9106(t *testing.T) {
	rep := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	want, _ := hex.DecodeString("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659")
	var m Memory
	for i := range 2 {
		got := m.deriveKey(rep(1, 32), rep(2, 16), rep(3, 8), rep(4, 12), 3, 32, 4, 32)
		if !bytes.Equal(got, want) {
			t.Errorf("hash %d: %x, want %x", i+1, got, want)
		}
	}
}

// TestSameAsXCrypto: random passwords, salts and parameters give
// x/crypto's key, in one Memory reused from hash to hash (larger and
// smaller, so blocks of earlier hashes are always there to be ignored).
func TestSameAsXCrypto(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2)) // fixed: a failure is reproducible
	var m Memory
	for i := range 200 {
		pw, salt := make([]byte, r.IntN(64)), make([]byte, 8+r.IntN(56))
		for _, b := range [][]byte{pw, salt} {
			for j := range b {
				b[j] = byte(r.Uint32())
			}
		}
		time, memory := 1+r.Uint32N(4), 8+r.Uint32N(512)
		threads, keyLen := uint8(1+r.IntN(8)), 4+r.Uint32N(120)
		want := argon2.IDKey(pw, salt, time, memory, threads, keyLen)
		if got := m.IDKey(pw, salt, time, memory, threads, keyLen); !bytes.Equal(got, want) {
			t.Fatalf("case %d (t=%d m=%d p=%d len=%d): %x, want %x", i, time, memory, threads, keyLen, got, want)
		}
	}
	// The production parameters (OWASP: m = 19 MiB, t = 2, p = 1), twice.
	for i := range 2 {
		pw := fmt.Appendf(nil, "correct horse %d", i)
		want := argon2.IDKey(pw, []byte("0123456789abcdef"), 2, 19*1024, 1, 32)
		if got := m.IDKey(pw, []byte("0123456789abcdef"), 2, 19*1024, 1, 32); !bytes.Equal(got, want) {
			t.Fatalf("OWASP hash %d: %x, want %x", i, got, want)
		}
	}
	if m.Size() != 19<<20 {
		t.Errorf("Memory holds %d bytes after a 19 MiB hash, want %d", m.Size(), 19<<20)
	}
}

// BenchmarkIDKey: the OWASP hash, here in a reused Memory and by
// x/crypto (a new 19 MiB each time).
func BenchmarkIDKey(b *testing.B) {
	pw, salt := []byte("correct horse battery staple"), []byte("0123456789abcdef")
	b.Run("reused", func(b *testing.B) {
		var m Memory
		for b.Loop() {
			m.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
	b.Run("x-crypto", func(b *testing.B) {
		for b.Loop() {
			argon2.IDKey(pw, salt, 2, 19*1024, 1, 32)
		}
	})
}
