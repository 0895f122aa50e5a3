package main

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// The kill loop's size. On the 2-core CI box the whole test takes about
// a minute; most of it is the server's start-up and the checks, not the
// load (see docs/architecture.md, "Crash safety").
const (
	crashKills   = 52                     // kill -9s under write load (issue 12 asks for ≥ 50)
	crashWorkers = 4                      // concurrent writers per run
	crashLoadMin = 50 * time.Millisecond  // load before the kill, drawn uniformly
	crashLoadMax = 400 * time.Millisecond // from [crashLoadMin, crashLoadMax)
	// Every crashStartKillEvery-th run the process is first killed during
	// its start-up (and the very first start, on an empty file, always),
	// before the run that is killed under load.
	crashStartKillEvery = 10
)

// TestCrashSafetySQLite kills the real `sigil serve` with SIGKILL under
// concurrent write load, again and again, on one SQLite file.
//
// Expected behaviour, written down before the test:
//
//   - Every write the server acknowledged (a 2xx the client read before
//     the kill) is there after the restart: a registered or signed-up
//     account can log in; a created API key authenticates and is listed;
//     a revoked API key stays refused and is listed as revoked; a
//     logged-out session's access token stays refused and its refresh
//     token cannot be used. A write that got no answer may have happened
//     or not; the test checks nothing about it.
//   - The server starts cleanly after every kill, also after kills during
//     start-up (the very first one lands on an empty file: migrations,
//     the master key file, the first signing key), logs no error, and
//     while it runs answers every request of the load with a 2xx.
//   - At the end, after a clean shutdown, PRAGMA integrity_check says "ok"
//     and PRAGMA foreign_key_check finds nothing.
//
// Why this should hold: the store commits in WAL mode and answers a write
// only after its COMMIT returned (group commit, internal/store/sqlite/
// writer.go), and the handler writes its 2xx only after that. A COMMIT
// has written the transaction's WAL frames with write(2); with
// synchronous=NORMAL they are not fsynced, but they are in the kernel's
// page cache, which a killed process does not take with it. What this
// test cannot show is power loss or a kernel crash: there the commits
// since the last fsync (at a checkpoint) may be lost, though the file
// stays consistent.
//
// The seed of the kill moments and the workload is logged; set
// SIGIL_CRASH_SEED to replay one.
func TestCrashSafetySQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sigil binary and kills it 50+ times; skipped with -short")
	}
	began := time.Now()
	seed := crashSeed(t)
	t.Logf("seed %d (SIGIL_CRASH_SEED replays it)", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	h := &crashHarness{t: t, bin: buildSigil(t), dir: t.TempDir()}
	h.db = filepath.Join(h.dir, "sigil.db")
	t.Cleanup(h.killCurrent)

	h.killDuringStart(rng) // on the empty file
	p := h.start()
	l := &ledger{t: t, rng: rng}
	l.wsID, l.join = crashWorkspace(t, p.url)
	startKills := 1
	var loaded []*account // the accounts of the last run, checked after each restart
	for i := range crashKills {
		if i > 0 {
			if i%crashStartKillEvery == 0 {
				h.killDuringStart(rng)
				startKills++
			}
			p = h.start()
		}
		l.verify(p.url, loaded, nil)
		if t.Failed() {
			t.Fatalf("stopped at run %d (the checks of run %d's writes above); the server's log:\n%s", i, i-1, p.logs.String())
		}
		d := crashLoadMin + time.Duration(rng.Int64N(int64(crashLoadMax-crashLoadMin)))
		loaded = l.load(p, d, func() { h.kill(p) })
	}
	p = h.start()
	l.verify(p.url, l.accounts, &l.tally) // everything, once more, at the end
	l.checkListed(p.url)
	h.stop(p)
	checkIntegrity(t, h.db)
	t.Logf("%d kills under load and %d during start-up in %v; acknowledged and checked: %s",
		crashKills, startKills, time.Since(began).Round(time.Millisecond), &l.tally)
}

// crashSeed is SIGIL_CRASH_SEED or a fresh one.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("SIGIL_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SIGIL_CRASH_SEED: %v", err)
		}
		return n
	}
	return rand.Uint64()
}

// crashHarness runs `sigil serve` processes, one at a time, on one file.
type crashHarness struct {
	t        *testing.T
	bin, dir string
	db       string
	cur      *crashProc // the running process, if any
}

// crashProc is one `sigil serve` process.
type crashProc struct {
	url    string
	cmd    *exec.Cmd
	logs   *testenv.Output
	exited chan error
}

// launch starts a process on a fresh port without waiting for it.
func (h *crashHarness) launch() *crashProc {
	addr := testenv.FreeAddr(h.t)
	cmd := exec.Command(h.bin, "serve")
	cmd.Dir = h.dir // no stray .env; the master key file is created beside the database
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + h.dir,
		"SIGIL_ADDR=" + addr,
		"SIGIL_ADMIN_TOKEN=" + e2eAdminToken,
		"SIGIL_DATABASE_URL=sqlite://" + h.db,
		"SIGIL_RATE_LIMITS=off",
		// The issuer would default to the address, which changes with
		// every restart: tokens issued before a kill must still verify.
		"SIGIL_ISSUER=http://sigil.crash.test",
	}
	p := &crashProc{url: "http://" + addr, cmd: cmd, logs: &testenv.Output{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() { p.exited <- cmd.Wait() }()
	h.cur = p
	return p
}

// start launches a process and waits until it is ready.
func (h *crashHarness) start() *crashProc {
	p := h.launch()
	testenv.WaitOK(h.t, "sigil serve", p.url+"/readyz", p.logs, p.exited)
	return p
}

// killDuringStart launches a process and kills it within its first
// 150 ms, mostly before it is ready.
func (h *crashHarness) killDuringStart(rng *rand.Rand) {
	p := h.launch()
	time.Sleep(time.Duration(rng.Int64N(int64(150 * time.Millisecond)))) // a random moment, not a wait for anything
	h.kill(p)
}

// kill sends SIGKILL and waits for the exit. The process must not have
// ended by itself first, and must not have logged an error.
func (h *crashHarness) kill(p *crashProc) {
	select {
	case err := <-p.exited:
		h.t.Fatalf("sigil serve exited before the kill: %v\n%s", err, p.logs.String())
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
	h.cur = nil
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		h.t.Fatalf("sigil serve ended with %v, not by the kill\n%s", p.cmd.ProcessState, p.logs.String())
	}
	checkServerLog(h.t, p)
}

// stop ends p with SIGTERM, as an operator would, and expects a clean exit.
func (h *crashHarness) stop(p *crashProc) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		h.cur = nil
		if err != nil {
			h.t.Fatalf("sigil serve after SIGTERM: %v\n%s", err, p.logs.String())
		}
	case <-time.After(10 * time.Second):
		h.t.Fatalf("sigil serve did not stop within 10 s of SIGTERM\n%s", p.logs.String())
	}
	checkServerLog(h.t, p)
}

// killCurrent ends a process a failed test left running.
func (h *crashHarness) killCurrent() {
	if h.cur != nil {
		h.cur.cmd.Process.Kill()
		<-h.cur.exited
	}
}

// checkServerLog fails on an error or a panic in p's output.
func checkServerLog(t *testing.T, p *crashProc) {
	t.Helper()
	logs := p.logs.String()
	for _, bad := range []string{`"level":"ERROR"`, "level=ERROR", "panic:", "malformed", "corrupt"} {
		if strings.Contains(logs, bad) {
			t.Fatalf("sigil serve logged %q:\n%s", bad, logs)
		}
	}
}

// crashWorkspace creates the workspace every account joins: its id and
// join code.
func crashWorkspace(t *testing.T, url string) (id, join string) {
	t.Helper()
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	if st := apiJSON(t, "POST", url+"/v1/workspaces", e2eAdminToken, map[string]string{"name": "crash"}, &ws); st != 201 {
		t.Fatalf("POST /v1/workspaces = %d, want 201", st)
	}
	return ws.ID, ws.JoinCode
}

// checkIntegrity runs SQLite's own consistency checks on the file (the
// driver is registered by the store package the binary links).
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	var res string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil || res != "ok" {
		t.Errorf("PRAGMA integrity_check = %q, %v; want ok", res, err)
	}
	// The reasoning in the test's comment assumes WAL, which the file keeps.
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&res); err != nil || res != "wal" {
		t.Errorf("PRAGMA journal_mode = %q, %v; want wal", res, err)
	}
	rows, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check found rows that reference nothing")
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Error(err)
	}
}
