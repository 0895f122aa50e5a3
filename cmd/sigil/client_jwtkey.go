package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// newJWTKeyCmd groups the JWT-key commands (API.md §5.2). Credentials as
// for the apikey commands.
func newJWTKeyCmd() *cobra.Command {
	return newGroupCmd("jwtkey", "Manage JWT keys for customer-minted HS256 JWTs (create, list, delete)",
		credentialHelp("jwtkey"), newJWTKeyCreateCmd(), newJWTKeyListCmd(), newJWTKeyDeleteCmd())
}

func newJWTKeyCreateCmd() *cobra.Command {
	var (
		name, workspace string
		scopes          []string
	)
	cmd := &cobra.Command{
		Use:   "create --name <name>",
		Short: "Create a JWT key and print its id and secret (shown only once)",
		Long: `Create prints the key's id, to put in the "kid" header of your JWTs, and its
secret: sign HS256 with the secret's exact bytes as the HMAC key.`,
		Args: args(cobra.NoArgs),
		// Flags are checked before any credential is looked for.
		PreRunE: func(*cobra.Command, []string) error {
			if name == "" {
				return usageError{errors.New("--name is required")}
			}
			return nil
		},
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			k, err := cr.api.CreateJWTKey(cmd.Context(), cr.token, client.JWTKeyRequest{
				Name: name, Scopes: scopes, WorkspaceID: c.workspace(workspace)})
			if err != nil {
				return cr.failed("creating the JWT key", err)
			}
			fmt.Fprintf(c.stdout, "ID: %s\nName: %s\nAlgorithm: %s\nSecret: %s\n", k.ID, k.Name, k.Algorithm, k.Secret)
			fmt.Fprintf(c.stderr, warnShownOnce, "secret")
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "a name to recognise the key by (required)")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "a scope of the JWTs it verifies; repeat for more (default: all of yours)")
	workspaceFlag(cmd, &workspace)
	return cmd
}

func newJWTKeyListCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List JWT keys (without their secrets)",
		Args:  args(cobra.NoArgs),
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			keys, err := cr.api.ListJWTKeys(cmd.Context(), cr.token, c.workspace(workspace))
			if err != nil {
				return cr.failed("listing JWT keys", err)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tALGORITHM\tSCOPES\tCREATED")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, field(k.Name), k.Algorithm,
					field(strings.Join(k.Scopes, ",")), expiry(k.CreatedAt))
			}
			return tw.Flush()
		}),
	}
	workspaceFlag(cmd, &workspace)
	return cmd
}

func newJWTKeyDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete <id>",
		Short: "Delete a JWT key: JWTs with its kid are refused from now on",
		Args:  args(cobra.ExactArgs(1)),
		RunE: withCredential(func(cmd *cobra.Command, a []string, c *cli, cr *credential) error {
			if err := cr.api.DeleteJWTKey(cmd.Context(), cr.token, a[0]); err != nil {
				return cr.failed("deleting the JWT key", err)
			}
			fmt.Fprintf(c.stdout, "Deleted JWT key %s\n", a[0])
			return nil
		}),
	}
}
