package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/internal/gateway"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/verify"
)

// proxyFlags are `sigil proxy`'s flags; a non-empty one overrides the file.
type proxyFlags struct {
	config, upstream, listen, sigilURL string
}

func newProxyCmd() *cobra.Command {
	var f proxyFlags
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Run a reverse proxy that authenticates every request with Sigil",
		Long: `Run a reverse proxy in front of an HTTP API (API.md §7). Each request's route
rule (config file "routes", Go ServeMux patterns) says whether it is public or which
scopes it needs; Sigil's forward-auth (GET /v1/authorize) checks the credential, the
proxy applies its per-credential tier limits and forwards the request with the
identity in X-Sigil-Subject/Workspace/Scopes/Kind/Session headers.

With feed_credential (or SIGIL_FEED_CREDENTIAL: an API key with the scope
tokens:introspect, or the admin token) the proxy follows Sigil's revocation feed
and drops a revoked session's or key's cached answer at once; without it, its
1 s cache is the bound.

Settings come from --config (YAML; see internal/gateway.Config), then the flags
override; the Sigil URL falls back to SIGIL_URL, then ` + gateway.DefaultSigilURL + `.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadProxyConfig(f, os.Getenv)
			if err != nil {
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			return runProxy(ctx, cfg, log)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML configuration file (routes, tiers, redis_url, …)")
	fl.StringVar(&f.upstream, "upstream", "", "URL of the API to protect (overrides the file's upstream)")
	fl.StringVar(&f.listen, "listen", "", "listen address (default "+gateway.DefaultListen+")")
	fl.StringVar(&f.sigilURL, "sigil-url", "", "URL of the Sigil server (default: the file's sigil_url, SIGIL_URL, "+gateway.DefaultSigilURL+")")
	return cmd
}

// loadProxyConfig reads the file, if any, and applies flags over it:
// flag > file > SIGIL_URL (sigil_url only) > default.
func loadProxyConfig(f proxyFlags, getenv func(string) string) (gateway.Config, error) {
	var c gateway.Config
	if f.config != "" {
		var err error
		if c, err = gateway.LoadConfig(f.config); err != nil {
			return gateway.Config{}, err
		}
	}
	c.Upstream = cmp.Or(f.upstream, c.Upstream)
	c.Listen = cmp.Or(f.listen, c.Listen, gateway.DefaultListen)
	c.SigilURL = cmp.Or(f.sigilURL, c.SigilURL, getenv("SIGIL_URL"), gateway.DefaultSigilURL)
	c.FeedCredential = cmp.Or(c.FeedCredential, getenv("SIGIL_FEED_CREDENTIAL")) // a secret: no flag
	if _, err := c.Options(); err != nil {                                       // report config mistakes as usage errors
		return gateway.Config{}, err
	}
	return c, nil
}

// runProxy serves until ctx ends, then drains for up to 10 s.
func runProxy(ctx context.Context, cfg gateway.Config, log *slog.Logger) error {
	o, err := cfg.Options()
	if err != nil {
		return usageError{err}
	}
	o.Log = log
	if cfg.RedisURL != "" {
		rc, err := ratelimit.NewRedisClient(cfg.RedisURL)
		if err != nil {
			return usageError{err}
		}
		defer rc.Close()
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rc.Ping(pctx).Err(); err != nil {
			return fmt.Errorf("redis_url: %w", err)
		}
		o.Limiter = ratelimit.NewRedis(rc, "sigil:proxy:rl:", time.Now)
	}
	gw, err := gateway.New(o)
	if err != nil {
		return err
	}
	if cfg.FeedCredential == "" {
		log.Warn("no feed_credential: the proxy does not follow Sigil's revocation feed; " +
			"a logout or revocation reaches it when its cached answer expires (at most 1 s)")
	} else {
		fl, err := followRevocations(ctx, o.SigilURL.String(), cfg.FeedCredential, gw, log)
		if err != nil {
			return err
		}
		defer fl.Close()
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	// No ReadTimeout or WriteTimeout: bodies, event streams and WebSockets
	// may stay open for as long as the upstream keeps them.
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("sigil proxy listening", "addr", ln.Addr().String(), "upstream", o.Upstream.String(),
		"sigil", o.SigilURL.String(), "routes", len(o.Routes), "redis", cfg.RedisURL != "")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// followRevocations connects the proxy to Sigil's revocation feed (within
// 10 s: a refused credential stops the start), and from then on drops
// the proxy's cached answers for what is revoked.
func followRevocations(ctx context.Context, sigilURL, credential string, gw *gateway.Gateway, log *slog.Logger) (*verify.Follower, error) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	fl, err := verify.Follow(sctx, verify.FollowConfig{URL: sigilURL, Credential: credential, Logger: log},
		func(r verify.Revocation) { gw.Revoked(r.SessionID, r.APIKeyID, r.Reset || r.JWTKeyID != "") })
	if err != nil {
		return nil, fmt.Errorf("feed_credential: %w", err)
	}
	log.Info("following the revocation feed", "sigil", sigilURL)
	return fl, nil
}
