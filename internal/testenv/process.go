package testenv

import (
	"net"
	"net/http"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// RunProcess starts cmd with its output collected, and stops it when t
// ends (SIGTERM, then a kill after 10 s), logging the output if t failed.
// The channel yields the process's exit.
func RunProcess(t testing.TB, name string, cmd *exec.Cmd) (*Output, <-chan error) {
	t.Helper()
	logs := &Output{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return logs, exited
}

// readyClient never waits long on one poll.
var readyClient = &http.Client{Timeout: 5 * time.Second}

// WaitOK polls url until it answers 200, the process exits, or 30 s pass
// (a cold start with migrations takes well under a second).
func WaitOK(t testing.TB, name, url string, logs *Output, exited <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			t.Fatalf("%s exited early: %v\n%s", name, err, logs.String())
		default:
		}
		if res, err := readyClient.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling for start-up, not observing expiry
	}
	t.Fatalf("%s not ready after 30 s\n%s", name, logs.String())
}

// FreeAddr returns a loopback address with a port free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
