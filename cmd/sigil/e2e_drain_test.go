package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestShutdownDrain: with SIGIL_SHUTDOWN_DRAIN, a SIGTERM first makes
// /readyz answer 503 while requests are still served, and the process
// exits only after the drain, so a load balancer's health check moves
// traffic away before the listener closes (bench/cluster's graceful
// restarts lost requests without it).
func TestShutdownDrain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin, dir, addr := buildSigil(t), t.TempDir(), testenv.FreeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SIGIL_ADDR=" + addr,
		"SIGIL_DATABASE_URL=sqlite://" + filepath.Join(dir, "sigil.db"), "SIGIL_SHUTDOWN_DRAIN=1s"}
	logs := &testenv.Output{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Not testenv.RunProcess: this test must see the exit itself.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	url := "http://" + addr
	testenv.WaitOK(t, "sigil serve", url+"/readyz", logs, exited)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		res, err := http.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s while draining: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for get("/readyz") != http.StatusServiceUnavailable {
		if time.Since(sent) > 500*time.Millisecond {
			t.Fatal("/readyz still 200 500 ms after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond) // waiting for the signal to land
	}
	if st := get("/healthz"); st != http.StatusOK {
		t.Errorf("/healthz while draining = %d, want 200 (requests are still served)", st)
	}
	select {
	case err := <-exited:
		if took := time.Since(sent); took < time.Second {
			t.Errorf("exited %v after SIGTERM, before the 1 s drain (%v)", took, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("did not exit after the drain")
	}
}
