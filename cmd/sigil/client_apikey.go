package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// newAPIKeyCmd groups the API-key commands (API.md §5.1).
func newAPIKeyCmd() *cobra.Command {
	return newGroupCmd("apikey", "Manage API keys (create, list, revoke, rotate)", credentialHelp("apikey"),
		newAPIKeyCreateCmd(), newAPIKeyListCmd(), newAPIKeyRevokeCmd(), newAPIKeyRotateCmd())
}

// warnShownOnce goes to stderr after a secret is printed on stdout.
const warnShownOnce = "Store the %s now: it will not be shown again\n"

func newAPIKeyCreateCmd() *cobra.Command {
	var (
		name, workspace string
		scopes          []string
		expiresIn       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "create --name <name> [--scope <scope>]... [--expires-in <duration>]",
		Short: "Create an API key and print it (shown only once)",
		Args:  args(cobra.NoArgs),
		// Flags are checked before any credential is looked for.
		PreRunE: func(*cobra.Command, []string) error {
			if name == "" {
				return usageError{errors.New("--name is required")}
			}
			if expiresIn < 0 || expiresIn > 0 && expiresIn < time.Second {
				return usageError{errors.New("--expires-in must be 0 (never) or at least 1s, e.g. 720h")}
			}
			return nil
		},
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			k, err := cr.api.CreateAPIKey(cmd.Context(), cr.token, client.APIKeyRequest{
				Name: name, Scopes: scopes, ExpiresIn: expiresIn, WorkspaceID: c.workspace(workspace)})
			if err != nil {
				return cr.failed("creating the API key", err)
			}
			printNewAPIKey(c.stdout, k)
			fmt.Fprintf(c.stderr, warnShownOnce, "API key")
			return nil
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "a name to recognise the key by (required)")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "a scope of the key; repeat for more (default: all of yours)")
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "lifetime, e.g. 720h (default: never expires)")
	workspaceFlag(cmd, &workspace)
	return cmd
}

// printNewAPIKey prints a created or rotated key, the secret last.
func printNewAPIKey(w io.Writer, k *client.NewAPIKey) {
	fmt.Fprintf(w, "ID: %s\nName: %s\nScopes: %s\nExpires: %s\nKey: %s\n",
		k.ID, k.Name, strings.Join(k.Scopes, " "), instantOr(k.ExpiresAt, "never"), k.Key)
}

// instantOr renders an optional instant, or none when it is nil.
func instantOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return expiry(*t)
}

func newAPIKeyListCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API keys (without their secrets)",
		Args:  args(cobra.NoArgs),
		RunE: withCredential(func(cmd *cobra.Command, _ []string, c *cli, cr *credential) error {
			keys, err := cr.api.ListAPIKeys(cmd.Context(), cr.token, c.workspace(workspace))
			if err != nil {
				return cr.failed("listing API keys", err)
			}
			return printAPIKeys(c.stdout, keys, time.Now())
		}),
	}
	workspaceFlag(cmd, &workspace)
	return cmd
}

// printAPIKeys prints one key a line; fields never hold spaces (an empty
// one is "-"), so the output splits on whitespace.
func printAPIKeys(w io.Writer, keys []client.APIKey, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, field(k.Name), k.Prefix,
			field(strings.Join(k.Scopes, ",")), expiry(k.CreatedAt), instantOr(k.ExpiresAt, "never"),
			instantOr(k.LastUsedAt, "never"), apiKeyStatus(k, now))
	}
	return tw.Flush()
}

// field makes a value one whitespace-free column.
func field(s string) string {
	if s = strings.Join(strings.Fields(s), "_"); s == "" {
		return "-"
	}
	return s
}

// apiKeyStatus says whether the key works at now. A rotated key's
// expiry is the end of its grace period, so it reads "active" until then.
func apiKeyStatus(k client.APIKey, now time.Time) string {
	switch {
	case k.RevokedAt != nil && !k.RevokedAt.After(now):
		return "revoked"
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return "expired"
	}
	return "active"
}

func newAPIKeyRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revoke an API key now",
		Args:  args(cobra.ExactArgs(1)),
		RunE: withCredential(func(cmd *cobra.Command, a []string, c *cli, cr *credential) error {
			if err := cr.api.RevokeAPIKey(cmd.Context(), cr.token, a[0]); err != nil {
				return cr.failed("revoking the API key", err)
			}
			fmt.Fprintf(c.stdout, "Revoked API key %s\n", a[0])
			return nil
		}),
	}
}

func newAPIKeyRotateCmd() *cobra.Command {
	var grace time.Duration
	cmd := &cobra.Command{
		Use:   "rotate <id> [--grace <duration>]",
		Short: "Replace an API key with a new one; the old one works for --grace",
		Args:  args(cobra.ExactArgs(1)),
		// Flags are checked before any credential is looked for.
		PreRunE: func(*cobra.Command, []string) error {
			if grace < 0 {
				return usageError{errors.New("--grace must not be negative")}
			}
			return nil
		},
		RunE: withCredential(func(cmd *cobra.Command, a []string, c *cli, cr *credential) error {
			k, err := cr.api.RotateAPIKey(cmd.Context(), cr.token, a[0], grace)
			if err != nil {
				return cr.failed("rotating the API key", err)
			}
			printNewAPIKey(c.stdout, k)
			fmt.Fprintf(c.stderr, warnShownOnce, "API key")
			fmt.Fprintf(c.stderr, "The old key %s keeps working for %s\n", a[0], grace)
			return nil
		}),
	}
	cmd.Flags().DurationVar(&grace, "grace", 24*time.Hour, "how long the old key keeps working (0: it stops now)")
	return cmd
}
