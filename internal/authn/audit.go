package authn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Audit actions (the "action" of an audit event).
const (
	AuditLoginSuccess   = "login.success"
	AuditLoginFailure   = "login.failure"
	AuditRegister       = "user.register"
	AuditSignup         = "user.signup"
	AuditRefreshReuse   = "session.refresh_reuse"
	AuditLogout         = "session.logout"
	AuditLogoutAll      = "session.logout_all"
	AuditSessionEnd     = "session.end"
	AuditKeyAdd         = "pubkey.add"
	AuditKeyRemove      = "pubkey.remove"
	AuditAPIKeyCreate   = "api_key.create"
	AuditAPIKeyRevoke   = "api_key.revoke"
	AuditAPIKeyRotate   = "api_key.rotate"
	AuditJWTKeyCreate   = "jwt_key.create"
	AuditJWTKeyDelete   = "jwt_key.delete"
	AuditMemberUpdate   = "member.update"
	AuditWorkspace      = "workspace.update"
	AuditJoinCode       = "workspace.join_code"
	AuditPasswordReset  = "password.reset"
	AuditPasswordForgot = "password.forgot"
	AuditEmailVerified  = "email.verified"
	// The instance: a workspace made by an instance admin, the first-run
	// setup, and the operator's `sigil admin grant|revoke`.
	AuditWorkspaceCreate     = "workspace.create"
	AuditInstanceSetup       = "instance.setup"
	AuditInstanceAdminGrant  = "instance_admin.grant"
	AuditInstanceAdminRevoke = "instance_admin.revoke"
)

// auditor writes audit events off the request path in small batches. A
// full queue blocks the caller (back-pressure) rather than drop events.
type auditor struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time
	queue chan store.AuditEvent
	done  chan struct{} // closed by close: drain and stop
	ended chan struct{} // closed by run when the last batch is written

	mu     sync.RWMutex // record holds it shared while enqueueing
	closed bool
}

const (
	auditQueue = 4096
	auditBatch = 128
	auditEvery = 50 * time.Millisecond
)

func newAuditor(st store.Store, log *slog.Logger, now func() time.Time) *auditor {
	return &auditor{store: st, log: log, now: now, queue: make(chan store.AuditEvent, auditQueue),
		done: make(chan struct{}), ended: make(chan struct{})}
}

// auditSeq orders events of one process that share a timestamp.
var auditSeq atomic.Uint32

// auditID is sortable by time: 16 hex digits of Unix nanoseconds, a
// per-process sequence, then randomness against collisions across
// replicas.
func auditID(t time.Time) string {
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("ev_%016x%08x%s", t.UnixNano(), auditSeq.Add(1), hex.EncodeToString(b))
}

// record queues one event.
func (a *auditor) record(ctx context.Context, e store.AuditEvent) {
	e.Time = a.now().UTC()
	e.ID = auditID(e.Time)
	a.mu.RLock()
	if !a.closed {
		a.queue <- e // run is alive: close cannot finish while we hold the lock
		a.mu.RUnlock()
		return
	}
	a.mu.RUnlock()
	if err := a.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		a.log.ErrorContext(ctx, "audit write failed", "err", err, "action", e.Action)
	}
}

// run writes batches until Close.
func (a *auditor) run() {
	defer close(a.ended)
	t := time.NewTicker(auditEvery)
	defer t.Stop()
	batch := make([]store.AuditEvent, 0, auditBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := a.store.AppendAudit(context.Background(), batch...); err != nil {
			a.log.Error("audit write failed", "err", err, "events", len(batch))
		}
		batch = batch[:0]
	}
	for {
		select {
		case e := <-a.queue:
			batch = append(batch, e)
			if len(batch) == auditBatch {
				flush()
			}
		case <-t.C:
			flush()
		case <-a.done:
			for {
				select {
				case e := <-a.queue:
					batch = append(batch, e)
				default:
					flush()
					return
				}
			}
		}
	}
}

// close stops the writer after it has written everything queued; later
// events are written synchronously.
func (a *auditor) close() {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	close(a.done)
	<-a.ended
}

// audit records an event with the request's client IP.
func (s *Service) audit(ctx context.Context, ip netip.Addr, e store.AuditEvent) {
	if ip.IsValid() {
		e.ClientIP = ip.String()
	}
	s.usage.countAudit(e)
	s.audits.record(ctx, e)
}
