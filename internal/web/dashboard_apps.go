package web

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Apps (OAuth2 clients) and the audit log, for owners and admins.

type appsData struct {
	Apps    []authn.AppView
	Created *authn.AppView
	Issuer  string
	Form    url.Values
}

func appsPage() page {
	return page{Title: "Apps", Lead: "Web and mobile apps that send their users to this workspace's sign-in page.", Nav: "apps"}
}

// apps is GET /dashboard/apps.
func (s *Server) apps(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	return s.renderApps(w, r, b, http.StatusOK, appsPage(), nil)
}

func (s *Server) renderApps(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, form url.Values) error {
	list, err := s.auth.ListApps(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("deleted") != "" {
		p.Notice = "App deleted. It can no longer start sign-ins or exchange codes."
	}
	p.Data = appsData{Apps: list, Issuer: s.issuer, Form: form}
	return s.dash(w, r, status, "dash_apps", b, p)
}

// lines splits a textarea into its non-empty lines.
func lines(v string) []string {
	out := []string{}
	for l := range strings.Lines(v) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// createApp is POST /dashboard/apps; a confidential app's secret is shown
// once.
func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	name, method := r.PostFormValue("name"), r.PostFormValue("type")
	redirects, logouts := lines(r.PostFormValue("redirect_uris")), lines(r.PostFormValue("post_logout_redirect_uris"))
	in := authn.AppInput{Name: &name, RedirectURIs: &redirects, PostLogoutRedirectURIs: &logouts, TokenEndpointAuthMethod: &method}
	a, err := s.auth.CreateApp(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, in)
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		p := appsPage()
		p.Error = msg
		return s.renderApps(w, r, b, status, p, r.PostForm)
	}
	p := appsPage()
	p.Title, p.Lead = "App registered", "Configure your OpenID Connect client with these values."
	p.Data = appsData{Created: &a, Issuer: s.issuer}
	return s.dash(w, r, http.StatusCreated, "dash_app_created", b, p)
}

// deleteApp is POST /dashboard/apps/{id}/delete.
func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.DeleteApp(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, "/dashboard/apps?deleted=1")
	return nil
}

// auditPageSize is how many events one audit page shows.
const auditPageSize = 50

type auditData struct {
	Events []authn.AuditEntry
	Action string
	Actor  string
	Next   string // the query of the next page, "" on the last
}

// audit is GET /dashboard/audit (?action=, ?actor=, ?cursor=), and with
// ?format=csv the same selection (up to 200 events) as a CSV file.
func (s *Server) audit(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	q := r.URL.Query()
	csvOut := q.Get("format") == "csv"
	limit := auditPageSize
	if csvOut {
		limit = 200
	}
	aq := authn.AuditQuery{WorkspaceID: b.WorkspaceID, Action: strings.TrimSpace(q.Get("action")),
		Actor: strings.TrimSpace(q.Get("actor")), Cursor: q.Get("cursor"), Limit: limit + 1}
	events, err := s.auth.ListAudit(r.Context(), authn.BrowserPrincipal(b), aq)
	if err != nil {
		return err
	}
	if csvOut {
		return writeAuditCSV(w, events[:min(limit, len(events))])
	}
	d := auditData{Events: events[:min(limit, len(events))], Action: aq.Action, Actor: aq.Actor}
	if len(events) > limit {
		d.Next = url.Values{"action": {aq.Action}, "actor": {aq.Actor}, "cursor": {events[limit-1].ID}}.Encode()
	}
	p := page{Title: "Audit log", Lead: "Every sign-in and every change to keys, members and settings, newest first.", Nav: "audit", Data: d}
	return s.dash(w, r, http.StatusOK, "dash_audit", b, p)
}

// writeAuditCSV writes events as CSV. Cells a spreadsheet would run as a
// formula are prefixed with a quote (CSV injection).
func writeAuditCSV(w http.ResponseWriter, events []authn.AuditEntry) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="sigil-audit.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "action", "actor", "target", "method", "client_ip", "details"})
	for _, e := range events {
		var det []string
		for k, v := range e.Details {
			det = append(det, k+"="+v)
		}
		row := []string{e.Time.UTC().Format("2006-01-02T15:04:05Z"), e.Action, e.Actor, e.Target, e.Method, e.ClientIP, strings.Join(det, " ")}
		for i, c := range row {
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				row[i] = "'" + c
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
