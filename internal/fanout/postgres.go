package fanout

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is a Bus over PostgreSQL NOTIFY/LISTEN. Publish uses the pool;
// each subscription takes one connection out of the pool for good (acquired,
// then hijacked, so the pool's size and hooks apply when it is opened but a
// LISTENing session never goes back to other users) and closes it when done.
//
// LISTEN needs a session: behind PgBouncer in transaction mode, give this
// Bus a pool that connects to PostgreSQL directly.
type Postgres struct {
	pool *pgxpool.Pool
	g    group
}

// NewPostgres returns a Bus on pool; the pool is not owned.
func NewPostgres(pool *pgxpool.Pool) *Postgres { return &Postgres{pool: pool} }

// Publish implements Bus with pg_notify, so topic and message are bound
// parameters, never spliced into SQL.
func (b *Postgres) Publish(ctx context.Context, topic, msg string) error {
	if err := checkPublish(topic, msg); err != nil {
		return err
	}
	if b.g.isClosed() {
		return ErrClosed
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", topic, msg); err != nil {
		return fmt.Errorf("fanout: postgres notify: %w", err)
	}
	return nil
}

// Subscribe implements Bus.
func (b *Postgres) Subscribe(ctx context.Context, topic string, fn func(string), onReconnect func()) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	sctx, done, err := b.g.start(ctx)
	if err != nil {
		return err
	}
	conn, err := b.connect(sctx, topic)
	if err != nil {
		done()
		return err
	}
	go b.run(sctx, done, conn, topic, fn, onReconnect)
	return nil
}

// Close implements Bus.
func (b *Postgres) Close() error { return b.g.close() }

// connect takes a connection from the pool for good and LISTENs on it.
func (b *Postgres) connect(ctx context.Context, topic string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pc, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("fanout: postgres listen %s: %w", topic, err)
	}
	conn := pc.Hijack()
	// checkTopic already limits topic to a plain identifier; quoting is a
	// second line of defence, and keeps LISTEN's name equal to pg_notify's.
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{topic}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("fanout: postgres listen %s: %w", topic, err)
	}
	return conn, nil
}

// closeConn closes a hijacked connection with its own short deadline (the
// caller's context may be over already).
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn.Close(ctx)
}

// run delivers notifications, reconnecting after failures, until ctx ends.
func (b *Postgres) run(ctx context.Context, done func(), conn *pgx.Conn, topic string, fn func(string), onReconnect func()) {
	defer done()
	for {
		receivePostgres(ctx, conn, fn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		ok := retry(ctx, func(ctx context.Context) (err error) {
			conn, err = b.connect(ctx, topic)
			return err
		})
		if !ok {
			return
		}
		if onReconnect != nil {
			onReconnect()
		}
	}
}

// receivePostgres waits for notifications until the connection fails or ctx
// ends. Every healthEvery of silence it pings the server.
func receivePostgres(ctx context.Context, conn *pgx.Conn, fn func(string)) {
	for {
		wctx, cancel := context.WithTimeout(ctx, healthEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// A timeout leaves the connection usable (pgconn closes it on any
			// other error); a failed ping means it is dead.
			if !pgconn.Timeout(err) || conn.IsClosed() || ping(ctx, conn) != nil {
				return
			}
			continue
		}
		fn(n.Payload)
	}
}

// ping checks the connection within pingTimeout. Notifications that
// arrive meanwhile are buffered by pgx and returned by the next
// WaitForNotification, so none is lost or reordered.
func ping(ctx context.Context, conn *pgx.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return conn.Ping(ctx)
}
