package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// Audit page sizes (store.AuditFilter.Limit): 0 or less means the
// default, more than the maximum is cut to it.
const (
	auditDefaultLimit = 50
	auditMaxLimit     = 200
)

const auditCols = `id, workspace_id, time, actor, action, target, method, client_ip, details`

// AppendAudit stores events in one statement (so atomically, and in one
// round trip whatever their number): each column travels as an array and
// unnest turns the arrays back into rows. Details is JSON (jsonb); an
// empty map is stored as NULL. A taken id is ErrConflict and stores none
// of the events. No events is a no-op.
func (s *Store) AppendAudit(ctx context.Context, events ...store.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	var (
		ids, workspaces, actors, actions = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		targets, methods, ips            = make([]string, n), make([]string, n), make([]string, n)
		times                            = make([]time.Time, n)
		details                          = make([]*string, n)
	)
	for i, e := range events {
		ids[i], workspaces[i], times[i] = e.ID, e.WorkspaceID, e.Time
		actors[i], actions[i], targets[i] = e.Actor, e.Action, e.Target
		methods[i], ips[i] = e.Method, e.ClientIP
		if len(e.Details) > 0 {
			b, err := json.Marshal(e.Details)
			if err != nil {
				return fmt.Errorf("postgres: append audit: details: %w", err)
			}
			d := string(b)
			details[i] = &d
		}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO audit_events (`+auditCols+`)
		SELECT id, ws, t, actor, action, target, method, ip, d::jsonb
		FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[],
			$6::text[], $7::text[], $8::text[], $9::text[])
			AS e (id, ws, t, actor, action, target, method, ip, d)`,
		ids, workspaces, times, actors, actions, targets, methods, ips, details)
	return mapErr("append audit", err)
}

// ListAudit returns the events f selects, newest (largest id, compared
// bytewise) first. Only the filters that are set become conditions, so
// the (workspace_id, id) index or the primary key serves the order. An
// Action ending in "." matches by prefix (starts_with, so "_" and "%"
// in it are literal).
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	var (
		conds []string
		args  []any
	)
	where := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.WorkspaceID != "" {
		where("workspace_id = $%d", f.WorkspaceID)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		where("starts_with(action, $%d)", f.Action)
	case f.Action != "":
		where("action = $%d", f.Action)
	}
	if f.Actor != "" {
		where("actor = $%d", f.Actor)
	}
	if f.Before != "" {
		where("id < $%d", f.Before)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = auditDefaultLimit
	case limit > auditMaxLimit:
		limit = auditMaxLimit
	}
	sql := `SELECT ` + auditCols + ` FROM audit_events`
	if len(conds) > 0 {
		sql += ` WHERE ` + strings.Join(conds, " AND ")
	}
	sql += fmt.Sprintf(` ORDER BY id DESC LIMIT %d`, limit)
	rows, _ := s.pool.Query(ctx, sql, args...)
	events, err := pgx.AppendRows([]store.AuditEvent(nil), rows, scanAudit)
	return events, mapErr("list audit", err)
}

func scanAudit(row pgx.CollectableRow) (store.AuditEvent, error) {
	var (
		e       store.AuditEvent
		details []byte
	)
	err := row.Scan(&e.ID, &e.WorkspaceID, &e.Time, &e.Actor, &e.Action, &e.Target,
		&e.Method, &e.ClientIP, &details)
	if err != nil || details == nil {
		return e, err
	}
	if err := json.Unmarshal(details, &e.Details); err != nil {
		return e, fmt.Errorf("audit event %s: details: %w", e.ID, err)
	}
	return e, nil
}
