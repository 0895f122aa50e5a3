package sqlite

import (
	"context"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
)

// auditCols are the columns scanAudit reads, in its order.
const auditCols = `id, workspace_id, time, actor, action, target, method, client_ip, details`

// qAppendAudit inserts one event. AppendAudit runs it once per event in a
// single write (one transaction, one hand-off to the writer). Measured
// against one json_each statement carrying the whole batch: per-row execs
// of the prepared statement cost less CPU (SQLite re-parses the JSON for
// each extracted field) and are simpler.
var qAppendAudit = writeQuery(`INSERT INTO audit_events (` + auditCols + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)

// ListAudit statements, one per combination of the filters that choose
// the index range (workspace, before cursor); the others are residual
// tests. A filter that is off compares its parameter with the empty string
// instead, so that every variant takes the same seven parameters:
// ?1 workspace, ?2 exact action, ?3 and ?4 the action prefix range
// [lo, hi), ?5 actor, ?6 before, ?7 limit.
var qListAudit = [2][2]*query{
	{auditQuery(false, false), auditQuery(false, true)},
	{auditQuery(true, false), auditQuery(true, true)},
}

func auditQuery(byWorkspace, byBefore bool) *query {
	ws, before := `?1 = ''`, `?6 = ''`
	if byWorkspace {
		ws = `workspace_id = ?1`
	}
	if byBefore {
		before = `id < ?6`
	}
	return readQuery(`SELECT ` + auditCols + ` FROM audit_events
		WHERE ` + ws + ` AND ` + before + `
		AND (?2 = '' OR action = ?2)
		AND (?3 = '' OR (action >= ?3 AND action < ?4))
		AND (?5 = '' OR actor = ?5)
		ORDER BY id DESC LIMIT ?7`)
}

// Audit page sizes: ListAudit's Limit is clamped to [1, maxAuditPage],
// and 0 (or less) means defaultAuditPage.
const (
	defaultAuditPage = 50
	maxAuditPage     = 200
)

// AppendAudit stores the events in one transaction: all of them or, on a
// taken id (ErrConflict), none. No events is a no-op.
func (s *Store) AppendAudit(ctx context.Context, events ...store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.write(ctx, func(t tx) error {
		st := t.stmt(qAppendAudit) // bound to the transaction once
		for _, e := range events {
			_, err := st.ExecContext(t.ctx, e.ID, e.WorkspaceID, micros(e.Time), e.Actor,
				e.Action, e.Target, e.Method, e.ClientIP, encodeDetails(e.Details))
			if err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("append audit", err)
}

func scanAudit(row scanner) (store.AuditEvent, error) {
	var e store.AuditEvent
	err := row.Scan(&e.ID, &e.WorkspaceID, (*instant)(&e.Time), &e.Actor, &e.Action,
		&e.Target, &e.Method, &e.ClientIP, (*details)(&e.Details))
	return e, err
}

// ListAudit returns the events f selects, newest (largest ID) first. The
// action filter is exact, or a byte-wise prefix when it ends in ".": the
// range [prefix, prefix with its final "." raised to "/") is exactly the
// strings starting with prefix, and unlike LIKE it is case-sensitive and
// knows no wildcards.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultAuditPage
	case limit > maxAuditPage:
		limit = maxAuditPage
	}
	exact, lo, hi := f.Action, "", ""
	if prefix, ok := strings.CutSuffix(f.Action, "."); ok {
		exact, lo, hi = "", f.Action, prefix+"/"
	}
	q := qListAudit[b2i(f.WorkspaceID != "")][b2i(f.Before != "")]
	events, err := list(ctx, s, q, scanAudit, f.WorkspaceID, exact, lo, hi, f.Actor, f.Before, limit)
	return events, wrap("list audit", err)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
