package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// options are the command's flags.
type options struct {
	replicas  int
	conc      int
	calm      time.Duration // steady load between faults
	duration  time.Duration // each scaling run
	bin       string        // sigil built with -tags sigiltestclock
	plainBin  string
	dir       string // scratch directory
	out       string // report: where REPORT.md (and its SVGs) go
	redisOnly bool   // faults: skip the run without Redis
}

func parseFlags(args []string) (string, options, error) {
	cmd := "faults"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.IntVar(&o.replicas, "replicas", 3, "replicas of the fault runs")
	fs.IntVar(&o.conc, "conc", 8, "concurrent workers")
	fs.DurationVar(&o.calm, "calm", 4*time.Second, "steady load before, between and after faults")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each scaling run (report)")
	fs.StringVar(&o.bin, "bin", "", "sigil binary built with -tags sigiltestclock (default: build it)")
	fs.StringVar(&o.out, "out", "bench/REPORT.md", "report: the Markdown file (SVGs beside it)")
	fs.BoolVar(&o.redisOnly, "redis-only", false, "faults: only the run with Redis")
	if err := fs.Parse(args); err != nil {
		return "", o, err
	}
	if cmd != "faults" && cmd != "report" {
		return "", o, fmt.Errorf("unknown command %q (faults or report)", cmd)
	}
	if o.replicas < 2 {
		return "", o, fmt.Errorf("--replicas must be at least 2: a fault takes one away")
	}
	return cmd, o, nil
}

func main() {
	cmd, o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cmd, o, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

// run builds what is missing and runs cmd; it fails when an invariant
// was broken.
func run(ctx context.Context, cmd string, o options, progress io.Writer) error {
	tmp, err := os.MkdirTemp("", "sigil-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	o.dir = tmp
	if err := binaries(&o); err != nil {
		return err
	}
	if cmd == "report" {
		return report(ctx, o, progress)
	}
	var bad int
	for _, redis := range []bool{true, false} {
		if !redis && o.redisOnly {
			continue
		}
		res, err := runFaults(ctx, o, redis, progress)
		if err != nil {
			return err
		}
		writeFaultRun(progressWriter{progress}, res, "")
		bad += res.Summary.NViol
	}
	if bad > 0 {
		return fmt.Errorf("%d invariant violations", bad)
	}
	return nil
}

// binaries builds sigil (with the test clock) and the plain server
// unless given.
func binaries(o *options) error {
	root, err := loadkit.ModuleRoot()
	if err != nil {
		return err
	}
	if o.bin == "" {
		if o.bin, err = loadkit.Build(root, "./cmd/sigil", o.dir, "-tags", "sigiltestclock"); err != nil {
			return err
		}
	}
	if o.plainBin == "" {
		o.plainBin, err = loadkit.Build(root, "./bench/load/plain", o.dir)
	}
	o.out, _ = filepath.Abs(o.out)
	return err
}

// progressWriter lets a nil progress swallow the summary.
type progressWriter struct{ w io.Writer }

func (p progressWriter) Write(b []byte) (int, error) {
	if p.w == nil {
		return len(b), nil
	}
	return p.w.Write(b)
}
