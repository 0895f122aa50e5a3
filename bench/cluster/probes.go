package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// warmKey creates an API key (with the admin token, in the run's
// workspace) and uses it once on every replica, so each has it cached.
func (h *harness) warmKey(ctx context.Context) (loadkit.APIKey, error) {
	k, err := h.reps[0].CreateResourceKey(ctx, h.c.admin, h.fx.WorkspaceID)
	if err != nil {
		return k, fmt.Errorf("warm key: %w", err)
	}
	h.led.add(&h.led.keys, k.ID, k)
	for _, a := range h.reps {
		status(ctx, a, "X-API-KEY", k.Key)
	}
	return k, nil
}

// revokeAndCheck revokes k through the first replica that takes it and
// waits until every replica refuses it (a violation after 1 s).
func (h *harness) revokeAndCheck(ctx context.Context, k loadkit.APIKey) string {
	for i, a := range h.reps {
		err := a.Do(ctx, http.MethodDelete, "/v1/api-keys/"+k.ID, nil, h.c.admin, http.StatusNoContent, nil)
		if err != nil {
			continue
		}
		h.led.add(&h.led.revoked, k.ID, k)
		t0 := time.Now()
		h.checkRefused("key revoked after the fault", t0, "X-API-KEY", k.Key)
		return fmt.Sprintf("key revoked on r%d right after recovery: every replica refused it within %v",
			i+1, time.Since(t0).Round(time.Millisecond))
	}
	h.rec.violation("no replica could revoke a key after recovery")
	return "revocation after recovery failed"
}

// readyWatch polls every replica's /readyz while a fault runs.
type readyWatch struct {
	h      *harness
	mu     sync.Mutex
	down   []time.Duration // first 503 (or no answer) per replica; 0 = none yet
	up     []time.Duration // first 200 after down
	cancel context.CancelFunc
}

func (h *harness) watchReady(ctx context.Context) *readyWatch {
	ctx, cancel := context.WithCancel(ctx)
	rw := &readyWatch{h: h, down: make([]time.Duration, len(h.reps)), up: make([]time.Duration, len(h.reps)), cancel: cancel}
	for i, a := range h.reps {
		go func() {
			for ctx.Err() == nil {
				c, stop := context.WithTimeout(ctx, time.Second)
				ok := a.Get(c, "/readyz") == nil
				stop()
				rw.mu.Lock()
				if !ok && rw.down[i] == 0 {
					rw.down[i] = h.at()
				} else if ok && rw.down[i] != 0 && rw.up[i] == 0 {
					rw.up[i] = h.at()
				}
				rw.mu.Unlock()
				time.Sleep(25 * time.Millisecond) // polling another process
			}
		}()
	}
	return rw
}

// wait returns once every replica that went unready is ready again (or
// after limit), with one observation per replica.
func (rw *readyWatch) wait(ctx context.Context, limit time.Duration) []string {
	defer rw.cancel()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		rw.mu.Lock()
		done := !slices.ContainsFunc(rw.down, func(d time.Duration) bool { return d == 0 }) &&
			!slices.ContainsFunc(rw.up, func(d time.Duration) bool { return d == 0 })
		rw.mu.Unlock()
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	var out []string
	for i := range rw.down {
		switch {
		case rw.down[i] == 0:
			out = append(out, fmt.Sprintf("r%d: /readyz never answered 503 (the outage fell between polls)", i+1))
		case rw.up[i] == 0:
			rw.h.rec.violation("r%d not ready %v after PostgreSQL came back", i+1, limit)
			out = append(out, fmt.Sprintf("r%d: /readyz 503 from %.2f s, never 200 again", i+1, rw.down[i].Seconds()))
		default:
			out = append(out, fmt.Sprintf("r%d: /readyz 503 from %.2f s, 200 again at %.2f s", i+1, rw.down[i].Seconds(), rw.up[i].Seconds()))
		}
	}
	return out
}

// checkListening waits (up to 10 s) until pg_stat_activity shows a
// LISTEN connection of every replica: the revocation bus came back
// without a replica restart.
func (h *harness) checkListening(ctx context.Context) []string {
	conn, err := pgx.Connect(ctx, h.c.pg.url("sigil", "sigil-cluster"))
	if err != nil {
		return []string{"LISTEN check: " + err.Error()}
	}
	defer conn.Close(context.Background())
	t0 := time.Now()
	var apps []string
	for time.Since(t0) < 10*time.Second {
		rows, _ := conn.Query(ctx, `SELECT DISTINCT application_name FROM pg_stat_activity
			WHERE datname = 'sigil' AND query ILIKE 'LISTEN %' ORDER BY 1`)
		apps, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err == nil && len(apps) == len(h.reps) {
			return []string{fmt.Sprintf("every replica LISTENs again (%s) %.2f s after readiness", strings.Join(apps, ", "),
				time.Since(t0).Seconds())}
		}
		time.Sleep(100 * time.Millisecond)
	}
	h.rec.violation("after the PostgreSQL restart only %v LISTEN again", apps)
	return []string{fmt.Sprintf("LISTEN connections after 10 s: %v", apps)}
}
