package fanout

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// testRedis returns a new client on SIGIL_TEST_REDIS named name (skip when
// unset, fail when unreachable).
func testRedis(t *testing.T, name string) *redis.Client {
	t.Helper()
	return redisWith(t, func(o *redis.Options) { o.ClientName = name })
}

// redisWith is testRedis with options adjusted by set.
func redisWith(t *testing.T, set func(*redis.Options)) *redis.Client {
	t.Helper()
	url := os.Getenv("SIGIL_TEST_REDIS")
	if url == "" {
		t.Skip("Redis tests skipped: set SIGIL_TEST_REDIS (e.g. redis://127.0.0.1:6379/0) to run")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	set(opt)
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("SIGIL_TEST_REDIS set but unreachable: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func redisPair(t *testing.T) (Bus, Bus) {
	a, b := NewRedis(testRedis(t, "")), NewRedis(testRedis(t, ""))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestRedis(t *testing.T) { runSuite(t, redisPair) }

// TestRedisReconnect kills the subscriber's connection on the server: the
// subscription must reconnect, call onReconnect and deliver again.
func TestRedisReconnect(t *testing.T) {
	name := fmt.Sprintf("sigiltest-%x", rand.Uint64())
	sub := NewRedis(testRedis(t, name))
	pubClient := testRedis(t, "")
	pub := NewRedis(pubClient)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	publish(t, pub, topic, "before")
	c.expect(t, "before")

	killed := killClients(t, pubClient, name)
	if killed == 0 {
		t.Fatalf("no subscriber connection named %s found", name)
	}
	c.expectReconnect(t)
	publish(t, pub, topic, "after")
	c.expect(t, "after")
}

// TestRedisHealthPing: an idle subscription pings its connection every
// health period and keeps delivering on that SAME connection — answers are
// understood, and neither a slow answer nor the pings themselves are taken
// for a dead link (reconnecting would lose messages).
//
// Nothing here samples a single instant: each condition is polled until it
// holds (or wait passes), so a loaded machine only makes it slower.
func TestRedisHealthPing(t *testing.T) {
	shortHealth(t, 20*time.Millisecond)
	name := fmt.Sprintf("sigiltest-%x", rand.Uint64())
	sub := NewRedis(testRedis(t, name))
	pubClient := testRedis(t, "")
	pub := NewRedis(pubClient)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	id := onlyClient(t, pubClient, name)

	// CLIENT LIST's cmd is the last command on the connection; nothing but
	// health pings follows SUBSCRIBE on it. clientFields fails the test if
	// the connection is gone (a reconnect).
	eventually(t, "a health ping on the subscriber's connection", func() bool {
		return clientFields(t, pubClient, id)["cmd"] == "ping"
	})
	// age and idle are whole seconds, truncated: age 2 means the connection
	// has lived at least 1 s — some 50 health periods — and idle 0 that it
	// was still being pinged within the last second.
	eventually(t, "the same connection, still pinging, after 50 health periods", func() bool {
		f := clientFields(t, pubClient, id)
		age, _ := strconv.Atoi(f["age"])
		return f["cmd"] == "ping" && age >= 2 && f["idle"] == "0"
	})
	publish(t, pub, topic, "still here")
	c.expect(t, "still here")
	c.expectNoReconnect(t)
	if got := clients(t, pubClient, name); !cmp.Equal(got, []string{id}) {
		t.Fatalf("subscriber connections = %v, want only the first, %s", got, id)
	}
}

// onlyClient returns the id of client name's one subscribed connection.
func onlyClient(t *testing.T, c *redis.Client, name string) string {
	t.Helper()
	ids := clients(t, c, name)
	if len(ids) != 1 {
		t.Fatalf("found %d subscriber connections named %s, want 1", len(ids), name)
	}
	return ids[0]
}

// clients lists the ids of client name's subscribed connections.
func clients(t *testing.T, c *redis.Client, name string) []string {
	t.Helper()
	list, err := c.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		f := fields(sc.Text())
		if f["name"] == name && f["sub"] != "0" {
			ids = append(ids, f["id"])
		}
	}
	return ids
}

// clientFields returns CLIENT LIST's fields for connection id; it fails the
// test if that connection is gone.
func clientFields(t *testing.T, c *redis.Client, id string) map[string]string {
	t.Helper()
	line, err := c.Do(t.Context(), "CLIENT", "LIST", "ID", id).Text()
	if err != nil {
		t.Fatal(err)
	}
	f := fields(line)
	if f["id"] != id {
		t.Fatalf("connection %s is gone (reconnected?)", id)
	}
	return f
}

// fields splits one CLIENT LIST line ("id=7 addr=… name=x …").
func fields(line string) map[string]string {
	f := map[string]string{}
	for kv := range strings.FieldsSeq(line) {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return f
}

// killClients kills every subscribed connection of client name.
func killClients(t *testing.T, c *redis.Client, name string) int {
	t.Helper()
	ids := clients(t, c, name)
	for _, id := range ids {
		if err := c.ClientKillByFilter(t.Context(), "ID", id).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return len(ids)
}
