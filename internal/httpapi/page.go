package httpapi

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// List paging (API.md §1): ?limit= (default 50, max 200) and an opaque
// ?cursor= from the previous page's next_cursor.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// listKey orders a list's items: when each was made, then its id.
type listKey[T any] func(T) (time.Time, string)

// older is how two keys compare newest first: negative when (t, id)
// comes before (u, uid).
func older(t time.Time, id string, u time.Time, uid string) int {
	return -cmp.Or(t.Compare(u), strings.Compare(id, uid))
}

// errBadCursor is a cursor that no page of Sigil's handed out.
var errBadCursor = &authn.Error{Code: authn.CodeInvalidRequest, Detail: "cursor is not valid"}

// page cuts one page out of a list read whole from the store (a user's
// keys, sessions and factors, a workspace's apps, keys and connections:
// all short), newest first by key. The cursor is the key of the previous
// page's last item, opaque to clients, so an item made or removed
// between two requests moves no other across pages (an offset would: a
// new item on top pushes the last of one page onto the next).
func page[T any](r *http.Request, items []T, key listKey[T]) (list[T], error) {
	limit, err := limitParam(r)
	if err != nil {
		return list[T]{}, err
	}
	slices.SortFunc(items, func(a, b T) int {
		at, aid := key(a)
		bt, bid := key(b)
		return older(at, aid, bt, bid)
	})
	start, err := pageStart(r.URL.Query().Get("cursor"), items, key)
	if err != nil {
		return list[T]{}, err
	}
	end := min(start+limit, len(items))
	out := listOf(items[start:end])
	if end < len(items) {
		next := cursorOf(key(items[end-1]))
		out.NextCursor = &next
	}
	return out, nil
}

// pageStart is the index in items (sorted newest first) of the first
// item after cursor.
func pageStart[T any](cursor string, items []T, key listKey[T]) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	raw, ok := decodeCursor(cursor)
	if !ok {
		return 0, errBadCursor
	}
	if n, err := strconv.Atoi(raw); err == nil && n >= 0 {
		// An offset: what a replica of the previous release hands out,
		// which a rolling upgrade can bring here.
		return min(n, len(items)), nil
	}
	t, id, ok := parseCursor(raw)
	if !ok {
		return 0, errBadCursor
	}
	// The first item older than the cursor's.
	i, _ := slices.BinarySearchFunc(items, struct{}{}, func(it T, _ struct{}) int {
		it0, iid := key(it)
		if older(it0, iid, t, id) <= 0 {
			return -1
		}
		return 1
	})
	return i, nil
}

// decodeCursor undoes a cursor's base64url.
func decodeCursor(v string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return string(b), err == nil
}

// cursorOf makes a cursor of a key: "<Unix nanoseconds>.<id>", base64url;
// parseCursor reads the decoded text back.
func cursorOf(t time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(t.UnixNano(), 10) + "." + id))
}

func parseCursor(raw string) (time.Time, string, bool) {
	ns, id, ok := strings.Cut(raw, ".")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.Unix(0, n), id, true
}
