package postgres

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

// RefreshBatches reports how many refresh statements s ran and the most
// refreshes one carried.
func RefreshBatches(s *Store) (batches, largest int) {
	s.refresh.mu.Lock()
	defer s.refresh.mu.Unlock()
	return s.refresh.batches, s.refresh.largest
}

// RefreshBatch runs rs as one batch, as the batcher would, and returns
// each refresh's answer.
func RefreshBatch(ctx context.Context, s *Store, rs []store.RefreshRotation) ([]store.Refreshed, []error) {
	batch := make([]*refreshCall, len(rs))
	for i, r := range rs {
		batch[i] = &refreshCall{ctx: ctx, r: r, done: make(chan struct{})}
	}
	s.refresh.run(batch)
	outs, errs := make([]store.Refreshed, len(rs)), make([]error, len(rs))
	for i, c := range batch {
		outs[i], errs[i] = c.out, c.err
	}
	return outs, errs
}

var RefreshPoolConfig = refreshPoolConfig
