package password

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fast parameters keep the tests quick; the production ones are OWASP.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	h := New(fast, 2)
	ctx := context.Background()
	s, err := h.Hash(ctx, "correct horse")
	if err != nil || !strings.HasPrefix(s, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q %v", s, err)
	}
	s2, _ := h.Hash(ctx, "correct horse")
	if s == s2 {
		t.Fatal("salt not random")
	}
	if err := h.Verify(ctx, s, "correct horse"); err != nil {
		t.Fatal(err)
	}
	for _, wrong := range []string{"correct hors", "Correct horse", ""} {
		if err := h.Verify(ctx, s, wrong); !errors.Is(err, ErrMismatch) {
			t.Errorf("%q: %v", wrong, err)
		}
	}
	if err := h.Verify(ctx, "", "anything"); !errors.Is(err, ErrMismatch) {
		t.Errorf("decoy: %v", err)
	}
	if h.NeedsRehash(s) || !New(OWASP, 1).NeedsRehash(s) {
		t.Error("NeedsRehash")
	}
}

func TestMalformedAndOutOfBounds(t *testing.T) {
	h := New(fast, 1)
	good, _ := h.Hash(context.Background(), "pw")
	parts := strings.Split(good, "$")
	for name, s := range map[string]string{
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(good, "argon2id", "argon2i", 1),
		"wrong version":  strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(good, "m=64", "m=4194304", 1),
		"huge time":      strings.Replace(good, "t=1", "t=1000", 1),
		"zero threads":   strings.Replace(good, "p=1", "p=0", 1),
		"short key":      strings.Join(append(parts[:5:5], "AAAA"), "$"),
		"bad base64":     strings.Join(append(parts[:5:5], "!!!!"), "$"),
		"truncated":      "$argon2id$v=19",
		"empty segments": "$$$$$",
	} {
		if err := h.Verify(context.Background(), s, "pw"); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestConcurrencyBounded: never more hashes at once than the limit.
func TestConcurrencyBounded(t *testing.T) {
	h := New(Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			m, _ := h.acquire(context.Background())
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			h.key(m, []byte("pw"), []byte("saltsaltsaltsalt"), h.p)
			running.Add(-1)
			h.slots <- m
		})
	}
	wg.Wait()
	if peak.Load() > 2 {
		t.Fatalf("peak %d concurrent hashes, limit 2", peak.Load())
	}
	// A caller whose context ends while queued gives up.
	<-h.slots
	<-h.slots
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued hash: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	h := New(fast, 1)
	good, _ := h.Hash(context.Background(), "pw")
	for _, s := range []string{good, "", "$argon2id$v=19$m=1,t=1,p=1$$", "$argon2id$v=19$m=99999999999,t=1,p=1$AAAA$AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, _, err := decode(s)
		if err == nil && (p.Memory > maxMemory || p.Time > maxTime || p.Threads > maxThreads) {
			t.Fatalf("out-of-bounds params accepted: %+v", p)
		}
	})
}

func BenchmarkHashOWASP(b *testing.B) {
	h := New(OWASP, 1)
	for b.Loop() {
		h.Hash(context.Background(), "correct horse battery staple")
	}
}

func TestPeakMemory(t *testing.T) {
	if got, want := New(OWASP, 2).PeakMemory(), int64(2*19<<20); got != want {
		t.Errorf("PeakMemory = %d, want %d", got, want)
	}
}

// TestAfterIdle: f runs once after hashing pauses, not while hashes keep
// coming, and again after the next pause.
func TestAfterIdle(t *testing.T) {
	h := New(fast, 2)
	calls := make(chan struct{}, 10)
	h.AfterIdle(300*time.Millisecond, func() { calls <- struct{}{} })
	ctx := context.Background()
	select {
	case <-calls:
		t.Fatal("called before any hash")
	case <-time.After(350 * time.Millisecond):
	}
	s, _ := h.Hash(ctx, "pw")
	for range 5 { // keep hashing more often than the idle wait
		time.Sleep(10 * time.Millisecond)
		h.Verify(ctx, s, "pw")
	}
	if len(calls) != 0 {
		t.Fatal("called while hashes kept coming")
	}
	for i := range 2 {
		select {
		case <-calls:
		case <-time.After(2 * time.Second):
			t.Fatalf("pause %d: not called", i+1)
		}
		h.Verify(ctx, s, "pw")
	}
}

// TestHashingHeapStaysFlat: hashes arriving faster than the slots serve
// them hold no more heap than the slots' memory and a little, because
// each slot's m KiB are reused; x/crypto's IDKey allocated m KiB per hash
// and the heap grew to twice what was live (GOGC) before a collection.
// After the idle wait the slots' memory is freed.
func TestHashingHeapStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with the production parameters")
	}
	const slots, hashes, clients = 2, 24, 4
	h := New(OWASP, slots)
	freed := make(chan struct{}, 1)
	h.AfterIdle(500*time.Millisecond, func() {
		select {
		case freed <- struct{}{}:
		default:
		}
	})
	runtime.GC()
	debug.FreeOSMemory()
	base := heapRetained()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := heapRetained(); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range hashes / clients {
				if _, err := h.Hash(context.Background(), "correct horse"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	m := uint64(OWASP.Memory) << 10
	if limit := base + slots*m + 4<<20; peak.Load() > limit {
		t.Errorf("heap peaked at %.1f MiB (%.1f MiB at the start), want at most %.1f MiB: %d slots of %.0f MiB + 4 MiB",
			mib(peak.Load()), mib(base), mib(limit), slots, mib(m))
	}
	t.Logf("heap retained: %.1f MiB at the start, peak %.1f MiB", mib(base), mib(peak.Load()))
	select {
	case <-freed:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterIdle's f not called")
	}
	for range slots {
		if s := (<-h.slots).Size(); s != 0 {
			t.Errorf("a slot holds %d bytes after the idle wait, want 0", s)
		}
	}
}

// heapRetained is the heap memory the runtime holds from the OS: in use,
// unused in spans, and free but not yet released.
func heapRetained() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/free:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64() + s[2].Value.Uint64()
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
