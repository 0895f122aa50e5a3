package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/api"
	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/config"
	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/httpapi"
	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
	"github.com/sigil-auth/sigil/internal/store/sqlite"
	"github.com/sigil-auth/sigil/internal/token"
	"github.com/sigil-auth/sigil/internal/web"
)

func newServeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Sigil server",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), nil, os.Getenv, ".env")
			if err != nil {
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, newLogger(cfg, cmd.ErrOrStderr()), cmd.ErrOrStderr())
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

// newLogger builds the process logger from the config.
func newLogger(cfg config.Config, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// backend is what serve and the operations commands open: the store and,
// for PostgreSQL, its pool for LISTEN/NOTIFY.
type backend struct {
	store store.Store
	pg    *postgres.Store
}

func openBackend(ctx context.Context, cfg config.Config) (backend, error) {
	if cfg.DatabaseKind() == config.KindPostgres {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return backend{}, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return backend{store: pg, pg: pg}, nil
	}
	st, err := sqlite.Open(ctx, cfg.SQLitePath())
	if err != nil {
		return backend{}, fmt.Errorf("open SQLite %s: %w", cfg.SQLitePath(), err)
	}
	return backend{store: st}, nil
}

// open loads the master key (first: with SQLite it refuses to invent a
// new key for an existing database), then opens the store and the signing
// keys. The caller closes the store.
func open(ctx context.Context, cfg config.Config) (backend, *token.Keyring, []byte, error) {
	master, err := cfg.LoadMasterKey()
	if err != nil {
		return backend{}, nil, nil, err
	}
	sealer, err := token.NewSealer(master)
	if err != nil {
		return backend{}, nil, nil, err
	}
	b, err := openBackend(ctx, cfg)
	if err != nil {
		return backend{}, nil, nil, err
	}
	keys, err := token.NewKeyring(ctx, b.store, sealer, cfg.SigningAlg, time.Now)
	if err != nil {
		b.store.Close()
		return backend{}, nil, nil, err
	}
	return b, keys, master, nil
}

// serve runs the server until ctx ends, then shuts down gracefully.
// term is where a person may be watching (stderr): the first-run setup
// link is shown there too.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, term io.Writer) error {
	start := time.Now()
	b, keys, master, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.store.Close()
	rules, err := ratelimit.ParseRules(cfg.RateLimits)
	if err != nil {
		return usageError{err}
	}
	tiers, err := ratelimit.ParseTiers(cfg.Tiers)
	if err != nil {
		return usageError{err}
	}
	trusted, err := clientip.ParseTrusted(cfg.TrustedProxies)
	if err != nil {
		return usageError{err}
	}
	clock := serverClock(log)
	lim, bus, err := sharedState(cfg, b, clock)
	if err != nil {
		return err
	}
	defer bus.Close()
	mailer, err := newMailer(cfg, log)
	if err != nil {
		return usageError{err}
	}
	sealer, _ := token.NewSealer(master) // master was checked by open
	metrics := httpapi.NewMetrics()
	hasher := password.New(password.OWASP, 0)
	applyMemory(cfg, os.Getenv, hasher, log)
	auth := authn.New(b.store, keys, lim, bus, authn.Options{
		Issuer: cfg.Issuer, AdminToken: cfg.AdminToken, Limits: rules, Tiers: tiers,
		RefreshKey: token.DeriveKey(master, "refresh-token derivation"),
		Sealer:     sealer, Mailer: mailer, Passwords: hasher,
		Log: log, OnAuth: metrics.ObserveAuth, Now: clock,
	})
	defer auth.Close() // after the HTTP server has drained: flush the audit log
	if err := auth.Run(ctx); err != nil {
		return fmt.Errorf("subscribe to revocations: %w", err)
	}
	go reap(ctx, b.store, log)
	link, firstRun, err := auth.FirstRun(ctx)
	if err != nil {
		return fmt.Errorf("first-run setup link: %w", err)
	}
	ips := clientip.New(trusted)
	d := &drainer{}
	pages, err := web.New(web.Deps{Auth: auth, IPs: ips, Log: log, Issuer: cfg.Issuer})
	if err != nil {
		return err
	}
	h := httpapi.New(httpapi.Deps{
		Auth: auth, Keys: keys, IPs: ips, Metrics: metrics, Log: log, AccessLog: cfg.AccessLog,
		Issuer: cfg.Issuer, OpenAPI: api.Spec, Ready: d.ready(b.store.Ping),
		Pages: pages, PageRoutes: pages.Routes(),
		Streams: httpapi.StreamLimits{PerCredential: cfg.StreamsPerCredential, Total: cfg.Streams},
	})
	if cfg.MetricsAddr != "" { // never on the public listener
		stopMetrics, err := listenMetrics(cfg.MetricsAddr, metrics.Handler(), log)
		if err != nil {
			return fmt.Errorf("SIGIL_METRICS_ADDR: %w", err)
		}
		defer stopMetrics()
	}
	return listenAndServe(ctx, cfg, h, log, start, d, func() {
		if firstRun {
			announceSetup(log, term, link)
		}
	})
}

// newMailer sends through SIGIL_SMTP_URL, or logs (whole messages only in
// dev mode, since they carry reset tokens).
func newMailer(cfg config.Config, log *slog.Logger) (mail.Mailer, error) {
	if cfg.SMTPURL != "" {
		return mail.NewSMTP(cfg.SMTPURL)
	}
	return mail.NewLog(log, cfg.Dev), nil
}

// sharedState picks the rate limiter and the revocation bus: Redis when
// configured (shared by every replica), else in-process limits, with
// PostgreSQL LISTEN/NOTIFY for revocations on PostgreSQL.
func sharedState(cfg config.Config, b backend, now func() time.Time) (ratelimit.Limiter, fanout.Bus, error) {
	if cfg.RedisURL != "" {
		rc, err := ratelimit.NewRedisClient(cfg.RedisURL)
		if err != nil {
			return nil, nil, err
		}
		return ratelimit.NewRedis(rc, "sigil:rl:", now), fanout.NewRedis(rc), nil
	}
	lim := ratelimit.NewMemory(now)
	if b.pg != nil {
		return lim, fanout.NewPostgres(b.pg.Pool()), nil
	}
	return lim, fanout.NewLocal(), nil
}

// reap deletes expired codes, sessions and refresh tokens, and usage
// counters older than store.UsageRetention, every minute.
func reap(ctx context.Context, st store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if n, err := st.DeleteExpired(ctx, now); err != nil {
				log.Warn("cannot delete expired records", "err", err)
			} else if n > 0 {
				log.Debug("deleted expired records", "rows", n)
			}
		}
	}
}

// listenAndServe serves h on cfg.Addr; listening is called once the
// socket is open and announced.
func listenAndServe(ctx context.Context, cfg config.Config, h http.Handler, log *slog.Logger, start time.Time, d *drainer, listening func()) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if cfg.DatabaseKind() == config.KindPostgres && cfg.IssuerDerived {
		log.Warn("SIGIL_ISSUER is not set: the issuer is derived from this replica's listen address; " +
			"replicas behind one load balancer must share one SIGIL_ISSUER or they refuse each other's tokens")
	}
	log.Info("sigil listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer,
		"database", cfg.DatabaseKind(), "redis", cfg.RedisURL != "", "startup", time.Since(start))
	listening()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	d.drain(cfg.ShutdownDrain, log)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
