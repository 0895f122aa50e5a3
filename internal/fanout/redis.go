package fanout

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/redis/go-redis/v9"
)

// Redis is a Bus over Redis PUBLISH/SUBSCRIBE. Each subscription holds its
// own connection (go-redis PubSub), outside the client's pool.
type Redis struct {
	c redis.UniversalClient
	g group
}

// NewRedis returns a Bus on c; c is not owned (Close leaves it open).
func NewRedis(c redis.UniversalClient) *Redis { return &Redis{c: c} }

// Publish implements Bus.
func (b *Redis) Publish(ctx context.Context, topic, msg string) error {
	if err := checkPublish(topic, msg); err != nil {
		return err
	}
	if b.g.isClosed() {
		return ErrClosed
	}
	if err := b.c.Publish(ctx, topic, msg).Err(); err != nil {
		return fmt.Errorf("fanout: redis publish: %w", err)
	}
	return nil
}

// Subscribe implements Bus.
func (b *Redis) Subscribe(ctx context.Context, topic string, fn func(string), onReconnect func()) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	sctx, done, err := b.g.start(ctx)
	if err != nil {
		return err
	}
	ps, err := b.connect(sctx, topic)
	if err != nil {
		done()
		return err
	}
	go b.run(sctx, done, ps, topic, fn, onReconnect)
	return nil
}

// Close implements Bus.
func (b *Redis) Close() error { return b.g.close() }

// connect subscribes on a new connection and waits for Redis to confirm.
func (b *Redis) connect(ctx context.Context, topic string) (*redis.PubSub, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	ps := b.c.Subscribe(ctx, topic)
	// go-redis honours a context's deadline on reads but not its
	// cancellation: closing the PubSub is what interrupts a blocked read.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	v, err := ps.Receive(ctx)
	if err == nil {
		if s, ok := v.(*redis.Subscription); !ok || s.Kind != "subscribe" || s.Channel != topic {
			err = fmt.Errorf("unexpected reply %v", v)
		}
	}
	if err != nil || !stop() {
		ps.Close()
		return nil, fmt.Errorf("fanout: redis subscribe %s: %w", topic, errors.Join(err, ctx.Err()))
	}
	return ps, nil
}

// run delivers messages, reconnecting after failures, until ctx ends.
func (b *Redis) run(ctx context.Context, done func(), ps *redis.PubSub, topic string, fn func(string), onReconnect func()) {
	defer done()
	for {
		b.receive(ctx, ps, fn, onReconnect)
		ps.Close()
		if ctx.Err() != nil {
			return
		}
		ok := retry(ctx, func(ctx context.Context) (err error) {
			ps, err = b.connect(ctx, topic)
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

// receive reads from ps until the connection fails or ctx ends. After
// healthEvery of silence it pings, then waits up to pingTimeout for any
// reply (the PONG, or a message sent meanwhile) before giving up on the
// connection.
func (b *Redis) receive(ctx context.Context, ps *redis.PubSub, fn func(string), onReconnect func()) {
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	pinged := false
	for ctx.Err() == nil {
		wait := healthEvery
		if pinged {
			wait = pingTimeout
		}
		v, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || pinged || ctx.Err() != nil {
				return // a dead connection, or no answer to our ping
			}
			if ps.Ping(ctx) != nil {
				return
			}
			pinged = true
			continue
		}
		pinged = false
		switch m := v.(type) {
		case *redis.Message:
			fn(m.Payload)
		case *redis.Subscription:
			// go-redis re-subscribed on a new connection by itself: messages
			// in between may be lost.
			if m.Kind == "subscribe" && onReconnect != nil {
				onReconnect()
			}
		}
	}
}
