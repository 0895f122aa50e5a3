package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// maxPasswordLine bounds the line read from stdin. Passwords are at most
// 256 characters (API.md §4), so at most 1 KiB of UTF-8; anything longer
// is not a password line.
const maxPasswordLine = 4096

// errNoPassword: the password is never a flag (flags show in the process
// list and shell history), so without SIGIL_PASSWORD it must be piped.
var errNoPassword = usageError{errors.New("no password: set SIGIL_PASSWORD or pipe it on stdin (it is never taken from a flag)")}

// password is SIGIL_PASSWORD, or else one line read from stdin when stdin
// is not a terminal. On a terminal it is a usage error rather than a
// prompt that would echo the password.
func (c *cli) password() (string, error) {
	if p := c.env.getExact("SIGIL_PASSWORD"); p != "" {
		return p, nil
	}
	if isTerminal(c.stdin) {
		return "", errNoPassword
	}
	return readPasswordLine(c.stdin)
}

// isTerminal reports whether r is a character device (a terminal, or
// /dev/null, from which no password can come either).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// readPasswordLine reads up to the first newline (or the end of input)
// and drops the line ending, nothing else: spaces are part of a password.
func readPasswordLine(r io.Reader) (string, error) {
	// Room for the password, "\r\n" and one byte to tell "too long".
	const limit = maxPasswordLine + 3
	line, err := bufio.NewReaderSize(io.LimitReader(r, limit), limit).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len(line) > maxPasswordLine {
		return "", usageError{fmt.Errorf("the password line on stdin is longer than %d bytes", maxPasswordLine)}
	}
	if line == "" {
		return "", errNoPassword
	}
	return line, nil
}

func newSignupCmd() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "signup --email <email>",
		Short: "Create a user with an email and password, and save the session",
		Long: `Signup creates a user in the workspace of SIGIL_JOIN_CODE at SIGIL_URL with
the given email and a password of 8 to 256 characters, and saves the session
like ` + "`sigil login`" + `. The password comes from SIGIL_PASSWORD or, when stdin is not
a terminal, from the first line of stdin; never from a flag.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return usageError{errors.New("--email is required")}
			}
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			return c.signup(cmd.Context(), email)
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the new user's email address (required)")
	return cmd
}

func (c *cli) signup(ctx context.Context, email string) error {
	api, err := c.server()
	if err != nil {
		return err
	}
	joinCode, err := c.env.require("SIGIL_JOIN_CODE", "your workspace's join code")
	if err != nil {
		return err
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	tok, err := api.Signup(ctx, email, pw, joinCode)
	if err != nil {
		return failed(opSignup, err)
	}
	s, err := c.startPassword(ctx, api, email, tok)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Signed up as %s (user %s, session %s); access token valid until %s\n",
		email, s.UserID, s.SessionID, expiry(s.AccessExpiry()))
	return nil
}

// loginPassword is `sigil login --email`.
func (c *cli) loginPassword(ctx context.Context, email string) error {
	api, err := c.server()
	if err != nil {
		return err
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	tok, err := api.LoginPassword(ctx, email, pw)
	if mfa := (*client.MFARequiredError)(nil); errors.As(err, &mfa) {
		tok, err = c.secondFactor(ctx, api, mfa)
	}
	if err != nil {
		return failed(opLogin, err)
	}
	s, err := c.startPassword(ctx, api, email, tok)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Logged in as %s (session %s); access token valid until %s\n",
		email, s.SessionID, expiry(s.AccessExpiry()))
	return nil
}

// secondFactor completes a password login that needs a second factor
// with SIGIL_MFA_CODE: a code from the person's authenticator app or one
// of their recovery codes (an environment variable, like the password, so
// it stays out of the process list).
func (c *cli) secondFactor(ctx context.Context, api *client.Client, mfa *client.MFARequiredError) (*client.Tokens, error) {
	code := strings.TrimSpace(c.env.getExact("SIGIL_MFA_CODE"))
	if code == "" {
		return nil, fmt.Errorf("this account needs a second factor (%s): set SIGIL_MFA_CODE to a code from your authenticator app or a recovery code",
			strings.Join(mfa.Factors, ", "))
	}
	return api.VerifyMFA(ctx, mfa.Token, code)
}

// startPassword saves a password login's session. The token response does
// not name the user id (other commands, e.g. `keys add`, need it), so it
// asks whoami; if that fails the session is still saved, under the email.
func (c *cli) startPassword(ctx context.Context, api *client.Client, email string, t *client.Tokens) (*session, error) {
	s := &session{BaseURL: api.BaseURL(), UserID: email, Email: email, Tokens: *t}
	if id, err := api.Whoami(ctx, t.AccessToken); err == nil && id.Subject != "" {
		s.UserID = id.Subject
	}
	return s, c.save(s)
}
