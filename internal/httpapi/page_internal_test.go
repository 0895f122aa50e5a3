package httpapi

import (
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzListCursor: any ?cursor= is a page or a 400, never a panic; a
// cursor names a place that parses back to itself; and following
// next_cursor from the first page visits every item once, in order.
func FuzzListCursor(f *testing.F) {
	f.Add("", 2)
	f.Add(cursorOf(time.Unix(0, 2e9), "b"), 1)
	f.Add("bm9wZQ", 3)                       // "nope"
	f.Add("LTEu", 200)                       // "-1."
	f.Add("OTIyMzM3MjAzNjg1NDc3NTgwOC54", 5) // beyond int64
	type item struct {
		at time.Time
		id string
	}
	key := func(it item) (time.Time, string) { return it.at, it.id }
	f.Fuzz(func(t *testing.T, cursor string, limit int) {
		limit = 1 + int(uint(limit)%4)
		mk := func() []item { // two made in the same instant: the id decides
			return []item{{time.Unix(1, 0), "a"}, {time.Unix(2, 0), "c"}, {time.Unix(2, 0), "b"}, {time.Unix(3, 0), "d"}}
		}
		get := func(c string) (list[item], error) {
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			if c != "" {
				q.Set("cursor", c)
			}
			return page(httptest.NewRequest("GET", "/?"+q.Encode(), nil), mk(), key)
		}
		if _, err := get(cursor); err != nil && cursor == "" {
			t.Fatalf("no cursor: %v", err)
		}
		raw, _ := decodeCursor(cursor)
		if at, id, ok := parseCursor(raw); ok {
			back, _ := decodeCursor(cursorOf(at, id))
			if bt, bid, _ := parseCursor(back); !bt.Equal(at) || bid != id {
				t.Fatalf("cursor %q does not parse back to itself", cursor)
			}
		}
		// The previous release's cursor, an offset (a rolling upgrade).
		if l, err := get(base64.RawURLEncoding.EncodeToString([]byte("2"))); err != nil || len(l.Items) != min(limit, 2) || l.Items[0].id != "b" {
			t.Fatalf("offset cursor 2, limit %d: %+v %v, want from b", limit, l.Items, err)
		}
		var seen []string
		for c, pages := "", 0; pages < 10; pages++ {
			l, err := get(c)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range l.Items {
				seen = append(seen, it.id)
			}
			if l.NextCursor == nil {
				break
			}
			c = *l.NextCursor
		}
		if got := strings.Join(seen, ""); got != "dcba" {
			t.Fatalf("pages of %d visit %s, want dcba", limit, got)
		}
	})
}
