package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/config"
	"github.com/sigil-auth/sigil/internal/fanout"
)

// newAdminCmd is `sigil admin grant|revoke <email or user id>`: the
// operator marks accounts as instance admins. Like `sigil keys rotate` it
// works on the database directly, so it takes the server's configuration
// and needs no running server or credential; each change is audited in
// the account's workspace (actor "operator").
func newAdminCmd() *cobra.Command {
	return newGroupCmd("admin", "Make accounts instance admins, or take that away (works on the database)", "",
		newAdminSetCmd("grant", "Make an account an instance admin: its browser sessions administer the instance on the dashboard", true),
		newAdminSetCmd("revoke", "Take instance admin away from an account", false))
}

func newAdminSetCmd(verb, short string, admin bool) *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   verb + " <email or user id>",
		Short: short,
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			cfg, err := config.Load(cmd.Flags(), nil, os.Getenv, ".env")
			if err != nil {
				return usageError{err}
			}
			ch, err := setInstanceAdmin(cmd.Context(), cfg, a[0], workspace, admin)
			if err != nil {
				var ae *authn.Error
				if errors.As(err, &ae) {
					return errors.New(ae.Detail) // the sentence, not the code
				}
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), describeChange(ch, admin))
			return nil
		},
	}
	config.RegisterFlags(cmd.Flags())
	cmd.Flags().StringVar(&workspace, "workspace", "", "the account's workspace id, when several workspaces have an account with that email")
	return cmd
}

// setInstanceAdmin opens the database as serve does and makes the change
// through authn, whose audit log is written before it returns.
func setInstanceAdmin(ctx context.Context, cfg config.Config, account, workspace string, admin bool) (authn.InstanceAdminChange, error) {
	b, keys, _, err := open(ctx, cfg)
	if err != nil {
		return authn.InstanceAdminChange{}, err
	}
	defer b.store.Close()
	bus := fanout.NewLocal()
	defer bus.Close()
	auth := authn.New(b.store, keys, nil, bus, authn.Options{Issuer: cfg.Issuer, Log: slog.New(slog.DiscardHandler)})
	defer auth.Close() // flushes the audit event
	return auth.SetInstanceAdmin(ctx, account, workspace, admin)
}

// describeChange is the command's one line of output.
func describeChange(ch authn.InstanceAdminChange, admin bool) string {
	who := ch.UserID
	if ch.Email != "" {
		who = ch.Email + " (" + ch.UserID + ")"
	}
	who += " in workspace " + ch.WorkspaceID
	switch {
	case admin && ch.Changed:
		return who + " is now an instance admin"
	case admin:
		return who + " already is an instance admin"
	case ch.Changed:
		return who + " is no longer an instance admin"
	}
	return who + " was not an instance admin"
}
