package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/client"
)

// A long-running key-pair client: it starts from the session saved by an
// earlier run, logs in with its key when that cannot be refreshed, and
// saves every rotated pair (the old refresh token dies on rotation).
func ExampleClient_KeyPairTokenSource() {
	c := client.New(os.Getenv("SIGIL_URL"))
	key, err := client.ParsePrivateKey(os.Getenv("SIGIL_PRIVATE_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	var saved *client.Tokens
	if b, err := os.ReadFile("session.json"); err == nil {
		json.Unmarshal(b, &saved)
	}
	ts := c.KeyPairTokenSource("alice", key,
		client.WithTokens(saved),
		client.WithOnRefresh(func(t *client.Tokens) {
			b, _ := json.Marshal(t)
			if err := os.WriteFile("session.json", b, 0o600); err != nil {
				log.Print(err)
			}
		}))
	// Every request carries a fresh token; a 401 triggers one refresh and
	// one retry, a short 429 is waited out.
	api := &http.Client{Transport: &client.Transport{Source: ts}}
	resp, err := api.Get("https://api.example.com/v1/things")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}

// A service authenticates with its API key through a stock
// golang.org/x/oauth2 client; the source exchanges the key again when the
// token expires.
func ExampleClient_APIKeyTokenSource() {
	c := client.New(os.Getenv("SIGIL_URL"))
	ts := c.APIKeyTokenSource(os.Getenv("SIGIL_API_KEY"), "billing-worker")
	api := oauth2.NewClient(context.Background(), ts)
	resp, err := api.Get("https://api.example.com/v1/invoices")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
