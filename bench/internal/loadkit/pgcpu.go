package loadkit

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGMeter reads the CPU time of the PostgreSQL backends that serve one
// Sigil server: the connections whose application_name is the server's
// own (newDatabase puts it in the server's database URL), found in
// pg_stat_activity and read from /proc/<pid>/stat like the server. The
// database must run on this machine; the driver's own connection has
// another application_name and is not counted.
type PGMeter struct {
	conn *pgx.Conn
	app  string
}

// PGSample is the CPU time so far of each backend seen at one instant.
type PGSample map[int]time.Duration

// Sample reads every backend of the server now.
func (m *PGMeter) Sample(ctx context.Context) (PGSample, error) {
	rows, _ := m.conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, m.app)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL backends: %w", err)
	}
	s := make(PGSample, len(pids))
	for _, pid := range pids {
		if cpu, err := ProcCPU(int(pid)); err == nil { // a backend may exit meanwhile
			s[int(pid)] = cpu
		}
	}
	return s, nil
}

// Since is the CPU the backends of s1 used after s0 was taken: a backend
// that started in between counts whole (its connection set-up is part of
// the load); one that exited in between is lost, so lost reports how
// many did.
func (s1 PGSample) Since(s0 PGSample) (cpu time.Duration, backends, lost int) {
	for pid, c := range s1 {
		cpu += c - s0[pid]
	}
	for pid := range s0 {
		if _, ok := s1[pid]; !ok {
			lost++
		}
	}
	return cpu, len(s1), lost
}
