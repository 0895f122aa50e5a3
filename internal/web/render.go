package web

import (
	"bytes"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// page is what every template gets.
type page struct {
	Title  string
	Lead   string // one line under the title: what this page is for
	Error  string // shown in the alert region
	Notice string // a success message
	Brand  authn.Branding
	// BrandCSS is the workspace's stylesheet (its accent colour), "" for
	// Sigil's own look.
	BrandCSS string
	Email    string // to refill the email field
	Return   string // the authorization request a sign-in continues
	Token    string // a reset or verification token, carried by a form
	// Passkey is the JSON of WebAuthn request options for the page's
	// script (the second step's "use your passkey"), "" for none.
	Passkey  string
	Link     string // a follow-up link of a message page
	LinkText string
	Signed   *authn.BrowserSession
	// Nav is the dashboard section the page belongs to; Data its content.
	Nav  string
	Data any
	// FormAction are the origins besides our own that a form on this page
	// may end up at (the app that a sign-in redirects to): CSP form-action
	// governs the redirect after a post too.
	FormAction []string
	// Refresh, if set, sends the browser on at once (a same-origin path):
	// for a step that follows a form post to another site, which the
	// page's CSP form-action would refuse as the post's redirect.
	Refresh string
	// SSO are the connections the sign-in page offers as buttons.
	SSO []authn.ConnectionChoice
	// CSRF is the browser session's CSRF proof, which every post form
	// carries (render fills it in).
	CSRF string
}

// templates holds one parsed template set per page, each with the layout.
type templates struct{ byName map[string]*template.Template }

func parseTemplates() (*templates, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		layout := "templates/layout.html"
		if strings.HasPrefix(base, "dash_") {
			layout = "templates/dash_layout.html"
		}
		if base == "dash_layout" || base == "head" {
			continue
		}
		tpl, err := template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/head.html", layout, n)
		if err != nil {
			return nil, err
		}
		t.byName[base] = tpl
	}
	return t, nil
}

// funcs are the templates' helpers: presentation only.
var funcs = template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"whenT":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"sessionLabel": sessionLabel,
	"device":       device,
	"kindName":     kindName,
	"sentence":     sentence,
}

// defaultBrand is how pages look outside any workspace.
var defaultBrand = authn.Branding{DisplayName: "Sigil"}

// render writes page name with status (ServeHTTP set the security headers).
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.Brand.DisplayName == "" {
		p.Brand = defaultBrand
	}
	if p.Signed != nil {
		p.CSRF = s.auth.CSRFProof(*p.Signed)
	} else if b := s.browser(r); b != nil {
		p.CSRF = s.auth.CSRFProof(*b)
	}
	buf := bufs.Get().(*bytes.Buffer)
	defer putBuf(buf)
	if err := s.pages.byName[name].ExecuteTemplate(buf, "layout", p); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if len(p.FormAction) > 0 {
		// ServeHTTP set the policy; this page's forms may also end at the app.
		h.Set("Content-Security-Policy", csp(p.FormAction))
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// bufs are render's page buffers: a dashboard page of 100 rows is about
// 60 KB, which a fresh buffer would reach by growing (and copying) ten
// times.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBuf returns buf to bufs, unless it grew past 1 MiB (a page that
// large is rare; keeping its buffer would pin the memory).
func putBuf(buf *bytes.Buffer) {
	if buf.Cap() > 1<<20 {
		return
	}
	buf.Reset()
	bufs.Put(buf)
}

// defaultCSP is every answer's policy unless a page widens form-action.
var defaultCSP = csp(nil)

// csp is the policy of every page: our own script and style only, images
// also from https (workspace logos), no framing, forms to ourselves and
// to the app a sign-in returns to.
func csp(formAction []string) string {
	fa := "'self'"
	for _, o := range formAction {
		if o != "" && !strings.ContainsAny(o, " ;,'") {
			fa += " " + o
		}
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
		"connect-src 'self'; form-action " + fa + "; frame-ancestors 'none'; base-uri 'none'"
}

// failPage renders an error the handler could not place on its own page.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := explain(err)
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "page failed", "path", r.URL.Path, "err", err)
	}
	title := "Something went wrong"
	var ce *authn.ClientError
	if errors.As(err, &ce) {
		title = "This sign-in link doesn't work"
	}
	link, linkText := "/login", "Back to sign in"
	if strings.HasPrefix(r.URL.Path, "/dashboard") && s.browser(r) != nil {
		// Signed in already: the way on is the dashboard, not a sign-in.
		link, linkText = "/dashboard", "Back to the dashboard"
		if status == http.StatusForbidden && r.Method == http.MethodGet {
			title = "You can't open this page"
			msg = "Your account has no access to it. Ask an owner or admin of your workspace if you need what is here."
		}
	}
	retryAfter(w, err)
	s.render(w, r, status, "message", page{Title: title, Lead: msg, Link: link, LinkText: linkText})
}

// explain turns a domain error into a status and a sentence for a person:
// what happened and what to do next.
func explain(err error) (int, string) {
	var ce *authn.ClientError
	if errors.As(err, &ce) {
		return http.StatusBadRequest, "This sign-in link is not valid: " + ce.Detail + ". Go back to the app and try again; if it keeps happening, tell the app's developers."
	}
	var e *authn.Error
	if !errors.As(err, &e) {
		if authn.Unavailable(err) {
			return http.StatusServiceUnavailable, "Signing in is briefly unavailable. Try again in a few seconds."
		}
		return http.StatusInternalServerError, "Something failed on our side. Try again in a moment."
	}
	switch e.Code {
	case authn.CodeInvalidCredentials:
		if e != authn.ErrInvalidCredentials { // a specific refusal, such as a wrong current password
			return http.StatusUnauthorized, sentence(e.Detail)
		}
		return http.StatusUnauthorized, "That email and password don't match an account. Check them and try again, or reset your password."
	case authn.CodeRateLimited:
		return http.StatusTooManyRequests, "Too many attempts. Wait " + waitText(e) + " and try again."
	case authn.CodeInvalidCode:
		return http.StatusUnauthorized, "That code is not valid. Enter the current code from your authenticator app, or an unused recovery code."
	case authn.CodeInvalidJoinCode:
		return http.StatusUnauthorized, "That join code is not valid. Ask your workspace's admin for the current one."
	case authn.CodeEmailExists:
		if e != authn.ErrEmailExists { // told to an admin: "… is already a member"
			return http.StatusConflict, sentence(e.Detail)
		}
		return http.StatusConflict, "An account with that email already exists in this workspace. Sign in instead, or reset your password."
	case authn.CodeInvalidToken:
		return http.StatusBadRequest, "This link has expired or was already used. Ask for a new one."
	case authn.CodeUnavailable:
		return http.StatusServiceUnavailable, "Signing in is briefly unavailable. Try again in a few seconds."
	case authn.CodeInvalidRequest:
		return http.StatusBadRequest, sentence(e.Detail)
	case authn.CodeMFAEnrolment:
		return http.StatusForbidden, "Your workspace requires two-step verification. Add a passkey or an authenticator app on the Security page of your dashboard first."
	case authn.CodeNotFound:
		return http.StatusNotFound, "There is nothing here."
	case authn.CodeForbidden, authn.CodeInsufficientScope:
		return http.StatusForbidden, sentence(e.Detail)
	case authn.CodeConflict, authn.CodeLastKey, authn.CodeKeyExists:
		return http.StatusConflict, sentence(e.Detail)
	}
	return http.StatusBadRequest, sentence(e.Detail)
}

// inline is explain for an error a form shows in its own alert: ok is
// false for a server failure, which gets the error page instead.
func inline(err error) (status int, msg string, ok bool) {
	status, msg = explain(err)
	return status, msg, status < 500
}

// waitText is a rate limit's wait in words.
func waitText(e *authn.Error) string {
	n := ratelimit.Seconds(e.RetryAfter)
	if n <= 1 {
		return "a second"
	}
	return strconv.Itoa(n) + " seconds"
}

// sentence capitalises a domain detail and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return "The request was not valid."
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// retryAfter sets Retry-After on a rate-limited answer.
func retryAfter(w http.ResponseWriter, err error) {
	var e *authn.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.Seconds(e.RetryAfter)))
	}
}
