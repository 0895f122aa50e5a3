package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// pgBinDir is where Debian installs the PostgreSQL server programs. The
// cluster runs its own throwaway PostgreSQL from them, so restarting it
// (a fault) never touches the database other engineers' tests use.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// postgres is a private PostgreSQL cluster in a temporary directory,
// listening on loopback only, with trust authentication.
type postgres struct {
	dir, port string
	asUser    []string // runuser prefix when root (initdb refuses root)
}

// startPostgres initialises and starts a private cluster in a new
// directory of its own directly under the system's temporary directory
// (the postgres user must reach it); stop removes it.
func startPostgres(ctx context.Context) (*postgres, error) {
	addr, err := loadkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	dir, err := os.MkdirTemp("", "sigil-cluster-pg-")
	if err != nil {
		return nil, err
	}
	p := &postgres{dir: filepath.Join(dir, "data"), port: port}
	if os.Geteuid() == 0 {
		if err := chownToPostgres(dir); err != nil {
			return nil, err
		}
		p.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	if err := p.run(ctx, "initdb", "-D", p.dir, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"); err != nil {
		return nil, err
	}
	return p, p.ctl(ctx, "start")
}

// chownToPostgres lets the postgres user write dir (and its parent chain
// is world-traversable under /tmp).
func chownToPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres user for initdb: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

// run runs one PostgreSQL program (as the postgres user when root).
func (p *postgres) run(ctx context.Context, prog string, args ...string) error {
	argv := append(append(append([]string{}, p.asUser...), filepath.Join(pgBinDir, prog)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", prog, err, out)
	}
	return nil
}

// ctl is pg_ctl start|restart|stop, waiting for it to finish. Fast
// shutdown: open connections are closed at once, as a crash-free restart
// by an operator does.
func (p *postgres) ctl(ctx context.Context, action string) error {
	opts := "-p " + p.port + " -k " + p.dir + " -c listen_addresses=127.0.0.1 -c max_connections=200" +
		" -c shared_buffers=32MB -c fsync=on"
	return p.run(ctx, "pg_ctl", action, "-D", p.dir, "-w", "-m", "fast", "-l", filepath.Join(p.dir, "log"), "-o", opts)
}

// url is a connection URL for database db (application name app, which
// tells a replica's backends from the others in pg_stat_activity).
func (p *postgres) url(db, app string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/%s?sslmode=disable&application_name=%s", p.port, db, app)
}

// pids are the cluster's processes: the postmaster and its children
// (backends and background workers), for the CPU it used.
func (p *postgres) pids() []int {
	b, err := os.ReadFile(filepath.Join(p.dir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil
	}
	return append([]int{pm}, childrenOf(pm)...)
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func (p *postgres) stop() {
	_ = p.ctl(context.Background(), "stop")
	os.RemoveAll(filepath.Dir(p.dir))
}

// redisServer is a private redis-server on a free loopback port, which
// the Redis fault kills and starts again on the same port.
type redisServer struct {
	port, dir string
	cmd       *exec.Cmd
	done      chan struct{}
}

func startRedis(dir string) (*redisServer, error) {
	addr, err := loadkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	r := &redisServer{port: port, dir: dir}
	return r, r.start()
}

// start runs redis-server without persistence and waits until it accepts
// connections.
func (r *redisServer) start() error {
	r.cmd = exec.Command("redis-server", "--port", r.port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("redis-server: %w", err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	return waitTCP("127.0.0.1:"+r.port, 10*time.Second)
}

// kill ends redis-server at once (SIGKILL): its clients see connections
// reset, as when the host or container dies.
func (r *redisServer) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

func (r *redisServer) url() string { return "redis://127.0.0.1:" + r.port + "/0" }

// waitTCP waits until addr accepts a connection.
func waitTCP(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New(addr + " not accepting connections")
}
