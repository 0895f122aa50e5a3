package ratelimit

import (
	"context"
	"hash/maphash"
	"strconv"
	"testing"
	"time"
)

func TestMemory(t *testing.T) {
	runSuite(t, func(_ *testing.T, now func() time.Time) Limiter { return NewMemory(now) })
}

func TestMemoryBoundedKeys(t *testing.T) {
	c := newClock()
	const maxKeys = 128
	m := NewMemorySize(c.Now, maxKeys)
	r := Rule{Limit: 5, Window: time.Minute}
	for i := range 5000 {
		if d, err := m.Allow(context.Background(), strconv.Itoa(i), r); err != nil || !d.Allowed {
			t.Fatalf("key %d: %+v %v", i, d, err)
		}
	}
	if got := m.Len(); got > maxKeys {
		t.Errorf("tracked %d keys, cap %d", got, maxKeys)
	}
}

func TestMemorySweepsIdleKeys(t *testing.T) {
	c := newClock()
	m := NewMemory(c.Now)
	r := Rule{Limit: 5, Window: time.Minute}
	allow := func(prefix string) {
		for i := range 1000 {
			if _, err := m.Allow(context.Background(), prefix+strconv.Itoa(i), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	allow("old")
	if got := m.Len(); got != 1000 {
		t.Fatalf("Len = %d, want 1000", got)
	}
	c.Set(c.Now().Add(sweepEvery + r.Window))
	allow("new") // touches every shard, each sweeps its idle keys
	if got := m.Len(); got != 1000 {
		t.Errorf("after the window passed, Len = %d, want 1000 (old keys swept)", got)
	}
}

// TestMemoryFullShardAdmitsNewKeys: a full shard must still admit new keys
// (refusing them would lock out every new client during a key flood).
func TestMemoryFullShardAdmitsNewKeys(t *testing.T) {
	c := newClock()
	m := NewMemorySize(c.Now, shardCount) // one key per shard
	r := Rule{Limit: 1, Window: time.Minute}
	for i := range 1000 {
		d, err := m.Allow(context.Background(), "k"+strconv.Itoa(i), r)
		if err != nil || !d.Allowed {
			t.Fatalf("new key %d refused: %+v %v", i, d, err)
		}
	}
	if got := m.Len(); got > shardCount {
		t.Errorf("Len = %d, want ≤ %d", got, shardCount)
	}
}

// sameShard returns n distinct keys that land in one shard of m.
func sameShard(m *Memory, n int) []string {
	var keys []string
	for i := 0; len(keys) < n; i++ {
		k := "key" + strconv.Itoa(i)
		if maphash.String(m.seed, k)&(shardCount-1) == 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// TestMemoryEvictionOrder: a full shard drops idle keys first, then the
// least recently used active one — never the others.
func TestMemoryEvictionOrder(t *testing.T) {
	c := newClock()
	t0 := c.Now()
	m := NewMemorySize(c.Now, 2*shardCount) // two keys per shard
	k := sameShard(m, 4)
	short := Rule{Limit: 1, Window: 5 * time.Second}
	long := Rule{Limit: 1, Window: time.Minute}
	allowed := func(at time.Duration, key string, r Rule) bool {
		t.Helper()
		c.Set(t0.Add(at))
		d, err := m.Allow(context.Background(), key, r)
		if err != nil {
			t.Fatal(err)
		}
		return d.Allowed
	}
	tests := []struct {
		at   time.Duration
		key  string
		r    Rule
		want bool
	}{
		{0, k[0], long, true},
		{time.Second, k[1], short, true},
		{10 * time.Second, k[2], long, true},  // shard full: k[1] is idle and goes
		{11 * time.Second, k[0], long, false}, // k[0] was kept
		{12 * time.Second, k[3], long, true},  // full again, none idle: LRU k[0] goes
		{13 * time.Second, k[2], long, false}, // k[2] was kept
		{14 * time.Second, k[0], long, true},  // k[0] was forgotten (fails open)
	}
	for i, tt := range tests {
		if got := allowed(tt.at, tt.key, tt.r); got != tt.want {
			t.Errorf("step %d: %s at +%v allowed = %v, want %v", i, tt.key, tt.at, got, tt.want)
		}
	}
}

func TestMemoryRealClock(t *testing.T) {
	m := NewMemory(nil)
	r := Rule{Limit: 2, Window: time.Hour}
	var got []bool
	for range 3 {
		d, err := m.Allow(context.Background(), "k", r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Allowed)
	}
	if !got[0] || !got[1] || got[2] {
		t.Errorf("allowed = %v, want [true true false]", got)
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(nil)
	r := Rule{Limit: 60, Window: time.Minute}
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = "login_ip:10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := m.Allow(context.Background(), keys[i%len(keys)], r); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
