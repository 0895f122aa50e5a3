package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// rateLimits are the replicas' limits: the per-account login limit at its
// API.md §8 default (what the rate-limit check counts across replicas),
// the per-IP limits off (every request comes from 127.0.0.1) and the
// per-session refresh limit raised so the workload's chains never meet it.
const rateLimits = "login_ip=off,refresh_ip=off,refresh_token=10000/1m"

// loginAccountLimit is login_account's default, which rateLimits keeps.
const loginAccountLimit = 15

// clusterConfig is what one cluster is made of.
type clusterConfig struct {
	replicas int
	redis    bool   // SIGIL_REDIS_URL: shared limits and the Redis bus; else LISTEN/NOTIFY
	bin      string // sigil built with -tags sigiltestclock
	dir      string // scratch directory (logs, PostgreSQL, Redis)
}

// cluster is a private PostgreSQL, an optional private Redis, N `sigil
// serve` replicas on one database and haproxy in front of them.
type cluster struct {
	cfg    clusterConfig
	pg     *postgres
	rd     *redisServer
	lb     *balancer
	admin  string
	master string
	issuer string
	mu     sync.Mutex
	reps   []*replica
}

// replica is one `sigil serve`; addr stays the same across restarts, so
// the balancer's configuration never changes.
type replica struct {
	name, addr string
	child      *loadkit.Child
}

func (r *replica) url() string { return "http://" + r.addr }

// startCluster starts everything; stop it with c.stop.
func startCluster(ctx context.Context, cfg clusterConfig) (c *cluster, err error) {
	key := make([]byte, 32)
	rand.Read(key)
	c = &cluster{cfg: cfg, admin: loadkit.AdminToken(), master: base64.StdEncoding.EncodeToString(key)}
	defer func() {
		if err != nil {
			c.stop()
		}
	}()
	if c.pg, err = startPostgres(ctx); err != nil {
		return c, err
	}
	if err = c.createDatabase(ctx); err != nil {
		return c, err
	}
	if cfg.redis {
		if c.rd, err = startRedis(cfg.dir); err != nil {
			return c, err
		}
	}
	lbAddr, err := loadkit.FreeAddr()
	if err != nil {
		return c, err
	}
	c.issuer = "http://" + lbAddr
	var backends []string
	for i := range cfg.replicas {
		addr, err := loadkit.FreeAddr()
		if err != nil {
			return c, err
		}
		r := &replica{name: fmt.Sprintf("r%d", i+1), addr: addr}
		// One at a time: the first applies the migrations.
		if err := c.start(ctx, r, ""); err != nil {
			return c, err
		}
		c.reps = append(c.reps, r)
		backends = append(backends, addr)
	}
	c.lb, err = startBalancer(cfg.dir, lbAddr, backends)
	return c, err
}

// createDatabase makes the database the replicas share.
func (c *cluster) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.pg.url("postgres", "sigil-cluster"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE sigil")
	return err
}

// start runs r's `sigil serve` (clock offset "" for none) and waits until
// it is ready. Its log is appended to, across restarts.
func (c *cluster) start(ctx context.Context, r *replica, offset string) error {
	env := []string{
		"SIGIL_ADDR=" + r.addr, "SIGIL_ISSUER=" + c.issuer,
		"SIGIL_DATABASE_URL=" + c.pg.url("sigil", "sigil-"+r.name), "SIGIL_MASTER_KEY=" + c.master,
		"SIGIL_ADMIN_TOKEN=" + c.admin, "SIGIL_LOG_LEVEL=warn", "SIGIL_RATE_LIMITS=" + rateLimits,
		// haproxy's check: every 200 ms, down after two misses; 1 s is
		// that with room for a busy machine.
		"SIGIL_SHUTDOWN_DRAIN=1s",
	}
	if c.rd != nil {
		env = append(env, "SIGIL_REDIS_URL="+c.rd.url())
	}
	if offset != "" {
		env = append(env, "SIGIL_TEST_CLOCK_OFFSET="+offset)
	}
	ch, err := loadkit.StartChild(ctx, r.name, c.cfg.bin, []string{"serve"}, env, c.cfg.dir, r.addr,
		filepath.Join(c.cfg.dir, r.name+".log"))
	if err != nil {
		return err
	}
	c.mu.Lock()
	r.child = ch
	c.mu.Unlock()
	return nil
}

// replicaPids are the running replicas' process ids.
func (c *cluster) replicaPids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pids []int
	for _, r := range c.reps {
		if r.child != nil {
			pids = append(pids, r.child.Cmd.Process.Pid)
		}
	}
	return pids
}

// logs is every replica's log, for the checks that read it.
func (c *cluster) logs() map[string]string {
	out := map[string]string{}
	for _, r := range c.reps {
		out[r.name] = readFile(filepath.Join(c.cfg.dir, r.name+".log"))
	}
	return out
}

// stop ends the balancer, the replicas and the services.
func (c *cluster) stop() {
	if c.lb != nil {
		c.lb.stop()
	}
	for _, r := range c.reps {
		if r.child != nil {
			r.child.Stop()
		}
	}
	if c.rd != nil {
		c.rd.kill()
	}
	if c.pg != nil {
		c.pg.stop()
	}
}

// describe is one line for the report: what ran.
func (c *cluster) describe() string {
	bus := "PostgreSQL LISTEN/NOTIFY, limits in memory per replica"
	if c.rd != nil {
		bus = "Redis (limits and revocations)"
	}
	return fmt.Sprintf("%d × sigil serve behind haproxy, one private PostgreSQL 15, %s", len(c.reps), strings.TrimSpace(bus))
}
