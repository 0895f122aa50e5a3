package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"
)

// testCLIMFA turns on an authenticator app for the walk-through's
// key-pair account from the terminal: a wrong --code is refused (exit 1,
// the factor stays pending), then the interactive form reads the secret's
// current code from stdin and the factor is active in `sigil mfa list`.
func testCLIMFA(w *cliWalk) {
	t := w.t
	r := runCLI(t, w.bin, w.dir, w.env, "mfa", "totp", "--code", "000000")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_code") || !strings.Contains(r.stdout, "Secret: ") {
		t.Fatalf("mfa totp with a wrong code: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin, "mfa", "totp")
	cmd.Dir = w.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir, "XDG_CONFIG_HOME=" + filepath.Join(w.dir, "xdg")}
	for k, v := range w.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	secret := ""
	for secret == "" && lines.Scan() {
		secret, _ = strings.CutPrefix(lines.Text(), "Secret: ")
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("secret %q: %v (stderr %q)", secret, err, stderr.String())
	}
	stdin.Write([]byte(code + "\n"))
	stdin.Close()
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(rest.String(), "Authenticator app on") {
		t.Fatalf("mfa totp: %v, stdout %q, stderr %q", err, rest.String(), stderr.String())
	}
	w.stderrs = append(w.stderrs, stderr.String())
	list := w.run("mfa", "list")
	if !strings.Contains(list.stdout, "totp") || !strings.Contains(list.stdout, "active") {
		t.Fatalf("mfa list: %q", list.stdout)
	}
}
