package loadkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ClockTick is one unit of utime/stime in /proc/<pid>/stat: USER_HZ,
// which Linux fixes at 100 for every architecture Go supports here.
const ClockTick = 10 * time.Millisecond

// Child is a server process under measurement or under test.
type Child struct {
	Name    string
	Cmd     *exec.Cmd
	Base    string        // http://127.0.0.1:port
	Ready   time.Duration // spawn → first 200 from /readyz
	LogPath string
	PG      *PGMeter      // its PostgreSQL backends; nil on SQLite
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago (the Child binds it right after; a clash fails the start loudly).
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartChild runs bin with args and env (nothing inherited but PATH and
// HOME, so no SIGIL_* of the caller leaks in) in dir, with stdout and
// stderr appended to logPath, and waits until GET /readyz answers 200.
func StartChild(ctx context.Context, name, bin string, args, env []string, dir, addr, logPath string) (*Child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the Child keeps its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logf, logf
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	c := &Child{Name: name, Cmd: cmd, Base: "http://" + addr, LogPath: logPath, done: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { c.waitErr = cmd.Wait(); close(c.done) }()
	if err := c.waitReady(ctx, start, 30*time.Second); err != nil {
		c.Stop()
		return nil, fmt.Errorf("%s: %w; log tail:\n%s", name, err, c.LogTail())
	}
	return c, nil
}

// waitReady polls /readyz every millisecond on fresh connections and
// records the time from spawn to the first 200.
func (c *Child) waitReady(ctx context.Context, start time.Time, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for time.Since(start) < limit {
		select {
		case <-c.done:
			return fmt.Errorf("exited before ready: %v", c.waitErr)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if res, err := hc.Get(c.Base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				c.Ready = time.Since(start)
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", limit)
}

// Stop asks the Child to shut down (SIGTERM) and kills it if it has not
// exited after 10 s. It reports a non-zero exit.
func (c *Child) Stop() error {
	select {
	case <-c.done:
		return c.waitErr
	default:
	}
	_ = c.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.Cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within 10 s", c.Name)
	}
	return c.waitErr
}

// Kill ends the child at once (SIGKILL, no shutdown) and waits for it:
// the crash a fault injects.
func (c *Child) Kill() {
	_ = c.Cmd.Process.Kill()
	<-c.done
}

// CPU returns the child's user+system CPU time so far (all threads).
func (c *Child) CPU() (time.Duration, error) { return ProcCPU(c.Cmd.Process.Pid) }

// ProcCPU returns process pid's user+system CPU time so far (all threads).
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// Fields after "(comm)": state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/<pid>/stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/<pid>/stat format")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * ClockTick, nil
}

// Memory returns VmRSS and VmHWM (peak RSS) in bytes.
func (c *Child) Memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(c.Cmd.Process.Pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v) // "12345 kB"
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("no VmRSS in /proc/<pid>/status")
	}
	return rss, peak, nil
}

// LogTail is the last lines of the child's log, for error messages.
func (c *Child) LogTail() string {
	b, _ := os.ReadFile(c.LogPath)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}
