package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/internal/config"
)

// newKeysRotateCmd is `sigil keys rotate`: it works on the database
// directly (like serve), so it takes the server's configuration.
func newKeysRotateCmd() *cobra.Command {
	var prepublish string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate the server's token-signing key (published first, signs after --prepublish)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cmd.Flags(), nil, os.Getenv, ".env")
			if err != nil {
				return usageError{err}
			}
			wait, err := time.ParseDuration(prepublish)
			if err != nil {
				return usageError{fmt.Errorf("--prepublish: %w", err)}
			}
			ctx := cmd.Context()
			b, keys, _, err := open(ctx, cfg)
			if err != nil {
				return err
			}
			defer b.store.Close()
			rec, err := keys.Rotate(ctx, wait)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing key %s (%s), published now, signs from %s\n",
				rec.ID, rec.Algorithm, rec.ActiveFrom.UTC().Format("2006-01-02T15:04:05Z"))
			return nil
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().StringVar(&prepublish, "prepublish", "10m",
		"how long the new key is published before it signs (verifiers caching the JWKS see it first)")
	return cmd
}
