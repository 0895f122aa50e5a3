package web

import (
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The instance pages, for instance admins' browser sessions: every
// workspace with its member and API-key counts, and creating one (its
// join code shown once). Anyone else gets authn's refusal (403) as a page.

type workspacesData struct {
	Workspaces []authn.WorkspaceSummary
	Created    *authn.WorkspaceView
	Issuer     string
	Name       string // the typed name, after a refusal
}

func workspacesPage() page {
	return page{Title: "Workspaces", Lead: "Every workspace of this Sigil, with its members and live API keys.", Nav: "workspaces"}
}

// workspaces is GET /dashboard/workspaces.
func (s *Server) workspaces(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := workspacesPage()
	if r.URL.Query().Get("welcome") != "" {
		p.Notice = "Sigil is set up. You own your workspace and administer this Sigil: create more workspaces here, and invite people to yours from Members."
	}
	return s.renderWorkspaces(w, r, b, http.StatusOK, p, "")
}

func (s *Server) renderWorkspaces(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, name string) error {
	list, err := s.auth.ListWorkspaces(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	p.Data = workspacesData{Workspaces: list, Name: name}
	return s.dash(w, r, status, "dash_workspaces", b, p)
}

// createWorkspace is POST /dashboard/workspaces: the join code is shown
// once.
func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	name := r.PostFormValue("name")
	v, err := s.auth.CreateWorkspace(r.Context(), authn.BrowserPrincipal(b), name)
	p := workspacesPage()
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		p.Error = msg
		return s.renderWorkspaces(w, r, b, status, p, name)
	}
	p.Title, p.Lead = "Workspace created", "Share its join code with the people who should sign up. The first to join becomes its owner."
	p.Data = workspacesData{Created: &v, Issuer: s.issuer}
	return s.dash(w, r, http.StatusCreated, "dash_workspace_created", b, p)
}
