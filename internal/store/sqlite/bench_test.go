package sqlite_test

import (
	"crypto/sha256"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/sqlite"
)

// benchStore is a store with workspace "ws" and user "alice" (one key).
func benchStore(b *testing.B) *sqlite.Store {
	s := openTemp(b)
	now := time.Now()
	err := s.CreateWorkspace(b.Context(), store.Workspace{ID: "ws", Name: "ws",
		JoinCodeHash: sum("join"), CreatedAt: now, UpdatedAt: now})
	if err == nil {
		k := store.PublicKey{ID: "k1", UserID: "alice", Key: sum("key"), CreatedAt: now}
		_, err = s.CreateUser(b.Context(), store.User{ID: "alice", WorkspaceID: "ws",
			Role: store.RoleMember, Scopes: []string{"read", "write"}, CreatedAt: now}, &k)
	}
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func sum(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

var seq atomic.Int64

// sessionThenRotate creates a session and rotates its refresh token once:
// the store work of one login followed by one refresh.
func sessionThenRotate(b *testing.B, s *sqlite.Store) {
	id := fmt.Sprint("s", seq.Add(1))
	now := time.Now()
	sess := store.Session{ID: id, UserID: "alice", WorkspaceID: "ws", Method: "pubkey",
		Scopes: []string{"read", "write"}, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		RefreshExpiresAt: now.Add(30 * time.Minute), RotatedAt: now}
	if err := s.CreateSession(b.Context(), sess, sum(id)); err != nil {
		b.Error(err)
		return
	}
	if err := s.RotateRefresh(b.Context(), id, 0, sum(id+"/1"), now, now.Add(time.Hour)); err != nil {
		b.Error(err)
	}
}

// keyPairLogin is the store work of one key-pair login: load user and
// key, start the session recording the used code, touch the key.
func keyPairLogin(b *testing.B, s *sqlite.Store) {
	ctx, n := b.Context(), seq.Add(1)
	now := time.Now()
	code := store.AuthCode{Hash: sum(fmt.Sprint("code", n)), UserID: "alice", ExpiresAt: now.Add(30 * time.Second)}
	_, err := s.GetUser(ctx, "alice")
	if err == nil {
		_, err = s.GetPublicKeyByValue(ctx, "alice", sum("key"))
	}
	if err == nil {
		id := fmt.Sprint("l", n)
		err = s.CreateSession(ctx, store.Session{ID: id, UserID: "alice", WorkspaceID: "ws",
			Method: "pubkey", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
			RefreshExpiresAt: now.Add(30 * time.Minute), RotatedAt: now}, sum(id), code)
	}
	if err == nil {
		err = s.TouchPublicKey(ctx, "k1", now)
	}
	if err != nil {
		b.Error(err)
	}
}

func benchmark(b *testing.B, op func(*testing.B, *sqlite.Store), parallel bool) {
	s := benchStore(b)
	b.ResetTimer()
	if !parallel {
		for b.Loop() {
			op(b, s)
		}
	} else {
		b.SetParallelism(8) // 8 goroutines per GOMAXPROCS, like busy HTTP handlers
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op(b, s)
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkCreateSessionRotate(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmark(b, sessionThenRotate, false) })
	b.Run("parallel", func(b *testing.B) { benchmark(b, sessionThenRotate, true) })
}

func BenchmarkKeyPairLogin(b *testing.B) {
	b.Run("serial", func(b *testing.B) { benchmark(b, keyPairLogin, false) })
	b.Run("parallel", func(b *testing.B) { benchmark(b, keyPairLogin, true) })
}

// BenchmarkAppendAudit appends batches of 1, 10 and 100 realistic events;
// ns/event shows what one event costs in each.
func BenchmarkAppendAudit(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprint("batch-", n), func(b *testing.B) {
			s := openTemp(b)
			batch := make([]store.AuditEvent, n)
			for b.Loop() {
				now := time.Now()
				for i := range batch {
					batch[i] = store.AuditEvent{ID: fmt.Sprintf("%020d", seq.Add(1)), WorkspaceID: "ws",
						Time: now, Actor: "alice", Action: "login.success", Target: "alice",
						Method: "pubkey", ClientIP: "192.0.2.1", Details: map[string]string{"session": "s1"}}
				}
				if err := s.AppendAudit(b.Context(), batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
		})
	}
}
