package fanout

import (
	"strconv"
	"testing"
)

func TestLocal(t *testing.T) {
	runSuite(t, func(t *testing.T) (Bus, Bus) {
		b := NewLocal()
		t.Cleanup(func() { b.Close() })
		return b, b // one process: both "replicas" share the bus
	})
}

// TestLocalOverflow: a subscriber that falls localQueue messages behind
// loses messages and is told so through onReconnect.
func TestLocalOverflow(t *testing.T) {
	b := NewLocal()
	t.Cleanup(func() { b.Close() })
	held, release := make(chan struct{}), make(chan struct{})
	c := newCollector(t)
	first := true
	err := b.Subscribe(t.Context(), "t", func(m string) {
		if first {
			first = false
			close(held)
			<-release // hold the subscriber on the first message
		}
		c.fn(m)
	}, c.onReconnect)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, b, "t", "0")
	<-held // "0" is out of the queue: the queue is empty now
	var want []string
	for i := 1; i <= localQueue+5; i++ {
		publish(t, b, "t", strconv.Itoa(i))
		if i <= localQueue {
			want = append(want, strconv.Itoa(i))
		}
	}
	close(release)
	c.expect(t, append([]string{"0"}, want...)...)
	c.expectReconnect(t)
}
