package client_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// The RFC 8032 test-vector seed, as `sigil keygen` would print it.
func ExampleParsePrivateKey() {
	key, err := client.ParsePrivateKey("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.EncodePublicKey(key.Public().(ed25519.PublicKey)))
	// Output: 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
}

// Register a user id, or log in if it is taken: what `sigil register`
// does.
func ExampleClient_Register() {
	ctx := context.Background()
	c := client.New(os.Getenv("SIGIL_URL"))
	key, err := client.ParsePrivateKey(os.Getenv("SIGIL_PRIVATE_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := c.Register(ctx, "alice", os.Getenv("SIGIL_JOIN_CODE"), key)
	var e *client.Error
	if errors.As(err, &e) && e.Code == "user_exists" {
		tok, err = c.LoginKeyPair(ctx, "alice", key)
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("session", tok.SessionID, "access token valid until", tok.AccessExpiry())
}

// Keep a session alive: refresh shortly before the access token expires,
// and always keep the newest refresh token.
func ExampleClient_Refresh() {
	ctx := context.Background()
	c := client.New("https://auth.example.com")
	tok := &client.Tokens{ /* from a login */ }
	if time.Until(tok.AccessExpiry()) < time.Minute {
		next, err := c.Refresh(ctx, tok.RefreshToken)
		var e *client.Error
		if errors.As(err, &e) && e.Status == 401 {
			log.Fatal("session ended; log in again")
		} else if err != nil {
			log.Fatal(err)
		}
		tok = next
	}
	id, err := c.Whoami(ctx, tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Subject, id.Scopes)
}

// Add a backup key to the keyring, then list it.
func ExampleClient_AddKey() {
	ctx := context.Background()
	c := client.New("https://auth.example.com")
	access := os.Getenv("ACCESS_TOKEN")
	backup, err := client.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	k, err := c.AddKey(ctx, access, "alice", backup)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("added", k.ID)
	keys, err := c.ListKeys(ctx, access)
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Println(k.ID, k.PublicKey, k.LastUsedAt)
	}
}

// A service holding an API key trades it for a short-lived bearer token
// per job; the same job id gets the same token while it is valid.
func ExampleClient_ExchangeAPIKey() {
	ctx := context.Background()
	c := client.New("https://auth.example.com")
	tok, err := c.ExchangeAPIKey(ctx, os.Getenv("SIGIL_API_KEY"), "nightly-report")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Authorization: Bearer", tok.AccessToken, "for", time.Duration(tok.ExpiresIn)*time.Second)
}

// Create a read-only key for CI that expires in 30 days; its secret is
// shown only in this answer.
func ExampleClient_CreateAPIKey() {
	ctx := context.Background()
	c := client.New("https://auth.example.com")
	k, err := c.CreateAPIKey(ctx, os.Getenv("ACCESS_TOKEN"), client.APIKeyRequest{
		Name: "ci", Scopes: []string{"read"}, ExpiresIn: 30 * 24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.ID, k.Key) // store k.Key in the CI's secret store now
}
