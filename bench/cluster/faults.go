package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// fault is one injected failure: what is expected, written before it was
// ever run (also in doc.go and README.md), and how to inject and observe
// it. inject returns what it saw; a broken expectation is a violation.
type fault struct {
	name, expected string
	needsRedis     bool
	inject         func(ctx context.Context, h *harness, m *mark) error
}

var faults = []fault{
	{name: "kill -9 of one replica", inject: killReplica, expected: "The balancer takes the replica out of rotation " +
		"(health check every 200 ms, two misses) and sends new connections elsewhere; only requests in flight on " +
		"the killed replica fail, within 1.5 s of the kill. Nothing it acknowledged is lost (PostgreSQL committed it " +
		"before the answer). Restarted on the same port, it rejoins without errors."},
	{name: "PostgreSQL restart", inject: restartPostgres, expected: "Every replica's /readyz answers 503 while " +
		"PostgreSQL is down and 200 again after, with the same process (no replica restart). Requests that need " +
		"the store fail with 503 unavailable (Retry-After) only inside the gap. Without Redis, each replica LISTENs again on a new " +
		"connection; a key revoked right after the restart is refused by every replica within 1 s."},
	{name: "Redis down and back", needsRedis: true, inject: restartRedis, expected: "Requests under a limit " +
		"(logins, refreshes; registrations too when login_ip is on, which these runs turn off) fail closed with 503 unavailable while Redis is down; requests with a credential " +
		"already checked keep working; when Redis is back the limits and the revocation bus work again without a " +
		"replica restart, and a key revoked then is refused by every replica within 1 s."},
	{name: "one replica's clock +30 s", inject: skewClock("30s"), expected: "Access tokens carry exp and iat but " +
		"no nbf, and exp is checked without leeway, so a token minted 30 s ahead lives 30 s longer elsewhere and " +
		"verifies on every replica; the workload sees no 401 it should not; a parent it rotated and presented " +
		"again elsewhere gets the same child; the per-account limit still counts a burst exactly; the replicas " +
		"behind it log the skew."},
	{name: "one replica's clock -30 s", inject: skewClock("-30s"), expected: "Tokens it mints expire 30 s early " +
		"elsewhere and verify on every replica until then; tokens of the others verify on it; limits exact for a " +
		"burst. Its rotations look 30 s old elsewhere, past the 10 s grace window: a parent presented again on " +
		"another replica is reuse and ends the session, with the rotation's apparent age in the refusing " +
		"replica's log, and the slow replica logs that its clock is behind."},
}

// at is the run's clock for marks.
func (h *harness) at() time.Duration { return time.Since(h.rec.start) }

// killReplica kills the last replica with SIGKILL, lets the load run on
// the others, and starts it again on the same port.
func killReplica(ctx context.Context, h *harness, m *mark) error {
	r := h.c.reps[len(h.c.reps)-1]
	m.Start = h.at()
	h.down.Store(int32(len(h.c.reps)))
	r.child.Kill()
	m.Observed = append(m.Observed, fmt.Sprintf("%s killed at %.1f s", r.name, m.Start.Seconds()))
	// Failures after kill+1.5 s are the balancer's to avoid.
	m.End = m.Start + 1500*time.Millisecond
	if err := sleep(ctx, 3*time.Second); err != nil {
		return err
	}
	restart := mark{Name: "restart " + r.name, Start: h.at(), Expected: "rejoins without errors", Strict: true}
	if err := h.c.start(ctx, r, ""); err != nil {
		return err
	}
	h.down.Store(0)
	restart.End = h.at() + time.Second
	restart.Observed = []string{fmt.Sprintf("ready after %v", r.child.Ready.Round(time.Millisecond))}
	h.rec.addMark(restart)
	return nil
}

// restartPostgres restarts the private PostgreSQL (pg_ctl restart -m
// fast) while every replica's readiness is watched.
func restartPostgres(ctx context.Context, h *harness, m *mark) error {
	pids := h.c.replicaPids()
	key, err := h.warmKey(ctx)
	if err != nil {
		return err
	}
	watch := h.watchReady(ctx)
	m.Start = h.at()
	if err := h.c.pg.ctl(ctx, "restart"); err != nil {
		return err
	}
	m.Observed = append(m.Observed, fmt.Sprintf("pg_ctl restart took %.1f s", (h.at()-m.Start).Seconds()))
	seen := watch.wait(ctx, 15*time.Second)
	m.Observed = append(m.Observed, seen...)
	m.End = h.at() + 2*time.Second
	if fmt.Sprint(pids) != fmt.Sprint(h.c.replicaPids()) {
		h.rec.violation("replica processes changed across the PostgreSQL restart")
	}
	m.Observed = append(m.Observed, h.revokeAndCheck(ctx, key))
	if h.c.rd == nil {
		m.Observed = append(m.Observed, h.checkListening(ctx)...)
	}
	return nil
}

// restartRedis kills the private Redis, checks the fail-closed answer,
// and starts it again on the same port.
func restartRedis(ctx context.Context, h *harness, m *mark) error {
	key, err := h.warmKey(ctx)
	if err != nil {
		return err
	}
	m.Start = h.at()
	h.c.rd.kill()
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return err
	}
	t0 := time.Now()
	_, err = h.reps[0].Login(ctx, h.workers[0].users[0].u)
	m.Observed = append(m.Observed, fmt.Sprintf("key-pair login while down, answered in %v: %s",
		time.Since(t0).Round(time.Millisecond), answer(err)))
	var se *loadkit.StatusError
	if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || !strings.Contains(string(se.Body), "unavailable") {
		h.rec.violation("a login with Redis down was not refused with 503 unavailable: %v", answer(err))
	}
	st := status(ctx, h.reps[0], "X-API-KEY", key.Key)
	m.Observed = append(m.Observed, fmt.Sprintf("checked API key while down: %d", st))
	if err := sleep(ctx, 2500*time.Millisecond); err != nil {
		return err
	}
	if err := h.c.rd.start(); err != nil {
		return err
	}
	back := h.at()
	m.Observed = append(m.Observed, h.waitLoginWorks(ctx, back))
	m.End = h.at() + time.Second
	m.Observed = append(m.Observed, h.revokeAndCheck(ctx, key))
	return nil
}

// answer is "200" or the error's status and code, for observations.
func answer(err error) string {
	if err == nil {
		return "2xx"
	}
	return fmt.Sprintf("%.120s", err.Error())
}

// sleep waits d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// waitLoginWorks registers a user on every replica and logs it in until
// the login (which consults the Redis limiter) succeeds, up to 15 s.
func (h *harness) waitLoginWorks(ctx context.Context, since time.Duration) string {
	deadline := time.Now().Add(15 * time.Second)
	for i, a := range h.reps {
		u, _, err := a.Register(ctx, h.fx.Join)
		if err != nil {
			h.rec.violation("r%d: registration after Redis came back: %v", i+1, err)
			return "registration failed"
		}
		h.led.add(&h.led.users, u.ID, u)
		for {
			if _, err = a.Login(ctx, u); err == nil {
				break
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				h.rec.violation("r%d still refuses logins 15 s after Redis came back: %v", i+1, err)
				return "logins did not recover"
			}
			time.Sleep(50 * time.Millisecond) // waiting for another process
		}
	}
	return fmt.Sprintf("logins work on every replica %.2f s after Redis is back", (h.at() - since).Seconds())
}
