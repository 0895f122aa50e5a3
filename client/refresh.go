package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// The refresh machinery of TokenSource. Invariants, all under s.mu:
//   - at most one flight exists; only its goroutine (run) changes tok,
//     expiry, refreshAt and cause, and it clears s.flight in the same
//     critical section in which it publishes, so a caller either sees the
//     old state with the flight to wait on, or the new state;
//   - a refresh token the server refused is dropped at once, never sent
//     again (sending it again would only be refused again).

// get returns the current token while it is usable, and otherwise joins
// the flight in progress or starts one. stale, when not empty, is an
// access token a server has just refused: if it is still the current
// token it is replaced whatever its expiry says (Transport's 401 path);
// if it has been replaced already, the replacement is returned.
func (s *TokenSource) get(ctx context.Context, stale string) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	f := s.flight
	if f == nil {
		if t := s.usable(stale); t != nil {
			s.mu.Unlock()
			return t, nil
		}
		f = &flight{done: make(chan struct{})}
		s.flight = f
		// Detached from ctx: once a refresh is sent the server rotates
		// the refresh token, so its answer must be kept even if this
		// caller gives up, or the session would be lost with it.
		go s.run(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		cp := *f.tok // each caller gets its own copy to keep or change
		return &cp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// usable returns the current access token as an oauth2.Token, or nil if
// there is none, it is due for replacement, or it is stale.
func (s *TokenSource) usable(stale string) *oauth2.Token {
	if s.tok == nil || s.tok.AccessToken == "" || !s.cfg.now().Before(s.refreshAt) {
		return nil
	}
	if stale != "" && s.tok.AccessToken == stale {
		return nil
	}
	return s.oauthToken()
}

func (s *TokenSource) oauthToken() *oauth2.Token {
	typ := s.tok.TokenType
	if typ == "" {
		typ = "Bearer"
	}
	return &oauth2.Token{AccessToken: s.tok.AccessToken, TokenType: typ, Expiry: s.expiry}
}

// run is one flight: it gets new tokens, hands them to OnRefresh, then
// publishes them (or the error) to every waiter at once.
func (s *TokenSource) run(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	s.mu.Lock()
	prev, prevExpiry, cause := s.tok, s.expiry, s.cause
	s.mu.Unlock()

	t, refused, err := s.acquire(ctx, prev, cause)
	if err == nil && t.AccessToken == "" {
		err = errors.New("sigil client: server returned no access_token")
	}
	var expiry, refreshAt time.Time
	if err == nil {
		expiry, refreshAt = s.schedule(prev, prevExpiry, t, s.cfg.now())
		if t.AccessTokenExpires == 0 { // API-key exchanges say only expires_in
			t.AccessTokenExpires = expiry.UnixMilli()
		}
		if s.cfg.onRefresh != nil {
			cp := *t
			s.cfg.onRefresh(&cp)
		}
	}

	s.mu.Lock()
	switch {
	case err == nil:
		s.tok, s.expiry, s.refreshAt, s.cause = t, expiry, refreshAt, nil
		f.tok = s.oauthToken()
	case refused != nil: // and logging in again failed, or was impossible
		s.tok, s.cause = nil, refused
	}
	f.err = err
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// acquire gets new tokens: by refresh while prev holds a refresh token
// that has not expired, else by logging in. refused is the server's 401
// to the refresh token, if that happened. Other refresh failures
// (network, 429, 5xx) are returned as they are and the refresh token is
// kept: within the server's grace window, presenting it again after a
// lost answer yields the same new pair.
func (s *TokenSource) acquire(ctx context.Context, prev *Tokens, cause error) (t *Tokens, refused, err error) {
	if prev != nil && prev.RefreshToken != "" &&
		(prev.RefreshTokenExpires == 0 || s.cfg.now().Before(prev.RefreshExpiry())) {
		next, rerr := s.c.Refresh(ctx, prev.RefreshToken)
		var e *Error
		if rerr == nil || !errors.As(rerr, &e) || e.Status != http.StatusUnauthorized {
			return next, nil, rerr
		}
		refused, cause = rerr, rerr
	}
	if s.login == nil {
		if cause != nil {
			return nil, refused, fmt.Errorf("%w: %w", ErrSessionEnded, cause)
		}
		return nil, refused, ErrSessionEnded
	}
	t, err = s.login(ctx)
	return t, refused, err
}

// expiresInRounding is how much later than the token's real expiry a
// computed one may lie: the server rounds expires_in up to whole seconds.
const expiresInRounding = time.Second

// schedule returns when t's access token expires and when to replace it;
// prev and prevExpiry are the tokens it replaces. A fresh answer's
// expires_in counts from now, which holds whatever the difference between
// our clock and the server's; the absolute expiry is the fallback.
func (s *TokenSource) schedule(prev *Tokens, prevExpiry time.Time, t *Tokens, now time.Time) (expiry, refreshAt time.Time) {
	expiry = t.AccessExpiry()
	if t.ExpiresIn > 0 {
		expiry = now.Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	refreshAt = expiry.Add(-s.margin(t.ExpiresIn))
	if prev != nil && !expiry.After(prevExpiry.Add(expiresInRounding)) {
		// The server could not give the token a longer life: an API-key
		// exchange returns the live token again, and a session near its
		// maximum age caps every token at its end. Asking again before
		// the token expires would only get the same deadline, once per
		// call, so keep it until then.
		refreshAt = expiry
	}
	return expiry, refreshAt
}
