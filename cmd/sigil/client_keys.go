package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// newKeysCmd groups the keyring commands (the user's own public keys) and
// the server's signing-key rotation, which the lead's server_ops.go
// provides.
func newKeysCmd() *cobra.Command {
	return newGroupCmd("keys", "Manage your keyring (add, list, remove) or rotate the server's signing key", "",
		newKeysAddCmd(), newKeysListCmd(), newKeysRemoveCmd(), newKeysRotateCmd())
}

func newKeysAddCmd() *cobra.Command {
	var keyB64 string
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a public key to your keyring (a backup key, another device)",
		Long: `Add proves possession of a new key by signing a fresh challenge with it and
adds its public half to your keyring. With --private-key it uses that key
(base64 seed; note that command-line flags are visible to other local users
in the process list); without, it generates one and prints it once.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			generated := keyB64 == ""
			var key ed25519.PrivateKey
			if generated {
				key, err = client.GenerateKey()
			} else if key, err = client.ParsePrivateKey(keyB64); err != nil {
				err = usageError{errors.New("--private-key: " + reason(err))}
			}
			if err != nil {
				return err
			}
			api, s, err := c.current(cmd.Context())
			if err != nil {
				return err
			}
			k, err := api.AddKey(cmd.Context(), s.AccessToken, s.UserID, key)
			if err != nil {
				return failed("adding the key", err)
			}
			fmt.Fprintf(c.stdout, "Added key %s\n", k.ID)
			if generated {
				printKeyPair(c.stdout, key, false)
				fmt.Fprintln(c.stderr, "Store the private key now: it is not saved anywhere")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyB64, "private-key", "", "base64 private key to add (default: generate one)")
	return cmd
}

func newKeysListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the public keys and passkeys of your keyring",
		Args:  args(cobra.NoArgs),
		RunE: withSession(func(cmd *cobra.Command, _ []string, c *cli, api *client.Client, s *session) error {
			keys, err := api.ListKeys(cmd.Context(), s.AccessToken)
			if err != nil {
				return failed("listing keys", err)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPUBLIC KEY\tCREATED\tLAST USED")
			for _, k := range keys {
				used := "never"
				if k.LastUsedAt != nil {
					used = expiry(*k.LastUsedAt)
				}
				key := k.PublicKey
				if k.Kind == "passkey" {
					key = "passkey: " + k.Name
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, key, expiry(k.CreatedAt), used)
			}
			return tw.Flush()
		}),
	}
}

func newKeysRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "remove <id>",
		Short: "Remove a key from your keyring (the last one cannot be removed)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: withSession(func(cmd *cobra.Command, a []string, c *cli, api *client.Client, s *session) error {
			if err := api.RemoveKey(cmd.Context(), s.AccessToken, a[0]); err != nil {
				return failed("removing the key", err)
			}
			fmt.Fprintf(c.stdout, "Removed key %s\n", a[0])
			return nil
		}),
	}
}
