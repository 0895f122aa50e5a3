package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/sigil-auth/sigil/client"
)

// privateKey is SIGIL_PRIVATE_KEY, checked against SIGIL_PUBLIC_KEY when
// that is set too (a mismatched pair in .env is a common paste mistake;
// better caught here than as a 401).
func (c *cli) privateKey() (ed25519.PrivateKey, error) {
	s, err := c.env.require("SIGIL_PRIVATE_KEY", "the base64 Ed25519 key from `sigil keygen`")
	if err != nil {
		return nil, err
	}
	key, err := client.ParsePrivateKey(s)
	if err != nil {
		return nil, usageError{errors.New("SIGIL_PRIVATE_KEY: " + reason(err))}
	}
	if p := c.env.get("SIGIL_PUBLIC_KEY"); p != "" {
		pub, err := client.ParsePublicKey(p)
		if err != nil {
			return nil, usageError{errors.New("SIGIL_PUBLIC_KEY: " + reason(err))}
		}
		if !pub.Equal(key.Public()) {
			return nil, usageError{errors.New("SIGIL_PUBLIC_KEY is not the public half of SIGIL_PRIVATE_KEY")}
		}
	}
	return key, nil
}

func newRegisterCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "register <user_id>",
		Short: "Register a user id with a join code (or log in if it exists) and print an access token",
		Long: `Register checks whether the user id exists; if not, it registers it in the
workspace of SIGIL_JOIN_CODE with the key pair SIGIL_PRIVATE_KEY/SIGIL_PUBLIC_KEY;
if it does, it logs in with that key. Either way the session is saved and the
access token printed. Settings come from the environment or .env: SIGIL_URL,
SIGIL_JOIN_CODE, SIGIL_PRIVATE_KEY, SIGIL_PUBLIC_KEY (optional, checked).`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			return c.register(cmd, a[0])
		},
	}
}

func (c *cli) register(cmd *cobra.Command, userID string) error {
	api, key, err := c.loginSettings()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	fmt.Fprintf(c.stderr, "Checking user id %s at %s\n", userID, api.BaseURL())
	exists, err := api.IDExists(ctx, userID)
	if err != nil {
		return failed("checking the user id", err)
	}
	var tok *client.Tokens
	if !exists {
		joinCode, err := c.env.require("SIGIL_JOIN_CODE", "your workspace's join code")
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stderr, "User id is free; registering")
		tok, err = api.Register(ctx, userID, joinCode, key)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Code == "user_exists" {
			exists = true // taken between the check and the register
		} else if err != nil {
			return failed(opRegister, err)
		}
	}
	if exists {
		fmt.Fprintln(c.stderr, "User id exists; logging in")
		if tok, err = api.LoginKeyPair(ctx, userID, key); err != nil {
			return failed(opLogin, err)
		}
	}
	if err := c.start(api, userID, tok); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Access token: %s\n", tok.AccessToken)
	return nil
}

func newLoginCmd() *cobra.Command {
	var email string
	cmd := &cobra.Command{
		Use:   "login [<user_id> | --email <email>]",
		Short: "Log in with your key pair (or email and password) and save the session",
		Long: `Login signs a fresh challenge with SIGIL_PRIVATE_KEY for the user id given
(or SIGIL_USER_ID) at SIGIL_URL, and saves the session for the other commands.
With --email it logs in with a password instead, read from SIGIL_PASSWORD or,
when stdin is not a terminal, from the first line of stdin; never from a flag.
An account with a second factor also needs SIGIL_MFA_CODE: a code from the
authenticator app, or a recovery code.
It does not print the tokens; ` + "`sigil register`" + ` does.`,
		Args: args(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if email != "" && len(a) == 1 {
				return usageError{errors.New("give a user id or --email, not both")}
			}
			c, err := newCLI(cmd)
			if err != nil {
				return err
			}
			if email != "" {
				return c.loginPassword(cmd.Context(), email)
			}
			userID := c.env.get("SIGIL_USER_ID")
			if len(a) == 1 {
				userID = a[0]
			}
			if userID == "" {
				return usageError{errors.New("no user id: pass it as an argument or set SIGIL_USER_ID (or log in with --email)")}
			}
			return c.loginKeyPair(cmd.Context(), userID)
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "log in with this email and a password instead of a key pair")
	return cmd
}

func (c *cli) loginKeyPair(ctx context.Context, userID string) error {
	api, key, err := c.loginSettings()
	if err != nil {
		return err
	}
	tok, err := api.LoginKeyPair(ctx, userID, key)
	if err != nil {
		return failed(opLogin, err)
	}
	if err := c.start(api, userID, tok); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Logged in as %s (session %s); access token valid until %s\n",
		userID, tok.SessionID, expiry(tok.AccessExpiry()))
	return nil
}

func newKeygenCmd() *cobra.Command {
	var env bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate an Ed25519 key pair and print it (base64)",
		Long: `Keygen prints a new key pair: the private key is the 32-byte RFC 8032 seed,
the public key the raw 32 bytes, both standard base64. With --env it prints
SIGIL_PRIVATE_KEY=… and SIGIL_PUBLIC_KEY=… lines to append to .env.
The private key is shown only here: keep it in a password manager.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := client.GenerateKey()
			if err != nil {
				return err
			}
			printKeyPair(cmd.OutOrStdout(), key, env)
			return nil
		},
	}
	cmd.Flags().BoolVar(&env, "env", false, "print SIGIL_PRIVATE_KEY=/SIGIL_PUBLIC_KEY= lines for a .env file")
	return cmd
}

// printKeyPair prints a key pair in keygen's format.
func printKeyPair(w io.Writer, key ed25519.PrivateKey, env bool) {
	priv, pub := client.EncodePrivateKey(key), client.EncodePublicKey(key.Public().(ed25519.PublicKey))
	if env {
		fmt.Fprintf(w, "SIGIL_PRIVATE_KEY=%s\nSIGIL_PUBLIC_KEY=%s\n", priv, pub)
		return
	}
	fmt.Fprintf(w, "Private Key (Base64): %s\nPublic Key (Base64): %s\n", priv, pub)
}
