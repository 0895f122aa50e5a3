package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// skewClock restarts the last replica with its clock offset, checks that
// tokens cross between it and the others both ways, probes the limit
// during the skew, lets the load run, and restarts it on time again.
func skewClock(offset string) func(ctx context.Context, h *harness, m *mark) error {
	return func(ctx context.Context, h *harness, m *mark) error {
		last := len(h.reps) - 1
		r := h.c.reps[last]
		m.Start = h.at()
		if err := h.restart(ctx, r, offset); err != nil {
			return err
		}
		if !strings.Contains(readFile(r.child.LogPath), "clock is offset") {
			h.rec.violation("%s started with SIGIL_TEST_CLOCK_OFFSET=%s but did not log it", r.name, offset)
		}
		m.Observed = append(m.Observed, h.crossTokens(ctx, last)...)
		passed, limited, err := h.rateLimitProbe(ctx)
		if err != nil {
			return err
		}
		m.Observed = append(m.Observed, fmt.Sprintf("rate-limit burst during the skew: %d passed, %d limited (limit %d)",
			passed, limited, loginAccountLimit))
		if err := sleep(ctx, 4*time.Second); err != nil {
			return err
		}
		logged := h.skewLogged()
		m.Observed = append(m.Observed, logged)
		// Refusals across the skew are its documented effect only if a
		// replica said why.
		m.Refusals = strings.HasPrefix(logged, "clock skew logged")
		// Only those 401s: a 5xx or a lost answer in the window (the
		// graceful restarts in it) is still a violation.
		m.Strict = true
		if !m.Refusals {
			h.rec.violation("clock skew of %s: no replica logged it", offset)
		}
		// The skew's effects last until the replica runs on time again
		// (it keeps serving while it drains), and a challenge it issued
		// just before can still be answered a moment after.
		err = h.restart(ctx, r, "")
		m.End = h.at() + time.Second
		return err
	}
}

// restart stops r gracefully and starts it again (clock offset offset),
// marking the window: with SIGIL_SHUTDOWN_DRAIN the balancer stops
// sending before the listener closes, so a graceful restart should cost
// no request, and the timeline shows if it did.
func (h *harness) restart(ctx context.Context, r *replica, offset string) error {
	m := mark{Name: "graceful restart of " + r.name, Start: h.at(), Expected: "no failed request", Strict: true}
	if offset != "" {
		m.Name += " (clock " + offset + ")"
	}
	h.down.Store(int32(slices.Index(h.c.reps, r) + 1))
	defer h.down.Store(0)
	if err := r.child.Stop(); err != nil {
		return fmt.Errorf("stop %s: %w", r.name, err)
	}
	if err := h.c.start(ctx, r, offset); err != nil {
		return err
	}
	m.End = h.at() + time.Second
	h.rec.addMark(m)
	return nil
}

// crossTokens signs a user in on replica skewed and checks its access
// token on every other replica, then the other way round.
func (h *harness) crossTokens(ctx context.Context, skewed int) []string {
	var out []string
	for _, from := range []int{skewed, 0} {
		_, t, err := h.reps[from].Register(ctx, h.fx.Join)
		if err != nil {
			h.rec.violation("registration on r%d: %v", from+1, err)
			continue
		}
		var refused []string
		for i, a := range h.reps {
			if i == from {
				continue
			}
			if st := status(ctx, a, "Authorization", "Bearer "+t.AccessToken); st != http.StatusOK {
				refused = append(refused, fmt.Sprintf("r%d → %d", i+1, st))
			}
		}
		if len(refused) > 0 {
			h.rec.violation("a token minted on r%d is refused elsewhere: %s", from+1, strings.Join(refused, ", "))
		}
		out = append(out, fmt.Sprintf("token minted on r%d: accepted by the others%s", from+1, refusedNote(refused)))
	}
	out = append(out, h.crossRefresh(ctx, skewed))
	return out
}

// crossRefresh rotates a session on the skewed replica and presents the
// parent again on another one within the grace window: the other replica
// must answer with the same child (API.md §4), not a reuse revocation.
func (h *harness) crossRefresh(ctx context.Context, skewed int) string {
	_, t, err := h.reps[0].Register(ctx, h.fx.Join)
	if err != nil {
		return "cross refresh: " + err.Error()
	}
	first, err := h.reps[skewed].Refresh(ctx, t.RefreshToken)
	if err != nil {
		h.rec.violation("refresh on the skewed replica: %v", err)
		return "refresh on the skewed replica failed"
	}
	again, err := h.reps[0].Refresh(ctx, t.RefreshToken)
	switch {
	case err == nil && again.RefreshToken == first.RefreshToken:
		return "parent rotated on the skewed replica and presented again on r1: same child (grace window)"
	case strings.Contains(answer(err), "refresh_token_reused") && strings.Contains(readFile(h.c.reps[0].child.LogPath), "rotated_ago"):
		return "parent rotated on the skewed replica and presented again on r1: reuse, session ended; r1 logged the rotation's apparent age"
	}
	h.rec.violation("parent presented again on r1 after the skewed replica rotated it: %v", answer(err))
	return "cross-replica refresh: " + answer(err)
}

// skewLogged names the replicas whose log reports clock skew.
func (h *harness) skewLogged() string {
	var who []string
	for _, r := range h.c.reps {
		if strings.Contains(readFile(r.child.LogPath), "clock skew") {
			who = append(who, r.name)
		}
	}
	if len(who) == 0 {
		return "no replica logged clock skew"
	}
	return "clock skew logged by " + strings.Join(who, ", ")
}

func refusedNote(refused []string) string {
	if len(refused) == 0 {
		return ""
	}
	return " except " + strings.Join(refused, ", ")
}
