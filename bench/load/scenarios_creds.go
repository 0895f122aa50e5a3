package main

import (
	"context"
	"fmt"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// Setups and ops of the credential scenarios (issues 3 and 4). Each setup
// starts from registerWorker (a key-pair user with a session in the run's
// workspace), adds the credential the op presents, and warms the server
// with one op, so caches are as they would be after the first request.

// withAPIKey is the setup of the API-key scenarios: it gives w an API key
// of its own (in w's workspace) and warms the server with one op.
// client-credentials gets its first token that way (the server hands the
// same token back while it is valid: the design being measured), and
// introspect asks about w's own access token with the key as the
// resource server's credential.
func withAPIKey(op func(context.Context, *loadkit.API, *worker) error) func(context.Context, *loadkit.API, *worker) error {
	return func(ctx context.Context, sigil *loadkit.API, w *worker) (err error) {
		if err = registerWorker(ctx, sigil, w); err != nil {
			return err
		}
		if w.key, err = sigil.CreateAPIKey(ctx, w.t.AccessToken); err != nil {
			return err
		}
		return op(ctx, sigil, w)
	}
}

// withResourceKey is withAPIKey with a resource server's key (scope
// tokens:introspect, which only the admin token can grant here).
func withResourceKey(op func(context.Context, *loadkit.API, *worker) error) func(context.Context, *loadkit.API, *worker) error {
	return func(ctx context.Context, sigil *loadkit.API, w *worker) (err error) {
		if err = registerWorker(ctx, sigil, w); err != nil {
			return err
		}
		if w.key, err = sigil.CreateResourceKey(ctx, w.Admin, w.WorkspaceID); err != nil {
			return err
		}
		return op(ctx, sigil, w)
	}
}

func apiKeyHello(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.Get(ctx, "/", "X-API-KEY", w.key.Key)
}

// authorize is forward-auth as Traefik sends it: GET /v1/authorize with
// the client's X-API-KEY and the original request in X-Forwarded-*.
func authorize(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.Get(ctx, "/v1/authorize", "X-API-KEY", w.key.Key, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/orders/42")
}

// warmJWT gives w a JWT key of its own, mints a customer JWT with it and
// makes one GET / with that.
func warmJWT(ctx context.Context, sigil *loadkit.API, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.jwt, err = sigil.CustomerJWT(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return jwtHello(ctx, sigil, w)
}

func jwtHello(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.Get(ctx, "/", "Authorization", "Bearer "+w.jwt)
}

// signupWorker gives w a password user of its own (POST /v1/auth/signup
// with the workspace's join code: one argon2id hash on the server).
func signupWorker(ctx context.Context, sigil *loadkit.API, w *worker) error {
	w.email, w.password = fmt.Sprintf("load-%d@bench.example.com", loadkit.Seq()), "correct horse battery staple"
	return sigil.Signup(ctx, w.email, w.password, w.Join)
}

func passwordLogin(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.PasswordLogin(ctx, w.email, w.password)
}

func clientCredentials(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.ClientCredentials(ctx, w.key)
}

func introspect(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.Introspect(ctx, w.key.Key, w.t.AccessToken)
}

// jwks needs no credential; the warm-up fetch fills any cache.
func warmJWKS(ctx context.Context, sigil *loadkit.API, w *worker) error { return jwks(ctx, sigil, w) }

func jwks(ctx context.Context, a *loadkit.API, _ *worker) error {
	return a.Get(ctx, "/.well-known/jwks.json")
}
