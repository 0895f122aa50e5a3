package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sigil-auth/sigil/internal/password/argon2id"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Upper bounds on parameters accepted from a stored hash.
const (
	maxMemory  = 256 * 1024 // KiB
	maxTime    = 16
	maxThreads = 8
	maxSalt    = 64
	maxKey     = 64
)

// Errors.
var (
	ErrMismatch  = errors.New("password: does not match")
	ErrMalformed = errors.New("password: malformed or out-of-bounds hash")
)

// Hasher hashes and verifies with bounded concurrency.
type Hasher struct {
	p Params
	// slots holds one argon2id.Memory per hash that may run at once: a
	// hash takes one and gives it back, so the m KiB are allocated once
	// per slot rather than once per hash (see AfterIdle for their release).
	slots chan *argon2id.Memory
	fake  string // a real hash of a random password, verified for unknown users

	mu      sync.Mutex
	idle    *time.Timer // see AfterIdle; nil until set
	idleFor time.Duration
}

// New returns a Hasher with params p, running at most concurrency hashes
// at a time (0: one per CPU).
func New(p Params, concurrency int) *Hasher {
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{p: p, slots: make(chan *argon2id.Memory, concurrency)}
	for range concurrency {
		h.slots <- new(argon2id.Memory)
	}
	// The decoy needs the shape and parameters of a real hash, not a real
	// hash: verifying against it costs the same either way and fails.
	h.fake = h.encode(randomBytes(p.SaltLen), p, randomBytes(p.KeyLen))
	return h
}

func randomBytes(n uint32) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// key hashes in the slot's memory m when p's memory is the Hasher's own;
// a stored hash of other parameters (older, or larger up to maxMemory)
// gets memory of its own that is not kept.
func (h *Hasher) key(m *argon2id.Memory, pw, salt []byte, p Params) []byte {
	if p.Memory != h.p.Memory {
		return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	}
	return m.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// PeakMemory is the most memory the Hasher's own hashes hold at once, in
// bytes: m KiB per hash times the number that may run together. (Hashes
// stored with other parameters may need more, up to maxMemory each.)
func (h *Hasher) PeakMemory() int64 {
	return int64(cap(h.slots)) * int64(h.p.Memory) << 10
}

// AfterIdle frees the slots' memory and then calls f (on a goroutine of
// its own) once no hash has run for d after one did; each hash restarts
// the wait, so under steady load neither happens. The slots keep m KiB
// each while logins come; freeing unmaps them on Unix (argon2id.Memory)
// and leaves them to the collector elsewhere. An idle server collects
// nothing for minutes: the server passes debug.FreeOSMemory here, so the
// logins' garbage (and, off Unix, the slots) goes back to the kernel.
// Call it before the Hasher is used.
func (h *Hasher) AfterIdle(d time.Duration, f func()) {
	h.idle = time.AfterFunc(d, func() {
		h.freeSlots()
		f()
	})
	h.idle.Stop()
	h.idleFor = d
}

// freeSlots drops the memory of every slot not in use (a hash that
// started meanwhile keeps its own; the next idle wait frees it).
func (h *Hasher) freeSlots() {
	var taken []*argon2id.Memory
	defer func() {
		for _, m := range taken {
			h.slots <- m
		}
	}()
	for range cap(h.slots) {
		select {
		case m := <-h.slots:
			m.Free()
			taken = append(taken, m)
		default:
			return
		}
	}
}

// done gives back a hashing slot and restarts the idle wait.
func (h *Hasher) done(m *argon2id.Memory) {
	h.slots <- m
	if h.idle != nil {
		h.mu.Lock()
		h.idle.Reset(h.idleFor)
		h.mu.Unlock()
	}
}

// acquire waits for a hashing slot or ctx.
func (h *Hasher) acquire(ctx context.Context) (*argon2id.Memory, error) {
	select {
	case m := <-h.slots:
		return m, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Hash returns the PHC string of pw with a fresh salt.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	m, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer h.done(m)
	salt := randomBytes(h.p.SaltLen)
	return h.encode(salt, h.p, h.key(m, []byte(pw), salt, h.p)), nil
}

// Verify checks pw against a stored PHC hash in constant time. An empty
// stored hash (unknown user) is verified against a fixed decoy hash, so
// "no such user" costs the same as "wrong password", and fails.
func (h *Hasher) Verify(ctx context.Context, stored, pw string) error {
	decoy := stored == ""
	if decoy {
		stored = h.fake
	}
	p, salt, want, err := decode(stored)
	if err != nil {
		return err
	}
	m, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	got := h.key(m, []byte(pw), salt, p)
	h.done(m)
	if subtle.ConstantTimeCompare(got, want) != 1 || decoy {
		return ErrMismatch
	}
	return nil
}

// NeedsRehash reports whether stored was made with other parameters than
// the Hasher's (so a login can upgrade it).
func (h *Hasher) NeedsRehash(stored string) bool {
	p, _, _, err := decode(stored)
	return err != nil || p.Memory != h.p.Memory || p.Time != h.p.Time || p.Threads != h.p.Threads
}

func (h *Hasher) encode(salt []byte, p Params, key []byte) string {
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// decode parses and bounds a PHC argon2id string.
func decode(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || n != 3 {
		return Params{}, nil, nil, ErrMalformed
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || p.Memory < 8 || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || p.Threads > maxThreads || len(salt) < 8 || len(salt) > maxSalt || len(key) < 16 || len(key) > maxKey {
		return Params{}, nil, nil, ErrMalformed
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
