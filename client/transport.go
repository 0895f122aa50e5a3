package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// DefaultMaxWait is the longest Retry-After a Transport waits out by
// default: a Sigil rate-limit window is one minute, so every Sigil 429
// fits.
const DefaultMaxWait = 60 * time.Second

// Transport is an http.RoundTripper that sends every request with
// "Authorization: Bearer <access token>" from Source (replacing any
// Authorization the request had), for calling Sigil or an API protected
// by Sigil:
//
//	hc := &http.Client{Transport: &client.Transport{Source: ts}}
//
// Retries, each only when the request body can be sent again (no body,
// or GetBody set — http.NewRequest sets it for bytes and strings
// readers); otherwise the answer is returned as it is:
//   - 401: the token is refreshed once, whatever its expiry says, and the
//     request retried once. If the refresh fails, its error is returned
//     (errors.Is(err, ErrSessionEnded) once the session is over); a
//     second 401 is returned as the answer. Never more than one refresh
//     per request.
//   - 429 with a Retry-After of at most MaxWait that ends before the
//     request's context does: the Transport waits that long and retries,
//     RateLimitRetries times. Otherwise the 429 is returned at once, so
//     the caller can read Retry-After itself.
//
// A failure to get a token (including a 429 on the refresh itself, an
// *Error with RetryAfter) is returned as the RoundTrip error.
//
// Send requests only to servers that may see the token: the Transport
// adds it to whatever host the request names.
type Transport struct {
	// Source supplies and refreshes the token. Required.
	Source *TokenSource
	// Base sends the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// MaxWait bounds one Retry-After wait; 0 means DefaultMaxWait.
	MaxWait time.Duration
	// RateLimitRetries is how many 429s in a row are waited out; 0 means
	// one, a negative value none.
	RateLimitRetries int
	// Sleep waits d or until ctx ends, returning ctx.Err() then; nil
	// means a real timer. Tests inject their clock here.
	Sleep func(ctx context.Context, d time.Duration) error
}

// retryState counts what one RoundTrip has retried so far.
type retryState struct {
	refreshed bool
	waits     int
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Source == nil {
		closeBody(req)
		return nil, errors.New("sigil client: Transport.Source is nil")
	}
	tok, err := t.Source.TokenContext(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, tok, false)
	if err != nil || !replayable(req) {
		return resp, err
	}
	var st retryState
	for {
		next, err := t.retry(req.Context(), resp, tok, &st)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return resp, nil
		}
		tok = next
		if resp, err = t.send(req, tok, true); err != nil {
			return nil, err
		}
	}
}

// retry decides what follows resp: a token to send the request again
// with (resp is then drained and closed), or nil to hand resp over.
func (t *Transport) retry(ctx context.Context, resp *http.Response, tok *oauth2.Token, st *retryState) (*oauth2.Token, error) {
	switch {
	case resp.StatusCode == http.StatusUnauthorized && !st.refreshed:
		st.refreshed = true
		drain(resp)
		return t.Source.get(ctx, tok.AccessToken)
	case resp.StatusCode == http.StatusTooManyRequests && st.waits < t.rateLimitRetries():
		d := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !t.mayWait(ctx, d) {
			return nil, nil
		}
		st.waits++
		drain(resp)
		if err := t.sleep(ctx, d); err != nil {
			return nil, err
		}
		return t.Source.TokenContext(ctx) // it may have expired meanwhile
	}
	return nil, nil
}

// send sends a clone of req with tok; replay takes a fresh body from
// GetBody, since the previous attempt consumed and closed the original.
func (t *Transport) send(req *http.Request, tok *oauth2.Token, replay bool) (*http.Response, error) {
	r := req.Clone(req.Context())
	if replay && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = body
	}
	tok.SetAuthHeader(r)
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// mayWait reports whether a Retry-After of d is worth waiting out: a
// known, positive delay within MaxWait that ends before ctx does (waiting
// for a retry the deadline would cut off only delays the 429).
func (t *Transport) mayWait(ctx context.Context, d time.Duration) bool {
	maxWait := t.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if d <= 0 || d > maxWait {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

func (t *Transport) rateLimitRetries() int {
	switch {
	case t.RateLimitRetries == 0:
		return 1
	case t.RateLimitRetries < 0:
		return 0
	}
	return t.RateLimitRetries
}

func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	return sleepContext(ctx, d)
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replayable reports whether req's body can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// closeBody honours the RoundTripper contract (the body is always
// closed) on the paths that never reach Base.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// drain reads a little of a response being discarded so that its
// connection can be reused, then closes it.
func drain(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}
