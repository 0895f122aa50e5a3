package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// ops are the workload's operations with their weights (per 1,000).
// Password logins are rare: each is one argon2id hash (≈ 25 ms of CPU),
// which would otherwise be all the two cores do.
var ops = []struct {
	name   string
	weight int
	run    func(w *worker, ctx context.Context) error
}{
	{"authorize-token", 300, (*worker).authorizeToken},
	{"authorize-key", 300, (*worker).authorizeKey},
	{"refresh", 150, (*worker).refresh},
	{"login", 80, (*worker).login},
	{"register", 40, (*worker).register},
	{"create-key", 40, (*worker).createKey},
	{"revoke-key", 30, (*worker).revokeKey},
	{"logout", 30, (*worker).logout},
	{"refresh-race", 25, (*worker).refreshRace},
	{"password-login", 5, (*worker).passwordLogin},
}

// maxLogins keeps every user under its per-account login limit (15 a
// minute) even counting the final check's login.
const maxLogins = 10

// worker is one client: its own users, session and keys, so workers
// never contend on one refresh chain.
type worker struct {
	h         *harness
	rng       *rand.Rand
	users     []*account
	tok       loadkit.Tokens
	keys      []loadkit.APIKey
	email, pw string
	pwLogins  int
}

type account struct {
	u      loadkit.User
	logins int
}

// setup gives w a key-pair user with a session, an API key and a
// password user, through the balancer.
func (w *worker) setup(ctx context.Context) error {
	if err := w.register(ctx); err != nil {
		return err
	}
	if err := w.createKey(ctx); err != nil {
		return err
	}
	return w.signup(ctx)
}

// loop runs random operations until ctx ends, recording each.
func (w *worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		n, i := w.rng.IntN(1000), 0
		for n >= ops[i].weight {
			n -= ops[i].weight
			i++
		}
		t0 := time.Now()
		err := ops[i].run(w, ctx)
		if ctx.Err() != nil {
			return // cut short by the end of the run, not an answer
		}
		w.h.rec.done(ops[i].name, t0, err)
		if err != nil && isOutage(err) {
			time.Sleep(20 * time.Millisecond) // a client backs off in an outage
		}
		if err != nil && w.tok.RefreshToken == "" {
			w.recover(ctx)
		}
	}
}

// recover starts a new session after a failure left w without one.
func (w *worker) recover(ctx context.Context) {
	for ctx.Err() == nil {
		if w.login(ctx) == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // an outage: do not spin
	}
}

func (w *worker) authorizeToken(ctx context.Context) error {
	return w.h.lb.Get(ctx, "/v1/authorize", "Authorization", "Bearer "+w.tok.AccessToken)
}

func (w *worker) authorizeKey(ctx context.Context) error {
	return w.h.lb.Get(ctx, "/v1/authorize", "X-API-KEY", w.keys[w.rng.IntN(len(w.keys))].Key)
}

func (w *worker) refresh(ctx context.Context) error {
	t, err := w.h.lb.Refresh(ctx, w.tok.RefreshToken)
	if err == nil {
		w.tok = t
	} else if !isOutage(err) {
		w.tok = loadkit.Tokens{}
	}
	return err
}

// login logs in one of w's users that is under maxLogins, or registers
// a new one.
func (w *worker) login(ctx context.Context) error {
	for _, a := range w.users {
		if a.logins < maxLogins {
			a.logins++
			t, err := w.h.lb.Login(ctx, a.u)
			if err == nil {
				w.tok = t
			}
			return err
		}
	}
	return w.register(ctx)
}

// register makes a new key-pair user; a 201 goes in the ledger.
func (w *worker) register(ctx context.Context) error {
	u, t, err := w.h.lb.Register(ctx, w.h.fx.Join)
	if err != nil {
		return err
	}
	w.users = append(w.users, &account{u: u, logins: 1})
	w.tok = t
	w.h.led.add(&w.h.led.users, u.ID, u)
	return nil
}

func (w *worker) createKey(ctx context.Context) error {
	k, err := w.h.lb.CreateAPIKey(ctx, w.tok.AccessToken)
	if err != nil {
		return err
	}
	w.keys = append(w.keys, k)
	w.h.led.add(&w.h.led.keys, k.ID, k)
	return nil
}

// revokeKey deletes one of w's keys (keeping one) and checks that every
// replica refuses it within 1 s.
func (w *worker) revokeKey(ctx context.Context) error {
	if len(w.keys) < 2 {
		return w.createKey(ctx)
	}
	i := w.rng.IntN(len(w.keys))
	k := w.keys[i]
	err := w.h.lb.Do(ctx, http.MethodDelete, "/v1/api-keys/"+k.ID, nil, w.h.c.admin, http.StatusNoContent, nil)
	if err != nil {
		if isOutage(err) { // it may or may not have happened: out of the ledger
			w.keys = append(w.keys[:i], w.keys[i+1:]...)
			w.h.led.forget(k.ID)
		}
		return err
	}
	w.keys = append(w.keys[:i], w.keys[i+1:]...)
	w.h.led.add(&w.h.led.revoked, k.ID, k)
	go w.h.checkRefused("revoked key "+k.ID, time.Now(), "X-API-KEY", k.Key)
	return nil
}

// logout ends w's session and checks that every replica refuses its
// access token within 1 s; w then logs in again.
func (w *worker) logout(ctx context.Context) error {
	at := w.tok.AccessToken
	err := w.h.lb.Do(ctx, http.MethodPost, "/v1/auth/logout", nil, "Bearer "+at, http.StatusNoContent, nil)
	if err != nil {
		if isOutage(err) {
			// No answer: the session may have ended (a replica killed
			// after its commit), so w no longer counts on it and the
			// loop signs in again.
			w.tok = loadkit.Tokens{}
		}
		return err
	}
	w.tok = loadkit.Tokens{}
	w.h.led.add(&w.h.led.loggedOut, at, at)
	go w.h.checkRefused("logged-out session", time.Now(), "Authorization", "Bearer "+at)
	return w.login(ctx)
}

// passwordLogin logs w's password user in; after maxLogins it signs a
// new one up, so no account meets its per-account limit (15 a minute).
func (w *worker) passwordLogin(ctx context.Context) error {
	if w.pwLogins >= maxLogins || w.email == "" {
		if err := w.signup(ctx); err != nil {
			return err
		}
	}
	w.pwLogins++
	return w.h.lb.PasswordLogin(ctx, w.email, w.pw)
}

// signup makes w a new password user. w takes the account only once the
// sign-up is answered 201: a refused or unanswered one (inside a fault
// window) left w logging in to an account that was never made, which the
// checks then took for a violation after the window; now w signs up
// again at its next password login.
func (w *worker) signup(ctx context.Context) error {
	email, pw := fmt.Sprintf("c%d@cluster.example.com", loadkit.Seq()), "correct horse battery staple"
	if err := w.h.lb.Signup(ctx, email, pw, w.h.fx.Join); err != nil {
		return err
	}
	w.email, w.pw, w.pwLogins = email, pw, 0
	return nil
}

// ledger is everything the cluster acknowledged (201/204), checked on
// every replica at the end: registered users log in, created keys work,
// revoked keys and ended sessions stay refused.
type ledger struct {
	mu                              sync.Mutex
	users, keys, revoked, loggedOut map[string]any
}

func newLedger() *ledger {
	return &ledger{users: map[string]any{}, keys: map[string]any{}, revoked: map[string]any{}, loggedOut: map[string]any{}}
}

// forget drops a key whose revocation got no answer: either outcome is
// correct, so the final check must not expect one.
func (l *ledger) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, id)
}

func (l *ledger) add(m *map[string]any, id string, v any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	(*m)[id] = v
}
