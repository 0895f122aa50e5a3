package authn

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
)

// ConnectionChoice is a connection as the sign-in page offers it.
type ConnectionChoice struct {
	ID   string
	Kind string
	Name string
}

// ConnectionForEmail is home realm discovery: the connection that routes
// the domain of email, confined to workspace ws when it is not "" (the
// app's, during an authorization request). No connection is ErrNotFound,
// which the sign-in page turns into "use your password".
func (s *Service) ConnectionForEmail(ctx context.Context, ws, email string) (ConnectionChoice, error) {
	_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if !ok || !domainPattern.MatchString(domain) {
		return ConnectionChoice{}, invalid("enter your work email address")
	}
	c, err := s.store.GetConnectionByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ws != "" && c.WorkspaceID != ws) {
		return ConnectionChoice{}, ErrNotFound
	} else if err != nil {
		return ConnectionChoice{}, err
	}
	return ConnectionChoice{ID: c.ID, Kind: c.Kind, Name: c.Name}, nil
}

// WorkspaceConnections are the connections the sign-in page shows as
// buttons when it knows the workspace (an app's authorization request),
// oldest first: a connection added later goes below the buttons people
// know instead of pushing them down (the API lists newest first).
func (s *Service) WorkspaceConnections(ctx context.Context, ws string) ([]ConnectionChoice, error) {
	list, err := s.store.ListConnections(ctx, ws)
	if err != nil {
		return nil, err
	}
	slices.Reverse(list)
	out := make([]ConnectionChoice, 0, len(list))
	for _, c := range list {
		out = append(out, ConnectionChoice{ID: c.ID, Kind: c.Kind, Name: c.Name})
	}
	return out, nil
}
