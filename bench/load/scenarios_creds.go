package main

import (
	"context"
	"fmt"
)

// Setups and ops of the credential scenarios (issues 3 and 4). Each setup
// starts from registerWorker (a key-pair user with a session in the run's
// workspace), adds the credential the op presents, and warms the server
// with one op, so caches are as they would be after the first request.

// warmAPIKey gives w an API key of its own and makes one GET / with it.
func warmAPIKey(ctx context.Context, sigil *api, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.key, err = sigil.createAPIKey(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return apiKeyHello(ctx, sigil, w)
}

func apiKeyHello(ctx context.Context, a *api, w *worker) error {
	return a.get(ctx, "/", "X-API-KEY", w.key.Key)
}

// warmAuthorize gives w an API key and asks forward-auth about it once.
func warmAuthorize(ctx context.Context, sigil *api, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.key, err = sigil.createAPIKey(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return authorize(ctx, sigil, w)
}

// authorize is forward-auth as Traefik sends it: GET /v1/authorize with
// the client's X-API-KEY and the original request in X-Forwarded-*.
func authorize(ctx context.Context, a *api, w *worker) error {
	return a.get(ctx, "/v1/authorize", "X-API-KEY", w.key.Key, "X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/orders/42")
}

// warmJWT gives w a JWT key of its own, mints a customer JWT with it and
// makes one GET / with that.
func warmJWT(ctx context.Context, sigil *api, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.jwt, err = sigil.customerJWT(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return jwtHello(ctx, sigil, w)
}

func jwtHello(ctx context.Context, a *api, w *worker) error {
	return a.get(ctx, "/", "Authorization", "Bearer "+w.jwt)
}

// signupWorker gives w a password user of its own (POST /v1/auth/signup
// with the workspace's join code: one argon2id hash on the server).
func signupWorker(ctx context.Context, sigil *api, w *worker) error {
	w.email, w.password = fmt.Sprintf("load-%d@bench.example.com", userSeq.Add(1)), "correct horse battery staple"
	return sigil.signup(ctx, w.email, w.password, w.join)
}

func passwordLogin(ctx context.Context, a *api, w *worker) error {
	return a.passwordLogin(ctx, w.email, w.password)
}

// warmClientCredentials gives w an API key and gets its first token (the
// server hands the same token back while it is valid: that is the design
// being measured).
func warmClientCredentials(ctx context.Context, sigil *api, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.key, err = sigil.createAPIKey(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return clientCredentials(ctx, sigil, w)
}

func clientCredentials(ctx context.Context, a *api, w *worker) error {
	return a.clientCredentials(ctx, w.key)
}

// warmIntrospect gives w an API key (the resource server's credential)
// and introspects w's own access token once: both are in one workspace.
func warmIntrospect(ctx context.Context, sigil *api, w *worker) (err error) {
	if err = registerWorker(ctx, sigil, w); err != nil {
		return err
	}
	if w.key, err = sigil.createAPIKey(ctx, w.t.AccessToken); err != nil {
		return err
	}
	return introspect(ctx, sigil, w)
}

func introspect(ctx context.Context, a *api, w *worker) error {
	return a.introspect(ctx, w.key.Key, w.t.AccessToken)
}

// jwks needs no credential; the warm-up fetch fills any cache.
func warmJWKS(ctx context.Context, sigil *api, w *worker) error { return jwks(ctx, sigil, w) }

func jwks(ctx context.Context, a *api, _ *worker) error {
	return a.get(ctx, "/.well-known/jwks.json")
}
