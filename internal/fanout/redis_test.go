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

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// testRedis returns a new client on SIGIL_TEST_REDIS named name (skip when
// unset, fail when unreachable).
func testRedis(t *testing.T, name string) *redis.Client {
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
	opt.ClientName = name
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

// TestRedisHealthPing: an idle subscription pings its connection and keeps
// delivering on it, without reconnecting.
func TestRedisHealthPing(t *testing.T) {
	shortHealth(t, 20*time.Millisecond)
	name := fmt.Sprintf("sigiltest-%x", rand.Uint64())
	sub := NewRedis(testRedis(t, name))
	pubClient := testRedis(t, "")
	pub := NewRedis(pubClient)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	ids := clients(t, pubClient, name, "")
	if len(ids) != 1 {
		t.Fatalf("found %d subscriber connections, want 1", len(ids))
	}
	// Dozens of health periods pass on the SAME connection: pings are
	// answered and understood, not mistaken for a dead link.
	eventually(t, "subscriber pings on its first connection for 1 s", func() bool {
		f := clientFields(t, pubClient, ids[0])
		age, _ := strconv.Atoi(f["age"])
		return f["cmd"] == "ping" && age >= 2 // whole seconds, truncated: ≥ 1 s really passed
	})
	publish(t, pub, topic, "still here")
	c.expect(t, "still here")
	c.expectNoReconnect(t)
}

// clients lists the ids of client name's subscribed connections, only those
// whose last command was cmd unless cmd is "".
func clients(t *testing.T, c *redis.Client, name, cmd string) []string {
	t.Helper()
	list, err := c.ClientList(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		f := fields(sc.Text())
		if f["name"] == name && f["sub"] != "0" && (cmd == "" || f["cmd"] == cmd) {
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
	ids := clients(t, c, name, "")
	for _, id := range ids {
		if err := c.ClientKillByFilter(t.Context(), "ID", id).Err(); err != nil {
			t.Fatal(err)
		}
	}
	return len(ids)
}
