package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// clientCommands is the client half of the CLI (API.md §10): each command
// speaks to a Sigil server over HTTP through the public client package,
// never to the database, so it works against any deployment.
func clientCommands() []*cobra.Command {
	return []*cobra.Command{
		newKeygenCmd(),
		newRegisterCmd(),
		newLoginCmd(),
		newRefreshCmd(),
		newLogoutCmd(),
		newWhoamiCmd(),
		newKeysCmd(),
		newSignupCmd(),
		newAPIKeyCmd(),
		newJWTKeyCmd(),
		newMFACmd(),
	}
}

// cli is what one client command works with: its settings and where the
// session lives.
type cli struct {
	env         cliEnv
	sessionFile string
	stdin       io.Reader // a piped password (never a terminal: see password)
	stdout      io.Writer
	stderr      io.Writer // progress lines and hints; never secrets
}

func newCLI(cmd *cobra.Command) (*cli, error) {
	env, err := loadEnv(os.Getenv, ".env")
	if err != nil {
		return nil, err
	}
	path, err := sessionPath(env)
	if err != nil {
		return nil, err
	}
	return &cli{env: env, sessionFile: path, stdin: cmd.InOrStdin(), stdout: cmd.OutOrStdout(), stderr: cmd.ErrOrStderr()}, nil
}

// server is a client for SIGIL_URL.
func (c *cli) server() (*client.Client, error) {
	base, err := c.env.require("SIGIL_URL", "the Sigil server, e.g. http://127.0.0.1:8080")
	if err != nil {
		return nil, err
	}
	api := client.New(base)
	if api.BaseURL() == "" {
		return nil, usageError{fmt.Errorf("SIGIL_URL %q is not an http(s) URL", base)}
	}
	return api, nil
}

// loginSettings are what logging in needs: the server and the key.
func (c *cli) loginSettings() (*client.Client, ed25519.PrivateKey, error) {
	api, err := c.server()
	if err != nil {
		return nil, nil, err
	}
	key, err := c.privateKey()
	if err != nil {
		return nil, nil, err
	}
	return api, key, nil
}

// saved loads the saved session. Tokens go only to the server that issued
// them: a SIGIL_URL naming another server is a mistake to report, not to
// follow.
func (c *cli) saved() (*client.Client, *session, error) {
	s, err := loadSession(c.sessionFile)
	if err != nil {
		return nil, nil, err
	}
	if u := c.env.get("SIGIL_URL"); u != "" && client.New(u).BaseURL() != s.BaseURL {
		return nil, nil, fmt.Errorf("the saved session belongs to %s, not SIGIL_URL %s; run `sigil login`", s.BaseURL, u)
	}
	return client.New(s.BaseURL), s, nil
}

// current is saved, with the session refreshed first (and the rotated
// pair saved) when the access token is about to expire.
func (c *cli) current(ctx context.Context) (*client.Client, *session, error) {
	api, s, err := c.saved()
	if err != nil {
		return nil, nil, err
	}
	if s.needsRefresh(time.Now()) {
		if err := c.refresh(ctx, api, s); err != nil {
			return nil, nil, err
		}
	}
	return api, s, nil
}

// refresh rotates the session's pair and saves it at once: the old
// refresh token is dead from the moment the server answers.
func (c *cli) refresh(ctx context.Context, api *client.Client, s *session) error {
	t, err := api.Refresh(ctx, s.RefreshToken)
	if err != nil {
		return failed("refreshing the session", err)
	}
	s.Tokens = *t
	return saveSession(c.sessionFile, s)
}

// start saves a new session for userID and reports where it went.
func (c *cli) start(api *client.Client, userID string, t *client.Tokens) error {
	return c.save(&session{BaseURL: api.BaseURL(), UserID: userID, Tokens: *t})
}

// save saves a new session and reports where it went.
func (c *cli) save(s *session) error {
	if err := saveSession(c.sessionFile, s); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "Session %s saved to %s\n", s.SessionID, c.sessionFile)
	return nil
}

// Steps whose 401 is a refused login rather than an ended session.
const (
	opLogin    = "logging in"
	opRegister = "registering"
	opSignup   = "signing up"
)

// cliError is a failure of one step, printed as "step: server's reason".
// The client's own "sigil: " prefixes are dropped: main adds one.
type cliError struct {
	op   string
	err  error
	hint string // what to do about a 401; empty: the session has ended
}

func (e cliError) Error() string {
	msg := reason(e.err)
	// A 401 on a session's token means the session has ended (expired,
	// logged out elsewhere, revoked): say what to do about it. A refused
	// login is a different matter, and a refused SIGIL_API_KEY is not
	// cured by logging in.
	var ce *client.Error
	if errors.As(e.err, &ce) && ce.Status == 401 && e.op != opLogin && e.op != opRegister && e.op != opSignup {
		if e.hint != "" {
			msg += "; " + e.hint
		} else {
			msg += "; run `sigil login`"
		}
	}
	return e.op + ": " + msg
}

func (e cliError) Unwrap() error { return e.err }

// reason is err's text without the client package's prefixes.
func reason(err error) string {
	return strings.TrimPrefix(strings.TrimPrefix(err.Error(), "sigil client: "), "sigil: ")
}

func failed(op string, err error) error { return cliError{op: op, err: err} }

// expiry renders an instant for humans, in UTC.
func expiry(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// withSession is a RunE for commands that act with the saved session
// (refreshed when due) before calling run.
func withSession(run func(cmd *cobra.Command, a []string, c *cli, api *client.Client, s *session) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		c, err := newCLI(cmd)
		if err != nil {
			return err
		}
		api, s, err := c.current(cmd.Context())
		if err != nil {
			return err
		}
		return run(cmd, a, c, api, s)
	}
}

// newGroupCmd is a command that only groups subcommands. It is runnable
// (printing help) so that an unknown subcommand is a usage error.
func newGroupCmd(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(subs...)
	return cmd
}
