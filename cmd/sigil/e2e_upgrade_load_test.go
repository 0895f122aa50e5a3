package main

// The workload of TestRollingUpgrade: every lifecycle crosses between the
// replicas it is routed to, and every answer is checked.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// revocationBound is how soon API.md §4 says every replica refuses an
// ended session or a revoked key.
const revocationBound = time.Second

// upgradeCounts is what the workload did, for the test's log.
type upgradeCounts struct {
	registrations, signups, logins, refreshes, crossChecks atomic.Int64
	keys, keyUses, revocations, logouts                    atomic.Int64
	maxRefusal                                             atomic.Int64 // ns, the slowest revocation seen by the other replica
}

func (c *upgradeCounts) String() string {
	return fmt.Sprintf("%d registrations, %d password signups, %d logins, %d refreshes, %d cross-replica token checks, "+
		"%d API keys created and %d used, %d revocations and %d logouts seen refused by the other replica (slowest %v)",
		c.registrations.Load(), c.signups.Load(), c.logins.Load(), c.refreshes.Load(), c.crossChecks.Load(),
		c.keys.Load(), c.keyUses.Load(), c.revocations.Load(), c.logouts.Load(), time.Duration(c.maxRefusal.Load()))
}

// upgradeLoad runs workers whose lifecycles go to the replicas of the
// current route. Changing the route waits for the lifecycles in flight,
// so a replica taken out of it gets no more requests (as a load balancer
// draining it would).
type upgradeLoad struct {
	t    *testing.T
	join string
	n    upgradeCounts

	gate    sync.RWMutex // held shared by each lifecycle, exclusively by route
	targets []*replica
	next    atomic.Uint64 // round robin over targets

	stopped atomic.Bool
	wg      sync.WaitGroup
	mu      sync.Mutex
	done    []*account // acknowledged accounts, for the ledger at the end
}

// route sends the lifecycles that start from now on to rs.
func (l *upgradeLoad) route(rs ...*replica) {
	l.gate.Lock()
	defer l.gate.Unlock()
	l.targets = rs
}

// start runs n workers until stop.
func (l *upgradeLoad) start(n int, seed uint64) {
	for i := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		l.wg.Go(func() {
			for j := 0; !l.stopped.Load(); j++ {
				l.lifecycle(rng, fmt.Sprintf("upg-%d-%d", i, j))
			}
		})
	}
}

// stop ends the workers and returns the acknowledged accounts.
func (l *upgradeLoad) stop() []*account {
	l.stopped.Store(true)
	l.wg.Wait()
	return l.done
}

// pair picks the replica a lifecycle starts on and "the other" one; with
// one replica routed, both are it.
func (l *upgradeLoad) pair() (one, other *replica) {
	i := l.next.Add(1)
	return l.targets[i%uint64(len(l.targets))], l.targets[(i+1)%uint64(len(l.targets))]
}

// lifecycle signs an account up on one replica and takes it through every
// kind of write, each checked on the other replica. It stops at the first
// failure (already reported).
func (l *upgradeLoad) lifecycle(rng *rand.Rand, name string) {
	l.gate.RLock()
	defer l.gate.RUnlock()
	ctx := context.Background()
	x, y := l.pair()
	a := &account{}
	var err error
	if rng.IntN(4) == 0 {
		a.email, a.password = name+"@upgrade.test", "upgrade-password-"+name
		a.tokens, err = x.c.Signup(ctx, a.email, a.password, l.join)
		l.n.signups.Add(1)
	} else {
		a.user = name
		a.key, _ = client.GenerateKey()
		a.tokens, err = x.c.Register(ctx, a.user, l.join, a.key)
		l.n.registrations.Add(1)
	}
	if !l.ok(x, "sign-up of "+name, err) {
		return
	}
	l.mu.Lock()
	l.done = append(l.done, a)
	l.mu.Unlock()
	if !l.crossCheck(y, a.tokens.AccessToken, "an access token from "+x.name) {
		return
	}
	// A second session, started on the other replica and rotated twice,
	// once on each.
	var t2 *client.Tokens
	if a.key != nil {
		t2, err = y.c.LoginKeyPair(ctx, a.user, a.key)
	} else {
		t2, err = y.c.LoginPassword(ctx, a.email, a.password)
	}
	l.n.logins.Add(1)
	if !l.ok(y, "login of "+name, err) || !l.crossCheck(x, t2.AccessToken, "an access token from "+y.name) {
		return
	}
	for _, r := range []*replica{x, y} {
		t2, err = r.c.Refresh(ctx, t2.RefreshToken)
		l.n.refreshes.Add(1)
		if !l.ok(r, "refresh of a token rotated elsewhere", err) {
			return
		}
	}
	if !l.crossCheck(x, t2.AccessToken, "a refreshed access token from "+y.name) {
		return
	}
	l.keyAndLogout(rng, a, x, y)
}

// keyAndLogout creates an API key on x and uses it on y; then, each with
// probability ½, revokes it on y and logs the first session out on x,
// each checked refused by the other replica within revocationBound.
func (l *upgradeLoad) keyAndLogout(rng *rand.Rand, a *account, x, y *replica) {
	ctx := context.Background()
	k, err := x.c.CreateAPIKey(ctx, a.tokens.AccessToken, client.APIKeyRequest{Name: "upgrade"})
	if !l.ok(x, "API key creation", err) {
		return
	}
	a.apiKey = k
	l.n.keys.Add(1)
	if _, err := y.c.Whoami(ctx, k.Key); !l.ok(y, "an API key made on "+x.name, err) {
		return
	}
	l.n.keyUses.Add(1)
	if rng.IntN(2) == 0 {
		a.revoke = unknown
		if !l.ok(y, "API key revocation", y.c.RevokeAPIKey(ctx, a.tokens.AccessToken, k.ID)) {
			return
		}
		a.revoke = acked
		if !l.refused(x, k.Key, "an API key revoked on "+y.name) {
			return
		}
		l.n.revocations.Add(1)
	}
	if rng.IntN(2) == 0 {
		a.logout = unknown
		if !l.ok(x, "logout", x.c.Logout(ctx, a.tokens.RefreshToken, false)) {
			return
		}
		a.logout = acked
		if !l.refused(y, a.tokens.AccessToken, "a session logged out on "+x.name) {
			return
		}
		if _, err := y.c.Refresh(ctx, a.tokens.RefreshToken); status(err) != http.StatusUnauthorized {
			l.t.Errorf("%s: refresh of a session logged out on %s = %v, want 401", y.name, x.name, err)
			return
		}
		l.n.logouts.Add(1)
	}
}

// ok reports whether err is nil, and reports it otherwise: nothing in
// this workload may be refused or fail.
func (l *upgradeLoad) ok(r *replica, what string, err error) bool {
	if err != nil {
		l.t.Errorf("%s (%s): %s: %v", r.name, r.phase(), what, err)
		return false
	}
	return true
}

// crossCheck checks that r accepts an access token another replica made.
func (l *upgradeLoad) crossCheck(r *replica, access, what string) bool {
	_, err := r.c.Whoami(context.Background(), access)
	l.n.crossChecks.Add(1)
	return l.ok(r, what, err)
}

// refused waits until r refuses cred with 401, at most revocationBound.
func (l *upgradeLoad) refused(r *replica, cred, what string) bool {
	start := time.Now()
	for {
		_, err := r.c.Whoami(context.Background(), cred)
		if status(err) == http.StatusUnauthorized {
			d := int64(time.Since(start))
			for m := l.n.maxRefusal.Load(); d > m && !l.n.maxRefusal.CompareAndSwap(m, d); m = l.n.maxRefusal.Load() {
			}
			return true
		}
		if err != nil {
			return l.ok(r, what, err)
		}
		if time.Since(start) > revocationBound {
			l.t.Errorf("%s (%s) still accepts %s after %v", r.name, r.phase(), what, time.Since(start))
			return false
		}
		time.Sleep(10 * time.Millisecond) // polling another process, not expiry
	}
}
