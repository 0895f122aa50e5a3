package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// newMFACmd groups the second-factor commands (API.md §13) for the
// signed-in account: a key-pair account can turn on an authenticator app
// from the terminal as a password account can on the dashboard.
func newMFACmd() *cobra.Command {
	return newGroupCmd("mfa", "Manage your second factors (enrol an authenticator app, list)",
		credentialHelp("mfa"), newMFATOTPCmd(), newMFAListCmd())
}

func newMFATOTPCmd() *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use:   "totp",
		Short: "Turn on an authenticator app: print its secret, then confirm with its first code",
		Long: `totp prints a new secret (and its otpauth:// URL) for your authenticator app, shown
only once, then reads the app's first 6-digit code from --code or, without it, from
the first line of stdin, and turns the app on. Until then the factor waits, pending.`,
		Args: args(cobra.NoArgs),
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			e, err := cr.api.EnrolTOTP(cmd.Context(), cr.token)
			if err != nil {
				return cr.failed("starting the enrolment", err)
			}
			fmt.Fprintf(c.stdout, "Secret: %s\nURL: %s\n", e.Secret, e.OTPAuthURL)
			fmt.Fprintf(c.stderr, warnShownOnce, "secret")
			if code == "" {
				fmt.Fprint(c.stderr, "Enter the 6-digit code your app shows: ")
				if code, err = readCodeLine(c.stdin); err != nil {
					return err
				}
			}
			f, err := cr.api.VerifyFactor(cmd.Context(), cr.token, e.ID, code)
			if err != nil {
				return cr.failed("confirming the code (run the command again for a new secret)", err)
			}
			fmt.Fprintf(c.stdout, "Authenticator app on (factor %s): password and SSO sign-ins of this account ask for its code.\n", f.ID)
			return nil
		}),
	}
	cmd.Flags().StringVar(&code, "code", "", "the app's first code (default: read from stdin)")
	return cmd
}

// readCodeLine reads one short line (a TOTP code) from r.
func readCodeLine(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 64), 64).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the code from stdin: %w", err)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usageError{errors.New("no code: pass --code or type the code your app shows")}
	}
	return line, nil
}

func newMFAListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your second factors",
		Args:  args(cobra.NoArgs),
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			list, err := cr.api.ListFactors(cmd.Context(), cr.token)
			if err != nil {
				return cr.failed("listing factors", err)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tNAME\tSTATUS\tCREATED")
			for _, f := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.ID, f.Kind, field(f.Name), f.Status, expiry(f.CreatedAt))
			}
			return tw.Flush()
		}),
	}
}
