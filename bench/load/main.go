package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// options are the driver's flags.
type options struct {
	bin, plainBin string
	db            string // sqlite | postgres
	databaseURL   string // PostgreSQL server for --db postgres (a fresh schema is made on it)
	duration      time.Duration
	conc          int
	scenarios     []string
	infoScenarios []string // rerun against a server logging requests (level info)
	logLevel      string
	idle          time.Duration
	settle        time.Duration // after the scenarios, before reading RSS again (0: not read)
	verifyTime    time.Duration
	hashTime      time.Duration // argon2id baseline, only when password-login runs
	out           string
}

func parseFlags(args []string) (options, error) {
	var o options
	var sc, info string
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "sigil binary (default: go build ./cmd/sigil)")
	fs.StringVar(&o.plainBin, "plain-bin", "", "hello-baseline binary (default: go build ./bench/load/plain)")
	fs.StringVar(&o.db, "db", "sqlite", "sqlite (temp file) or postgres (fresh schema)")
	fs.StringVar(&o.databaseURL, "database-url", os.Getenv("SIGIL_TEST_POSTGRES"), "PostgreSQL URL for --db postgres")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.IntVar(&o.conc, "conc", 8, "concurrent workers (keep-alive clients)")
	fs.StringVar(&sc, "scenarios", defaultScenarios, "scenarios to run, in order")
	fs.StringVar(&info, "info-scenarios", "hello", "scenarios to rerun on a server logging at info (\"\" to skip)")
	fs.StringVar(&o.logLevel, "log-level", "warn", "SIGIL_LOG_LEVEL of the main server")
	fs.DurationVar(&o.idle, "idle", 2*time.Second, "idle time after ready before reading RSS")
	fs.DurationVar(&o.settle, "settle", 0, "after the scenarios, wait this long and read RSS again (0: skip)")
	fs.DurationVar(&o.verifyTime, "verify-time", 2*time.Second, "time spent measuring raw ed25519.Verify (half before, half after)")
	fs.DurationVar(&o.hashTime, "hash-time", 2*time.Second, "time spent measuring one argon2id hash (half before, half after; only with password-login)")
	fs.StringVar(&o.out, "out", "", "also write the Markdown report to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.scenarios, o.infoScenarios = splitList(sc), splitList(info)
	return o, o.validate()
}

// defaultScenarios runs hello-baseline before the scenarios reported as
// a share of its rate.
const defaultScenarios = "login,refresh,hello,hello-baseline,apikey-hello,authorize,jwt-hello,jwks," +
	"client-credentials,introspect,password-login,healthz,oidc-authorize,oidc-code-flow,oidc-code-flow-eddsa,dashboard-keys"

// wantsHash reports whether the run needs the argon2id baseline.
func (o options) wantsHash() bool {
	return slices.Contains(o.scenarios, "password-login") || slices.Contains(o.infoScenarios, "password-login")
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (o options) validate() error {
	var errs []string
	if o.db != "sqlite" && o.db != "postgres" {
		errs = append(errs, "--db must be sqlite or postgres")
	}
	if o.db == "postgres" && o.databaseURL == "" {
		errs = append(errs, "--db postgres needs --database-url or SIGIL_TEST_POSTGRES")
	}
	if o.duration <= 0 || o.conc < 1 || o.verifyTime <= 0 || (o.wantsHash() && o.hashTime <= 0) {
		errs = append(errs, "--duration, --conc, --verify-time and --hash-time must be positive")
	}
	for _, s := range slices.Concat(o.scenarios, o.infoScenarios) {
		if _, ok := scenarios[s]; !ok {
			errs = append(errs, fmt.Sprintf("unknown scenario %q (%s)", s, strings.Join(slices.Sorted(maps.Keys(scenarios)), ", ")))
		}
	}
	if slices.Contains(o.infoScenarios, "hello-baseline") {
		errs = append(errs, "hello-baseline has no log level: leave it out of --info-scenarios")
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, o, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	var sb strings.Builder
	r.writeMarkdown(&sb)
	fmt.Print(sb.String())
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(sb.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
	}
	if r.errors() > 0 {
		os.Exit(1)
	}
}

// newReport records the run's conditions.
func newReport(o options) *report {
	v := runtime.Version()
	if o.bin != "" {
		v += " (driver; --bin built separately)"
	}
	return &report{
		Date: time.Now().UTC(), NProc: runtime.NumCPU(), GoMaxProcs: runtime.GOMAXPROCS(0),
		GoVersion: v, CPU: loadkit.CPUModel(), DB: o.db, Conc: o.conc, Duration: o.duration, LogLevel: o.logLevel,
	}
}

// binaries returns the sigil and plain binaries, building what --bin and
// --plain-bin do not name into dir.
func binaries(o options, dir string) (string, string, error) {
	if o.bin != "" && o.plainBin != "" {
		return o.bin, o.plainBin, nil
	}
	root, err := loadkit.ModuleRoot()
	if err != nil {
		return "", "", err
	}
	bin, plain := o.bin, o.plainBin
	if bin == "" {
		if bin, err = loadkit.Build(root, "./cmd/sigil", dir); err != nil {
			return "", "", err
		}
	}
	if plain == "" {
		if plain, err = loadkit.Build(root, "./bench/load/plain", dir); err != nil {
			return "", "", err
		}
	}
	return bin, plain, nil
}

// progressf reports progress (to stderr from main, to the log in tests).
func progressf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
