package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// Settings that name a credential for the API-manager commands, in the
// order they are tried. Either one, when set, is used as is with
// SIGIL_URL; without them the saved session is (refreshed when needed).
var credentialSettings = []string{"SIGIL_ADMIN_TOKEN", "SIGIL_API_KEY"}

// credential is what an apikey/jwtkey command authenticates with.
type credential struct {
	api    *client.Client
	token  string // sent as "Authorization: Bearer"
	source string // the setting it came from; "" for the saved session
}

// credential picks the caller's credential: SIGIL_ADMIN_TOKEN, then
// SIGIL_API_KEY, then the saved session.
func (c *cli) credential(ctx context.Context) (*credential, error) {
	for _, name := range credentialSettings {
		if v := c.env.get(name); v != "" {
			api, err := c.server()
			if err != nil {
				return nil, err
			}
			return &credential{api: api, token: v, source: name}, nil
		}
	}
	api, s, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	return &credential{api: api, token: s.AccessToken}, nil
}

// workspace is the --workspace flag's value, else SIGIL_WORKSPACE_ID.
// The admin token belongs to no workspace, so creating and listing with
// it must name one; a user's credential may leave it empty.
func (c *cli) workspace(flag string) string {
	if flag != "" {
		return flag
	}
	return c.env.get("SIGIL_WORKSPACE_ID")
}

// workspaceFlag registers --workspace on cmd.
func workspaceFlag(cmd *cobra.Command, p *string) {
	cmd.Flags().StringVar(p, "workspace", "", "the workspace (default SIGIL_WORKSPACE_ID; required with SIGIL_ADMIN_TOKEN)")
}

// failed is the package's failed, with a 401 blamed on the setting that
// supplied the credential rather than on an ended session.
func (cr *credential) failed(op string, err error) error {
	if cr.source == "" {
		return failed(op, err)
	}
	return cliError{op: op, err: err, hint: "check " + cr.source}
}

// withCredential is a RunE for commands that act with a credential: it
// builds the CLI context and resolves the credential (env or saved
// session) before calling run.
func withCredential(run func(cmd *cobra.Command, a []string, c *cli, cr *credential) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, a []string) error {
		c, err := newCLI(cmd)
		if err != nil {
			return err
		}
		cr, err := c.credential(cmd.Context())
		if err != nil {
			return err
		}
		return run(cmd, a, c, cr)
	}
}

// credentialHelp is the Long help of the command groups that use
// withCredential.
func credentialHelp(group string) string {
	return "The " + group + " commands authenticate with SIGIL_ADMIN_TOKEN or SIGIL_API_KEY (with\n" +
		"SIGIL_URL) when set, and with the saved session otherwise."
}
