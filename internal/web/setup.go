package web

import (
	"errors"
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// First run: /setup?token=… is the link `sigil serve` prints while the
// instance has no account. authn.Setup holds every rule; this only shows
// the form, a dead link, or signs the new admin in.

// setupData refills the form after a refusal.
type setupData struct{ Workspace string }

func setupPage(tok string) page {
	return page{Title: "Set up Sigil", Token: tok, Data: setupData{},
		Lead: "Create the first workspace and your account. You will own the workspace and administer this Sigil."}
}

// deadSetup is the page of a setup link that no longer works (404: the
// link names nothing that exists any more).
func deadSetup(done bool) page {
	if done {
		return page{Title: "Sigil is already set up", Lead: "Someone created the first account while you were on this page. Sign in, or ask them for a join code.",
			Link: "/login", LinkText: "Sign in"}
	}
	return page{Title: "This setup link no longer works",
		Lead: "It expired, was used, or a newer link replaced it. If nobody has set up this Sigil yet, restart sigil serve: " +
			"it prints a new link, and only the newest one works. If it is set up, sign in.",
		Link: "/login", LinkText: "Sign in"}
}

// setupPage is GET /setup?token=…: the form, for a live link only.
func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if err := s.auth.CheckSetup(r.Context(), tok); errors.Is(err, authn.ErrInvalidToken) {
		s.render(w, r, http.StatusNotFound, "message", deadSetup(false))
		return nil
	} else if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "setup", setupPage(tok))
	return nil
}

// setup is POST /setup: the workspace, the account, a browser session,
// then the dashboard's workspace list.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	in := authn.SetupInput{Token: r.PostFormValue("token"), Workspace: r.PostFormValue("workspace"),
		Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}
	b, err := s.auth.Setup(r.Context(), s.clientIP(r), in)
	switch {
	case errors.Is(err, authn.ErrInvalidToken), errors.Is(err, authn.ErrSetupDone):
		s.render(w, r, http.StatusNotFound, "message", deadSetup(errors.Is(err, authn.ErrSetupDone)))
		return nil
	case err != nil:
		p := setupPage(in.Token)
		p.Email, p.Data = in.Email, setupData{Workspace: in.Workspace}
		return s.formError(w, r, "setup", p, err)
	}
	s.startCookie(w, r, b)
	redirect(w, r, "/dashboard/workspaces?welcome=1")
	return nil
}
