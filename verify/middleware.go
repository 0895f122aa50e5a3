package verify

import (
	"net/http"
	"strings"
)

// Middleware lets through requests whose credential v accepts, with the
// Principal in their context (FromContext), and answers the others itself
// with WriteError: 401 for a missing or bad credential, 503 when the
// Sigil server had to be asked and could not answer.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Verify(r.Context(), r)
		if err != nil {
			WriteError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
	})
}

// RequireScope returns middleware that lets a request through only if its
// principal (put there by Verifier.Middleware, which must run first)
// carries every one of scopes; otherwise it answers 403
// insufficient_scope, or 401 if there is no principal at all.
//
//	mux.Handle("POST /orders", v.Middleware(verify.RequireScope("orders:write")(orders)))
func RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				WriteError(w, ErrMissingCredential)
				return
			}
			for _, s := range scopes {
				if !p.HasScope(s) {
					WriteError(w, insufficientScope(scopes))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// maxCredential bounds a credential's length before any parsing.
const maxCredential = 8 << 10

// credential returns what r presents (API.md §2): the Authorization
// header after an optional "Bearer " (any case), else X-API-KEY.
func credential(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		h = strings.TrimSpace(h[7:])
	}
	if h == "" {
		h = strings.TrimSpace(r.Header.Get("X-API-KEY"))
	}
	return h
}
