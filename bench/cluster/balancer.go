package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// haproxyConf is the balancer in front of the replicas. What each line is
// for:
//   - option httpchk GET /readyz, inter 200ms fall 2 rise 2: a replica
//     whose store is unreachable (or which is dead) leaves the rotation
//     within about 0.4 s, and comes back after two good checks;
//   - retry-on conn-failure + option redispatch: a request that could not
//     even be sent (the replica's port refuses: it was killed) goes to
//     another replica. Nothing else is retried: a request that reached a
//     replica may have been acted on, and a retried login or registration
//     would be a second one;
//   - no "option forwardfor": the per-IP limits are off in these runs
//     (every request comes from 127.0.0.1), the per-account ones are what
//     the rate-limit check measures.
const haproxyConf = `global
    maxconn 4096
    nbthread 1
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
    retries 3
    option redispatch 1
    retry-on conn-failure
frontend fe
    bind %s
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-reuse safe
    default-server inter 200ms fall 2 rise 2
%s`

// balancer is a running haproxy.
type balancer struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// haproxyBin finds haproxy ("" when it is not installed).
func haproxyBin() string {
	if p, err := exec.LookPath("haproxy"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/haproxy"); err == nil {
		return "/usr/sbin/haproxy"
	}
	return ""
}

// startBalancer runs haproxy on addr in front of backends (host:port each), in
// the foreground, until stop; Pdeathsig ends it if this process dies.
func startBalancer(dir, addr string, backends []string) (*balancer, error) {
	bin := haproxyBin()
	if bin == "" {
		return nil, fmt.Errorf("haproxy is not installed (apt-get install haproxy)")
	}
	var servers strings.Builder
	for i, b := range backends {
		fmt.Fprintf(&servers, "    server r%d %s check\n", i+1, b)
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, fmt.Appendf(nil, haproxyConf, addr, servers.String()), 0o600); err != nil {
		return nil, err
	}
	b := &balancer{url: "http://" + addr, log: filepath.Join(dir, "haproxy.log"), done: make(chan struct{})}
	logf, err := os.Create(b.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	b.cmd = exec.Command(bin, "-db", "-f", conf)
	b.cmd.Stdout, b.cmd.Stderr = logf, logf
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	if err := waitTCP(addr, 10*time.Second); err != nil {
		b.stop()
		out, _ := os.ReadFile(b.log)
		return nil, fmt.Errorf("haproxy: %w\n%s", err, out)
	}
	return b, nil
}

func (b *balancer) pid() int { return b.cmd.Process.Pid }

func (b *balancer) stop() {
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}
