package main

// The workload of TestCrashSafetySQLite and the ledger of what the server
// acknowledged, checked after every restart.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// step is what the client knows of one write.
type step uint8

const (
	notTried step = iota
	unknown       // sent, no answer before the kill: either outcome is right
	acked         // a 2xx was read
)

// account is one identity of the workload and what was acknowledged for
// it. Only accounts whose registration or signup was acknowledged are
// kept.
type account struct {
	user     string             // key-pair accounts
	key      ed25519.PrivateKey // nil for password accounts
	email    string             // password accounts
	password string
	tokens   *client.Tokens    // the session the registration started
	apiKey   *client.NewAPIKey // nil unless its creation was acknowledged
	revoke   step              // of apiKey
	logout   step              // of tokens' session
}

func (a *account) String() string {
	if a.key != nil {
		return "user " + a.user
	}
	return "password account " + a.email
}

// tally counts the acknowledged writes that were checked.
type tally struct{ accounts, keys, revocations, logouts atomic.Int64 }

func (c *tally) String() string {
	return fmt.Sprintf("%d accounts (registrations and signups), %d API keys, %d revocations, %d logouts",
		c.accounts.Load(), c.keys.Load(), c.revocations.Load(), c.logouts.Load())
}

// ledger holds every acknowledged account of the test.
type ledger struct {
	t          *testing.T
	rng        *rand.Rand
	wsID, join string
	runs       int
	accounts   []*account
	tally      tally
}

// load runs crashWorkers writers against p for d, then calls kill and
// returns the accounts this run acknowledged once every writer has seen
// the process die.
func (l *ledger) load(p *crashProc, d time.Duration, kill func()) []*account {
	l.runs++
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	w := &writer{t: l.t, c: client.New(p.url, client.WithHTTPClient(hc)), join: l.join}
	var wg sync.WaitGroup
	for i := range crashWorkers {
		rng := rand.New(rand.NewPCG(l.rng.Uint64(), uint64(i)))
		prefix := fmt.Sprintf("crash-%d-%d", l.runs, i)
		wg.Go(func() { w.loop(rng, prefix) })
	}
	time.Sleep(d) // the random moment of the kill, not a wait for anything
	w.killed.Store(true)
	kill()
	wg.Wait()
	l.accounts = append(l.accounts, w.done...)
	return w.done
}

// writer is the workload of one run: each goroutine creates accounts one
// after another and takes each through its writes.
type writer struct {
	t      *testing.T
	c      *client.Client
	join   string
	killed atomic.Bool // set just before the kill

	mu   sync.Mutex
	done []*account
}

func (w *writer) loop(rng *rand.Rand, prefix string) {
	for n := 0; !w.killed.Load(); n++ {
		w.lifecycle(rng, fmt.Sprintf("%s-%d", prefix, n))
	}
}

// lifecycle registers (or, one time in eight, signs up with a password),
// creates an API key, and then revokes the key and logs out, each with
// probability ½, stopping at the first write without an answer.
func (w *writer) lifecycle(rng *rand.Rand, name string) {
	ctx := context.Background()
	a := &account{}
	var err error
	if rng.IntN(8) == 0 {
		a.email, a.password = name+"@crash.test", "crash-password-"+name
		a.tokens, err = w.c.Signup(ctx, a.email, a.password, w.join)
	} else {
		a.user = name
		a.key, _ = client.GenerateKey()
		a.tokens, err = w.c.Register(ctx, a.user, w.join, a.key)
	}
	if !w.answered(err) {
		return
	}
	w.mu.Lock()
	w.done = append(w.done, a) // read only after every writer has ended
	w.mu.Unlock()
	k, err := w.c.CreateAPIKey(ctx, a.tokens.AccessToken, client.APIKeyRequest{Name: "crash"})
	if !w.answered(err) {
		return
	}
	a.apiKey = k
	if rng.IntN(2) == 0 {
		a.revoke = unknown
		if !w.answered(w.c.RevokeAPIKey(ctx, a.tokens.AccessToken, k.ID)) {
			return
		}
		a.revoke = acked
	}
	if rng.IntN(2) == 0 {
		a.logout = unknown
		if !w.answered(w.c.Logout(ctx, a.tokens.RefreshToken, false)) {
			return
		}
		a.logout = acked
	}
}

// answered reports whether a write was acknowledged. Refusals are never
// right in this workload, and neither is a failed connection before the
// kill.
func (w *writer) answered(err error) bool {
	var ce *client.Error
	switch {
	case err == nil:
		return true
	case errors.As(err, &ce):
		w.t.Errorf("during the load: %v", err)
	case !w.killed.Load():
		w.t.Errorf("request failed before the kill: %v", err)
	}
	return false
}

// verify checks accs against the server at url, four at a time, and
// counts the checked writes into c when it is not nil.
func (l *ledger) verify(url string, accs []*account, c *tally) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	cl := client.New(url, client.WithHTTPClient(hc))
	next := make(chan *account)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for a := range next {
				l.check(cl, a, c)
			}
		})
	}
	for _, a := range accs {
		next <- a
	}
	close(next)
	wg.Wait()
}

// check holds one account to what was acknowledged for it.
func (l *ledger) check(c *client.Client, a *account, n *tally) {
	ctx := context.Background()
	var err error
	if a.key != nil {
		_, err = c.LoginKeyPair(ctx, a.user, a.key)
	} else {
		_, err = c.LoginPassword(ctx, a.email, a.password)
	}
	if err != nil {
		l.t.Errorf("%s: acknowledged, but its login fails after the restart: %v", a, err)
	}
	switch a.logout {
	case notTried:
		if _, err := c.Whoami(ctx, a.tokens.AccessToken); err != nil {
			l.t.Errorf("%s: its live session is refused after the restart: %v", a, err)
		}
	case acked:
		_, werr := c.Whoami(ctx, a.tokens.AccessToken)
		_, rerr := c.Refresh(ctx, a.tokens.RefreshToken)
		if status(werr) != http.StatusUnauthorized || status(rerr) != http.StatusUnauthorized {
			l.t.Errorf("%s: logged out, but after the restart whoami = %v and refresh = %v, want 401s", a, werr, rerr)
		}
	}
	if a.apiKey != nil {
		_, err := c.Whoami(ctx, a.apiKey.Key)
		switch {
		case a.revoke == notTried && err != nil:
			l.t.Errorf("%s: its API key %s is refused after the restart: %v", a, a.apiKey.ID, err)
		case a.revoke == acked && status(err) != http.StatusUnauthorized:
			l.t.Errorf("%s: its revoked API key %s answers %v after the restart, want 401", a, a.apiKey.ID, err)
		}
	}
	if n != nil {
		n.add(a)
	}
}

// add counts the acknowledged writes of a.
func (n *tally) add(a *account) {
	n.accounts.Add(1)
	if a.apiKey != nil {
		n.keys.Add(1)
	}
	if a.revoke == acked {
		n.revocations.Add(1)
	}
	if a.logout == acked {
		n.logouts.Add(1)
	}
}

// status is err's HTTP status, 0 if it is not an answer (or nil).
func status(err error) int {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Status
	}
	return 0
}

// checkListed checks that the workspace's key list (with the admin
// token) holds every acknowledged key, revoked exactly when the
// revocation was acknowledged or never tried.
func (l *ledger) checkListed(url string) {
	keys, err := client.New(url).ListAPIKeys(context.Background(), e2eAdminToken, l.wsID)
	if err != nil {
		l.t.Fatalf("listing the workspace's API keys: %v", err)
	}
	listed := make(map[string]client.APIKey, len(keys))
	for _, k := range keys {
		listed[k.ID] = k
	}
	for _, a := range l.accounts {
		if a.apiKey == nil {
			continue
		}
		k, ok := listed[a.apiKey.ID]
		switch {
		case !ok:
			l.t.Errorf("%s: API key %s is not listed", a, a.apiKey.ID)
		case a.revoke == acked && k.RevokedAt == nil:
			l.t.Errorf("%s: API key %s is listed as not revoked", a, k.ID)
		case a.revoke == notTried && k.RevokedAt != nil:
			l.t.Errorf("%s: API key %s is listed as revoked", a, k.ID)
		}
	}
}
