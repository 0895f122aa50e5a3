package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var connectionTests = []test{
	{"CreateGetListUpdateDelete", testConnCRUD},
	{"ListNewestFirst", testConnList},
	{"UpdateKeepsIdentityFields", testConnUpdateFixed},
	{"DomainUniqueOnCreate", testConnDomainCreate},
	{"DomainUniqueOnUpdate", testConnDomainUpdate},
	{"DomainMoves", testConnDomainMoves},
	{"DomainListedTwice", testConnDomainTwice},
	{"DeleteOtherWorkspaces", testConnDeleteOther},
	{"LinkGetTouchIdentity", testIdentityLink},
	{"LinkIdentityErrors", testIdentityLinkErrors},
	{"CreateIdentityUser", testIdentityCreateUser},
	{"CreateIdentityUserErrors", testIdentityCreateUserErrors},
	{"IdentitiesGoWithConnection", testIdentityConnDeleted},
	{"IdentitiesGoWithUser", testIdentityUserDeleted},
	{"ConcurrentCreateIdentityUserOneWinner", testRaceCreateIdentityUser},
}

func newConn(id, ws, kind string, created time.Time, domains ...string) store.Connection {
	return store.Connection{ID: id, WorkspaceID: ws, Kind: kind, Name: "Connection " + id,
		Domains: domains, DefaultRole: store.RoleMember,
		Config:  []byte(`{"issuer":"https://idp.example/` + id + `"}`),
		Secrets: []byte("sealed:" + id), CreatedAt: created, UpdatedAt: created}
}

func mustConn(t *testing.T, s store.Store, c store.Connection) store.Connection {
	t.Helper()
	ok(t, "CreateConnection "+c.ID, s.CreateConnection(t.Context(), c))
	return c
}

// checkConn checks that connection c is stored as want.
func checkConn(t *testing.T, s store.Store, what string, want store.Connection) {
	t.Helper()
	got, err := s.GetConnection(t.Context(), want.ID)
	ok(t, "GetConnection "+want.ID, err)
	diff(t, what, want, got)
}

// checkRoute checks which connection routes domain ("" for none).
func checkRoute(t *testing.T, s store.Store, domain, wantID string) {
	t.Helper()
	c, err := s.GetConnectionByDomain(t.Context(), domain)
	if wantID == "" {
		wantErr(t, "GetConnectionByDomain "+domain, err, store.ErrNotFound)
		return
	}
	ok(t, "GetConnectionByDomain "+domain, err)
	if c.ID != wantID {
		t.Errorf("%s routes to %q, want %q", domain, c.ID, wantID)
	}
}

func newIdentity(conn, subject, userID string) store.Identity {
	return store.Identity{ConnectionID: conn, Subject: subject, UserID: userID,
		Email: subject + "@idp.example", Name: "Person " + subject, CreatedAt: t0, LastLoginAt: t0}
}

// ssoUser is an account made by an SSO sign-in: an email, no password.
func ssoUser(id, ws, email string) store.User {
	return store.User{ID: id, WorkspaceID: ws, Role: store.RoleMember, Scopes: []string{"read"},
		CreatedAt: t0, Email: email, EmailVerified: true}
}

// connFixture is the fixture (workspace "ws", owner "alice") with an OIDC
// connection "c1" routing acme.example.
func connFixture(t *testing.T, s store.Store) store.Connection {
	t.Helper()
	fixture(t, s)
	return mustConn(t, s, newConn("c1", "ws", store.ConnOIDC, t0, "acme.example"))
}

func testConnCRUD(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws2")
	// c2 is stored first but created later: the list goes by CreatedAt.
	c2 := newConn("c2", "ws", store.ConnSAML, at(time.Second), "saml.example")
	c2.Metadata = []byte("<EntityDescriptor/>")
	mustConn(t, s, c2)
	c1 := mustConn(t, s, newConn("c1", "ws", store.ConnOIDC, t0, "b.example", "a.example"))
	mustConn(t, s, newConn("c3", "ws2", store.ConnApple, t0))

	wantErr(t, "CreateConnection same id", s.CreateConnection(t.Context(), newConn("c1", "ws", store.ConnOIDC, t0)),
		store.ErrConflict)
	wantErr(t, "CreateConnection unknown workspace",
		s.CreateConnection(t.Context(), newConn("cx", "nowhere", store.ConnOIDC, t0, "x.example")), store.ErrNotFound)
	checkRoute(t, s, "x.example", "")

	c1.Domains = []string{"a.example", "b.example"} // sorted when read
	checkConn(t, s, "c1", c1)
	checkConn(t, s, "c2", c2)
	_, err := s.GetConnection(t.Context(), "nope")
	wantErr(t, "GetConnection unknown", err, store.ErrNotFound)

	list, err := s.ListConnections(t.Context(), "ws")
	ok(t, "ListConnections", err)
	diff(t, "ws's connections, newest first", []store.Connection{c2, c1}, list)
	list, err = s.ListConnections(t.Context(), "nowhere")
	ok(t, "ListConnections unknown workspace", err)
	diff(t, "connections of an unknown workspace", []store.Connection(nil), list)

	got, err := s.GetConnectionByDomain(t.Context(), "b.example")
	ok(t, "GetConnectionByDomain", err)
	diff(t, "connection by domain", c1, got)
	checkRoute(t, s, "saml.example", "c2")
	checkRoute(t, s, "c.example", "")

	want := c1
	want.Name, want.DefaultRole = "Renamed", store.RoleAdmin
	want.Domains = []string{"c.example", "a.example"}
	want.Config, want.Secrets, want.Metadata = []byte(`{"issuer":"https://new.example"}`), []byte("sealed:new"), []byte("<md/>")
	want.UpdatedAt = at(time.Hour)
	got, err = s.UpdateConnection(t.Context(), "c1", func(c *store.Connection) error {
		diff(t, "connection given to fn", c1, *c)
		*c = want
		return nil
	})
	ok(t, "UpdateConnection", err)
	want.Domains = []string{"a.example", "c.example"}
	diff(t, "updated connection", want, got)
	checkConn(t, s, "stored after update", want)
	checkRoute(t, s, "b.example", "")
	checkRoute(t, s, "c.example", "c1")

	_, err = s.UpdateConnection(t.Context(), "nope", func(*store.Connection) error { return nil })
	wantErr(t, "UpdateConnection unknown", err, store.ErrNotFound)
	errStop := errors.New("stop")
	_, err = s.UpdateConnection(t.Context(), "c1", func(c *store.Connection) error {
		c.Name = "not stored"
		return errStop
	})
	wantErr(t, "UpdateConnection fn error", err, errStop)
	checkConn(t, s, "after a refused update", want)

	ok(t, "DeleteConnection", s.DeleteConnection(t.Context(), "ws", "c1"))
	wantErr(t, "DeleteConnection again", s.DeleteConnection(t.Context(), "ws", "c1"), store.ErrNotFound)
	_, err = s.GetConnection(t.Context(), "c1")
	wantErr(t, "GetConnection deleted", err, store.ErrNotFound)
	checkRoute(t, s, "a.example", "")
	checkRoute(t, s, "c.example", "")
	list, err = s.ListConnections(t.Context(), "ws")
	ok(t, "ListConnections after delete", err)
	diff(t, "ws's connections after delete", []store.Connection{c2}, list)
}

// testConnList: newest first, whatever order the connections were stored
// in and whatever their ids; a CreatedAt tie goes to the bytewise larger
// id ("a2" > "B1"), as in every newest-first list.
func testConnList(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws2")
	oldest := newConn("z", "ws", store.ConnOIDC, t0)
	tieB := newConn("B1", "ws", store.ConnSAML, at(time.Minute))
	tieA := newConn("a2", "ws", store.ConnOIDC, at(time.Minute))
	newest := newConn("a", "ws", store.ConnApple, at(time.Hour))
	for _, c := range []store.Connection{tieB, newest, oldest, tieA, newConn("other", "ws2", store.ConnOIDC, at(2*time.Hour))} {
		mustConn(t, s, c)
	}
	list, err := s.ListConnections(t.Context(), "ws")
	ok(t, "ListConnections", err)
	diff(t, "ws's connections, newest first", []store.Connection{newest, tieA, tieB, oldest}, list)
}

// fn may change only the mutable fields: the id, workspace, kind and
// creation time stay.
func testConnUpdateFixed(t *testing.T, s store.Store) {
	c1 := connFixture(t, s)
	mustWorkspace(t, s, "ws2")
	got, err := s.UpdateConnection(t.Context(), "c1", func(c *store.Connection) error {
		c.ID, c.WorkspaceID, c.Kind, c.CreatedAt = "other", "ws2", store.ConnSAML, at(time.Hour)
		c.Name = "Renamed"
		return nil
	})
	ok(t, "UpdateConnection", err)
	c1.Name = "Renamed"
	diff(t, "updated connection", c1, got)
	checkConn(t, s, "stored connection", c1)
	_, err = s.GetConnection(t.Context(), "other")
	wantErr(t, "GetConnection of the id fn set", err, store.ErrNotFound)
}

// A domain routes to one connection in the whole instance: another
// connection naming it, in any workspace, is refused and nothing of it is
// stored.
func testConnDomainCreate(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustWorkspace(t, s, "ws2")
	for _, c := range []store.Connection{
		newConn("c2", "ws", store.ConnSAML, t0, "acme.example"),
		newConn("c3", "ws2", store.ConnOIDC, t0, "other.example", "acme.example"),
	} {
		wantErr(t, "CreateConnection "+c.ID+" with a taken domain", s.CreateConnection(t.Context(), c), store.ErrConflict)
		_, err := s.GetConnection(t.Context(), c.ID)
		wantErr(t, "GetConnection "+c.ID, err, store.ErrNotFound)
	}
	checkRoute(t, s, "acme.example", "c1")
	checkRoute(t, s, "other.example", "")
}

func testConnDomainUpdate(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustWorkspace(t, s, "ws2")
	c2 := mustConn(t, s, newConn("c2", "ws", store.ConnSAML, t0, "two.example"))
	c3 := mustConn(t, s, newConn("c3", "ws2", store.ConnOIDC, t0, "three.example"))
	for _, c := range []store.Connection{c2, c3} {
		_, err := s.UpdateConnection(t.Context(), c.ID, func(c *store.Connection) error {
			c.Name = "not stored"
			c.Domains = []string{"new.example", "acme.example"}
			return nil
		})
		wantErr(t, "UpdateConnection "+c.ID+" to a taken domain", err, store.ErrConflict)
		checkConn(t, s, c.ID+" after the refused update", c)
	}
	checkRoute(t, s, "acme.example", "c1")
	checkRoute(t, s, "new.example", "")
	// Keeping its own domains is no conflict.
	_, err := s.UpdateConnection(t.Context(), "c2", func(c *store.Connection) error {
		c.Domains = append(c.Domains, "more.example")
		return nil
	})
	ok(t, "UpdateConnection keeping its domain", err)
	checkRoute(t, s, "two.example", "c2")
	checkRoute(t, s, "more.example", "c2")
}

// Once a connection drops a domain, another one may take it.
func testConnDomainMoves(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws2")
	mustConn(t, s, newConn("c1", "ws", store.ConnOIDC, t0, "acme.example", "keep.example"))
	mustConn(t, s, newConn("c2", "ws2", store.ConnSAML, t0))
	_, err := s.UpdateConnection(t.Context(), "c1", func(c *store.Connection) error {
		c.Domains = []string{"keep.example"}
		return nil
	})
	ok(t, "UpdateConnection c1 dropping acme.example", err)
	checkRoute(t, s, "acme.example", "")
	got, err := s.UpdateConnection(t.Context(), "c2", func(c *store.Connection) error {
		c.Domains = []string{"acme.example"}
		return nil
	})
	ok(t, "UpdateConnection c2 taking acme.example", err)
	diff(t, "c2's domains", []string{"acme.example"}, got.Domains)
	checkRoute(t, s, "acme.example", "c2")
	checkRoute(t, s, "keep.example", "c1")
	// And back, through delete.
	ok(t, "DeleteConnection c2", s.DeleteConnection(t.Context(), "ws2", "c2"))
	mustConn(t, s, newConn("c3", "ws", store.ConnOIDC, t0, "acme.example"))
	checkRoute(t, s, "acme.example", "c3")
}

// A domain listed twice by one connection is stored once: it is not
// routed by another connection.
func testConnDomainTwice(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	c := mustConn(t, s, newConn("c1", "ws", store.ConnOIDC, t0, "b.example", "a.example", "b.example"))
	c.Domains = []string{"a.example", "b.example"}
	checkConn(t, s, "c1", c)
	got, err := s.UpdateConnection(t.Context(), "c1", func(c *store.Connection) error {
		c.Domains = []string{"c.example", "c.example"}
		return nil
	})
	ok(t, "UpdateConnection", err)
	diff(t, "domains after update", []string{"c.example"}, got.Domains)
}

func testConnDeleteOther(t *testing.T, s store.Store) {
	c1 := connFixture(t, s)
	mustWorkspace(t, s, "ws2")
	wantErr(t, "DeleteConnection of ws's as ws2", s.DeleteConnection(t.Context(), "ws2", "c1"), store.ErrNotFound)
	wantErr(t, "DeleteConnection unknown", s.DeleteConnection(t.Context(), "ws", "nope"), store.ErrNotFound)
	checkConn(t, s, "c1 still there", c1)
	checkRoute(t, s, "acme.example", "c1")
}

// checkIdentity checks that (conn, subject) is id, linked to user.
func checkIdentity(t *testing.T, s store.Store, want store.Identity, user store.User) {
	t.Helper()
	id, u, err := s.GetIdentityUser(t.Context(), want.ConnectionID, want.Subject)
	ok(t, "GetIdentityUser "+want.Subject, err)
	diff(t, "identity", want, id)
	diff(t, "identity's user", user, u)
}

// checkNoIdentity checks that (conn, subject) links no account.
func checkNoIdentity(t *testing.T, s store.Store, conn, subject string) {
	t.Helper()
	_, _, err := s.GetIdentityUser(t.Context(), conn, subject)
	wantErr(t, "GetIdentityUser "+conn+"/"+subject, err, store.ErrNotFound)
}

func testIdentityLink(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustConn(t, s, newConn("c2", "ws", store.ConnApple, t0))
	alice, err := s.GetUser(t.Context(), "alice")
	ok(t, "GetUser", err)
	id := newIdentity("c1", "sub-1", "alice")
	ok(t, "LinkIdentity", s.LinkIdentity(t.Context(), id))
	checkIdentity(t, s, id, alice)
	// The same subject at another connection is another person.
	checkNoIdentity(t, s, "c2", "sub-1")
	id2 := newIdentity("c2", "sub-1", "alice")
	id2.Email = ""
	ok(t, "LinkIdentity at c2", s.LinkIdentity(t.Context(), id2))
	checkIdentity(t, s, id2, alice)

	ok(t, "TouchIdentity", s.TouchIdentity(t.Context(), "c1", "sub-1", "new@idp.example", at(time.Hour)))
	id.Email, id.LastLoginAt = "new@idp.example", at(time.Hour)
	checkIdentity(t, s, id, alice)
	wantErr(t, "TouchIdentity unknown", s.TouchIdentity(t.Context(), "c1", "nobody", "x@idp.example", t0),
		store.ErrNotFound)
	checkNoIdentity(t, s, "c1", "nobody")
	checkNoIdentity(t, s, "nope", "sub-1")
}

func testIdentityLinkErrors(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustUser(t, s, "ws", "bob")
	mustWorkspace(t, s, "ws2")
	mustUser(t, s, "ws2", "carol")
	ok(t, "LinkIdentity", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-1", "alice")))
	wantErr(t, "LinkIdentity taken, same user", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-1", "alice")),
		store.ErrConflict)
	wantErr(t, "LinkIdentity taken, other user", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-1", "bob")),
		store.ErrConflict)
	wantErr(t, "LinkIdentity unknown user", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-2", "nobody")),
		store.ErrNotFound)
	wantErr(t, "LinkIdentity unknown connection", s.LinkIdentity(t.Context(), newIdentity("nope", "sub-2", "bob")),
		store.ErrNotFound)
	// A connection signs people in to its own workspace only.
	wantErr(t, "LinkIdentity user of another workspace",
		s.LinkIdentity(t.Context(), newIdentity("c1", "sub-3", "carol")), store.ErrNotFound)
	checkNoIdentity(t, s, "c1", "sub-2")
	checkNoIdentity(t, s, "c1", "sub-3")
	_, u, err := s.GetIdentityUser(t.Context(), "c1", "sub-1")
	ok(t, "GetIdentityUser", err)
	if u.ID != "alice" {
		t.Errorf("sub-1 links %s, want alice", u.ID)
	}
}

func testIdentityCreateUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustConn(t, s, newConn("c1", "ws", store.ConnOIDC, t0, "acme.example"))
	// The first account of a workspace is its owner, as with CreateUser.
	u := ssoUser("u1", "ws", "ann@acme.example")
	u.Name = "Ann Lee" // the IdP's name for the person, kept with the account
	got, err := s.CreateIdentityUser(t.Context(), u, newIdentity("c1", "sub-1", "ignored"))
	ok(t, "CreateIdentityUser first", err)
	u.Role = store.RoleOwner
	diff(t, "first user", u, got)
	stored, err := s.GetUser(t.Context(), "u1")
	ok(t, "GetUser", err)
	diff(t, "stored first user", u, stored)
	checkIdentity(t, s, newIdentity("c1", "sub-1", "u1"), u)

	v := ssoUser("u2", "ws", "ben@acme.example")
	v.Role = store.RoleAdmin
	got, err = s.CreateIdentityUser(t.Context(), v, newIdentity("c1", "sub-2", ""))
	ok(t, "CreateIdentityUser second", err)
	diff(t, "second user keeps its role", v, got)
	checkIdentity(t, s, newIdentity("c1", "sub-2", "u2"), v)

	// An account without an email.
	w := ssoUser("u3", "ws", "")
	_, err = s.CreateIdentityUser(t.Context(), w, newIdentity("c1", "sub-3", "u3"))
	ok(t, "CreateIdentityUser without email", err)
	checkIdentity(t, s, newIdentity("c1", "sub-3", "u3"), w)
}

func testIdentityCreateUserErrors(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustPwUser(t, s, pwUser("bob", "ws", "bob@acme.example", t0))
	mustWorkspace(t, s, "ws2")
	mustConn(t, s, newConn("c2", "ws2", store.ConnSAML, t0))
	ok(t, "LinkIdentity", s.LinkIdentity(t.Context(), newIdentity("c1", "taken", "alice")))
	tests := []struct {
		name string
		u    store.User
		id   store.Identity
		want error
	}{
		{"taken identity", ssoUser("new", "ws", "new@acme.example"), newIdentity("c1", "taken", ""), store.ErrConflict},
		{"taken email", ssoUser("new", "ws", "bob@acme.example"), newIdentity("c1", "sub-new", ""), store.ErrConflict},
		{"taken user id", ssoUser("bob", "ws", "new@acme.example"), newIdentity("c1", "sub-new", ""), store.ErrConflict},
		{"unknown workspace", ssoUser("new", "nowhere", "new@acme.example"), newIdentity("c1", "sub-new", ""),
			store.ErrNotFound},
		{"unknown connection", ssoUser("new", "ws", "new@acme.example"), newIdentity("nope", "sub-new", ""),
			store.ErrNotFound},
		{"connection of another workspace", ssoUser("new", "ws", "new@acme.example"),
			newIdentity("c2", "sub-new", ""), store.ErrNotFound},
	}
	for _, tt := range tests {
		_, err := s.CreateIdentityUser(t.Context(), tt.u, tt.id)
		wantErr(t, "CreateIdentityUser, "+tt.name, err, tt.want)
		// Nothing is stored: no new account, no new identity.
		_, err = s.GetUser(t.Context(), "new")
		wantErr(t, "GetUser after "+tt.name, err, store.ErrNotFound)
		checkNoIdentity(t, s, tt.id.ConnectionID, "sub-new")
	}
	// The same email in another workspace is another account.
	_, err := s.CreateIdentityUser(t.Context(), ssoUser("new", "ws2", "bob@acme.example"), newIdentity("c2", "sub-new", ""))
	ok(t, "CreateIdentityUser, the email in another workspace", err)
	_, u, err := s.GetIdentityUser(t.Context(), "c1", "taken")
	ok(t, "GetIdentityUser taken", err)
	if u.ID != "alice" {
		t.Errorf("the taken identity links %s, want alice", u.ID)
	}
}

// Deleting a connection takes its domains and identities; the accounts
// stay.
func testIdentityConnDeleted(t *testing.T, s store.Store) {
	connFixture(t, s)
	mustConn(t, s, newConn("c2", "ws", store.ConnApple, t0))
	ok(t, "LinkIdentity c1", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-1", "alice")))
	ok(t, "LinkIdentity c2", s.LinkIdentity(t.Context(), newIdentity("c2", "sub-1", "alice")))
	_, err := s.CreateIdentityUser(t.Context(), ssoUser("bob", "ws", "bob@acme.example"), newIdentity("c1", "sub-2", ""))
	ok(t, "CreateIdentityUser", err)
	ok(t, "DeleteConnection", s.DeleteConnection(t.Context(), "ws", "c1"))
	checkNoIdentity(t, s, "c1", "sub-1")
	checkNoIdentity(t, s, "c1", "sub-2")
	for _, id := range []string{"alice", "bob"} {
		_, err := s.GetUser(t.Context(), id)
		ok(t, "GetUser "+id+" after the connection went", err)
	}
	_, u, err := s.GetIdentityUser(t.Context(), "c2", "sub-1")
	ok(t, "GetIdentityUser at the other connection", err)
	if u.ID != "alice" {
		t.Errorf("c2/sub-1 links %s, want alice", u.ID)
	}
}

// Deleting a user takes its identities; the connection stays, and the
// subject may be linked again.
func testIdentityUserDeleted(t *testing.T, s store.Store) {
	c1 := connFixture(t, s)
	_, err := s.CreateIdentityUser(t.Context(), ssoUser("bob", "ws", "bob@acme.example"), newIdentity("c1", "sub-1", ""))
	ok(t, "CreateIdentityUser", err)
	_, err = s.DeleteUser(t.Context(), "ws", "bob")
	ok(t, "DeleteUser", err)
	checkNoIdentity(t, s, "c1", "sub-1")
	checkConn(t, s, "c1 after its user went", c1)
	ok(t, "LinkIdentity again", s.LinkIdentity(t.Context(), newIdentity("c1", "sub-1", "alice")))
}

// Concurrent first sign-ins of one person: one account is made, the
// others are refused and leave nothing behind.
func testRaceCreateIdentityUser(t *testing.T, s store.Store) {
	connFixture(t, s)
	const n = 8
	errs := Race(n, func(i int) error {
		u := ssoUser(fmt.Sprint("u-", i), "ws", fmt.Sprint(i, "@acme.example"))
		_, err := s.CreateIdentityUser(t.Context(), u, newIdentity("c1", "sub-1", ""))
		return err
	})
	winner := oneWinner(t, "CreateIdentityUser", errs, store.ErrConflict)
	_, u, err := s.GetIdentityUser(t.Context(), "c1", "sub-1")
	ok(t, "GetIdentityUser", err)
	if want := fmt.Sprint("u-", winner); u.ID != want {
		t.Errorf("sub-1 links %s, want the winner %s", u.ID, want)
	}
	for i := range n {
		if i == winner {
			continue
		}
		_, err := s.GetUser(t.Context(), fmt.Sprint("u-", i))
		wantErr(t, fmt.Sprint("GetUser of loser ", i), err, store.ErrNotFound)
	}
}
