package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func createWorkspaceOp(id string) func(t tx) error {
	return func(t tx) error {
		_, err := t.exec(qCreateWorkspace, id, id, nil, "[]", 0, 0, 0, nil, 0, 0, 0, "", "", "", "none", nil)
		return err
	}
}

// One batch mixing good writes, a failing one and a panicking one: only
// the good writes commit, and each request gets its own outcome.
func TestCommitBatchIsolatesFailures(t *testing.T) {
	s := openInternal(t)
	boom := errors.New("boom")
	ops := []struct {
		name string
		fn   func(t tx) error
		want func(error) bool
	}{
		{"create a", createWorkspaceOp("a"), func(err error) bool { return err == nil }},
		{"duplicate a", createWorkspaceOp("a"), isConflict},
		{"create b then fail", func(t tx) error {
			if err := createWorkspaceOp("b")(t); err != nil {
				return err
			}
			return boom
		}, func(err error) bool { return errors.Is(err, boom) }},
		{"panic", func(tx) error { panic("kaboom") }, func(err error) bool {
			p, ok := err.(panicked)
			return ok && p.v == "kaboom"
		}},
		{"create c", createWorkspaceOp("c"), func(err error) bool { return err == nil }},
	}
	var batch []*writeReq
	for _, op := range ops {
		batch = append(batch, &writeReq{ctx: t.Context(), fn: op.fn, done: make(chan error, 1)})
	}
	s.commit(batch) // the writer goroutine is idle, so the connection is free
	for i, op := range ops {
		if err := <-batch[i].done; !op.want(err) {
			t.Errorf("%s: unexpected outcome %v", op.name, err)
		}
	}
	for id, want := range map[string]error{"a": nil, "b": store.ErrNotFound, "c": nil} {
		if _, err := s.GetWorkspace(t.Context(), id); !errors.Is(err, want) && err != want {
			t.Errorf("workspace %s: got %v, want %v", id, err, want)
		}
	}
}

func isConflict(err error) bool { return errors.Is(wrap("test", err), store.ErrConflict) }

// A request whose context ended while queued is answered without running.
func TestCommitSkipsCancelled(t *testing.T) {
	s := openInternal(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &writeReq{ctx: ctx, fn: createWorkspaceOp("a"), done: make(chan error, 1)}
	s.commit([]*writeReq{r})
	if err := <-r.done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: got %v, want context.Canceled", err)
	}
	if _, err := s.GetWorkspace(t.Context(), "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cancelled request ran: %v", err)
	}
}

// A panic inside a write reaches the caller's goroutine, and the store
// keeps working.
func TestWritePanicReachesCaller(t *testing.T) {
	s := openInternal(t)
	func() {
		defer func() {
			if v := recover(); v != "kaboom" {
				t.Errorf("recovered %v, want kaboom", v)
			}
		}()
		s.write(t.Context(), func(tx) error { panic("kaboom") })
	}()
	if err := s.write(t.Context(), createWorkspaceOp("a")); err != nil {
		t.Errorf("write after panic: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	s := openInternal(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := s.CreateWorkspace(t.Context(), store.Workspace{ID: "a", CreatedAt: time.Now()})
	if !errors.Is(err, errClosed) {
		t.Errorf("write after Close: got %v, want errClosed", err)
	}
}
