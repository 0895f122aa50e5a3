package verify_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/sigil-auth/sigil/verify"
)

// A resource server that accepts Sigil credentials: any valid one for
// GET /me, and only those with the "orders:write" scope for POST /orders.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.New(ctx, verify.Config{
		Issuer:     "https://auth.example.com",
		Credential: os.Getenv("SIGIL_API_KEY"), // confines the service to that key's workspace
		Leeway:     5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "%s (%s) in %s may %v\n", p.Subject, p.Kind, p.Workspace, p.Scopes)
	})
	orders := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /me", me)
	mux.Handle("POST /orders", verify.RequireScope("orders:write")(orders))
	log.Fatal(http.ListenAndServe("127.0.0.1:8081", v.Middleware(mux)))
}

// Checking a credential outside HTTP middleware, e.g. in a WebSocket or
// gRPC handshake.
func ExampleVerifier_VerifyToken() {
	var v *verify.Verifier // from verify.New
	p, err := v.VerifyToken(context.Background(), "eyJhbGciOiJFZERTQSIs…")
	switch {
	case errors.Is(err, verify.ErrUnavailable):
		// Sigil could not be asked; try again shortly.
	case err != nil:
		// Refuse: invalid_token.
	default:
		fmt.Println(p.Subject, p.HasScope("read"))
	}
}
