package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Revocation is one event of the revocation feed (GET /v1/revocations).
type Revocation struct {
	SessionID string // "ses_…": the session ended
	APIKeyID  string // "ak_…": the key was revoked or rotated (and its sessions ended)
	JWTKeyID  string // a JWT key was deleted or its scopes changed
	// Reset: events may have been missed (the first connection, or a
	// cursor the server could not resume): drop everything cached.
	Reset bool
}

// FollowConfig configures Follow.
type FollowConfig struct {
	URL        string       // the Sigil server's base URL (its issuer, or the address it is reached at)
	Credential string       // an API key with tokens:introspect, or the admin token
	HTTPClient *http.Client // default: a new client; its Timeout should be 0
	Logger     *slog.Logger // default: slog.Default()
}

// Follower keeps the revocation feed open for a cache of one's own (such
// as `sigil proxy`'s), without a Verifier. Close it when done.
type Follower struct {
	stop context.CancelFunc
	done chan struct{}
}

// Follow connects to the revocation feed and calls on for every event,
// from one goroutine, until Close. It returns once the first connection
// is open (ctx bounds only that), or with the error that refused it (a
// credential without tokens:introspect gets 403). After a drop it
// reconnects with backoff and resumes from its cursor; when it cannot,
// on gets a Reset. While disconnected, revocations are not heard of:
// keep a short cache lifetime as the bound.
func Follow(ctx context.Context, cfg FollowConfig, on func(Revocation)) (*Follower, error) {
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if !strings.HasPrefix(cfg.URL, "https://") && !strings.HasPrefix(cfg.URL, "http://") || cfg.Credential == "" {
		return nil, errors.New("verify: bad FollowConfig: URL must be an http(s) URL and Credential is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &feed{url: cfg.URL + feedPath, credential: cfg.Credential, http: cfg.HTTPClient, log: cfg.Logger,
		on: on, setUp: func(bool) {}}
	bg, stop, body, err := f.start(ctx)
	if err != nil {
		return nil, err
	}
	fl := &Follower{stop: stop, done: make(chan struct{})}
	go func() { defer close(fl.done); f.run(bg, body) }()
	return fl, nil
}

// Close ends the feed and waits for its goroutine.
func (fl *Follower) Close() {
	fl.stop()
	<-fl.done
}

// start opens the first stream. The stream must outlive ctx, which
// bounds only the start: it runs under the returned context until stop.
func (f *feed) start(ctx context.Context) (context.Context, context.CancelFunc, feedBody, error) {
	bg, stop := context.WithCancel(context.Background())
	unhook := context.AfterFunc(ctx, stop)
	body, err := f.connect(bg)
	if !unhook() && err == nil {
		body.Close()
		err = ctx.Err()
	}
	if err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("verify: revocation feed: %w", err)
	}
	return bg, stop, body, nil
}
