package main

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// refusalBound is API.md §4's promise: an ended session (or revoked
// key) is refused by every replica within 1 s.
const refusalBound = time.Second

// status asks one server GET /v1/authorize with one credential header
// and returns the answer's status (0 for no answer).
func status(ctx context.Context, a *loadkit.API, header, value string) int {
	err := a.Get(ctx, "/v1/authorize", header, value)
	var se *loadkit.StatusError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &se):
		return se.Status
	}
	return 0
}

// checkRefused asks every replica directly (not through the balancer,
// which would hide a replica that still accepts) until each refuses the
// credential with 401, and records a violation if one still accepts it
// after ack+refusalBound. A replica that does not answer (killed, or its
// store down) accepts nothing and is not waited for.
func (h *harness) checkRefused(what string, ack time.Time, header, value string) {
	h.checkSem <- struct{}{}
	defer func() { <-h.checkSem }()
	var wg sync.WaitGroup
	for i, a := range h.reps {
		wg.Go(func() {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), refusalBound)
				st := status(ctx, a, header, value)
				cancel()
				late := time.Since(ack)
				if st != http.StatusOK {
					if st == http.StatusUnauthorized {
						h.prop.observe(late)
					}
					return
				}
				if late > refusalBound {
					h.rec.violation("%s still accepted by r%d %v after it was acknowledged", what, i+1, late.Round(time.Millisecond))
					return
				}
				time.Sleep(20 * time.Millisecond) // polling another process, not a clock
			}
		})
	}
	wg.Wait()
}

// upReplicas are the clients of the replicas not killed by a fault.
func (h *harness) upReplicas() []*loadkit.API {
	down := int(h.down.Load())
	var up []*loadkit.API
	for i, a := range h.reps {
		if i+1 != down {
			up = append(up, a)
		}
	}
	return up
}

// propagation is the slowest refusal seen (time from the 204 to a
// replica's 401) and how many were measured.
type propagation struct {
	mu  sync.Mutex
	max time.Duration
	n   int
}

func (p *propagation) observe(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.max = max(p.max, d)
}

// refreshRace presents w's refresh token to every replica at once (at
// least two requests): API.md §4 wants one rotation, every 200 carrying
// the same child, no reuse revocation, no 5xx. Two different children
// would be a family with two live branches.
func (w *worker) refreshRace(ctx context.Context) error {
	up := w.h.upReplicas()
	n := max(2, len(up))
	answers := make([]loadkit.Tokens, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { answers[i], errs[i] = up[i%len(up)].Refresh(ctx, w.tok.RefreshToken) })
	}
	wg.Wait()
	var child string
	for i, err := range errs {
		if err != nil {
			if !isOutage(err) {
				w.tok = loadkit.Tokens{} // the session may be gone: start another
			}
			return err
		}
		if child == "" {
			child = answers[i].RefreshToken
		} else if answers[i].RefreshToken != child {
			w.h.rec.violation("refresh race: one parent got two different children")
		}
	}
	w.tok = answers[0]
	return nil
}

// rateLimitProbe sends 2×limit key-pair logins for one fresh account at
// once, spread over the replicas directly. With Redis the limit holds
// across replicas: exactly limit of them get past it (401: the account
// does not exist) and the rest get 429. Without Redis each replica counts
// alone. It returns what it saw.
func (h *harness) rateLimitProbe(ctx context.Context) (passed, limited int, err error) {
	u := loadkit.NewUser()
	n := 2 * loginAccountLimit
	proofs := make([]map[string]string, n)
	for i := range proofs {
		if proofs[i], err = h.reps[i%len(h.reps)].Proof(ctx, u); err != nil {
			return 0, 0, err
		}
	}
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := h.reps[i%len(h.reps)].Do(ctx, http.MethodPost, "/v1/auth/token", proofs[i], "", http.StatusOK, nil)
			var se *loadkit.StatusError
			if errors.As(err, &se) {
				codes[i] = se.Status
			}
		})
	}
	wg.Wait()
	perReplica := make([]int, len(h.reps))
	for i, c := range codes {
		switch c {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusUnauthorized:
			passed++
			perReplica[i%len(h.reps)]++
		default:
			h.rec.violation("rate-limit probe: login answered %d", c)
		}
	}
	want := loginAccountLimit
	if h.c.rd == nil { // each replica counts on its own
		want = 0
		for i := range h.reps {
			want += min(loginAccountLimit, (n+len(h.reps)-1-i)/len(h.reps))
		}
	}
	if passed != want {
		h.rec.violation("rate limit not exact: %d of %d logins passed the per-account limit, want %d", passed, n, want)
	}
	return passed, limited, nil
}
