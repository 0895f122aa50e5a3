package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

func newRefreshCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "refresh",
		Short: "Rotate the saved session's tokens now",
		Long: `Refresh trades the saved refresh token for a new pair and saves it. Other
commands do this by themselves when the access token expires within 60 s;
a session never outlives its maximum age (24 h for key-pair logins).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			api, s, err := c.saved()
			if err != nil {
				return err
			}
			if err := c.refresh(cmd.Context(), api, s); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Refreshed session %s; access token valid until %s\n",
				s.SessionID, expiry(s.AccessExpiry()))
			return nil
		},
	}
}

func newLogoutCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "End the saved session (--all: every session of this user) and forget it",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			return c.logout(cmd, all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "end every session of this user, on every device")
	return cmd
}

// logout ends the session on the server, then forgets it. A 401 means the
// server has already ended it (expired, revoked): forgetting it is all
// that is left. Any other failure keeps the file, so the user can retry
// rather than leave a live session behind with no way to end it.
func (c *cli) logout(cmd *cobra.Command, all bool) error {
	api, s, err := c.saved()
	if err != nil {
		return err
	}
	err = api.Logout(cmd.Context(), s.RefreshToken, all)
	var ce *client.Error
	switch {
	case errors.As(err, &ce) && ce.Status == 401:
		fmt.Fprintln(c.stderr, "The server had already ended this session")
	case err != nil:
		return failed("logging out", err)
	}
	if err := removeSession(c.sessionFile); err != nil {
		return err
	}
	if all {
		fmt.Fprintf(c.stdout, "Logged out of every session of %s\n", s.UserID)
	} else {
		fmt.Fprintf(c.stdout, "Logged out of session %s\n", s.SessionID)
	}
	return nil
}

func newWhoamiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print the identity the server sees for the saved session (JSON)",
		Args:  args(cobra.NoArgs),
		RunE: withSession(func(cmd *cobra.Command, _ []string, c *cli, api *client.Client, s *session) error {
			id, err := api.Whoami(cmd.Context(), s.AccessToken)
			if err != nil {
				return failed("whoami", err)
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(id)
		}),
	}
}
