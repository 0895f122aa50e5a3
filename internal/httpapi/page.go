package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/sigil-auth/sigil/internal/authn"
)

// List paging (API.md §1): ?limit= (default 50, max 200) and an opaque
// ?cursor= from the previous page's next_cursor.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// page cuts one page out of a newest-first list. The lists paged this way
// (a user's keys and sessions) are small and read whole from the store;
// the cursor is the offset of the next item, opaque to clients.
func page[T any](r *http.Request, items []T) (list[T], error) {
	limit, err := limitParam(r)
	if err != nil {
		return list[T]{}, err
	}
	offset := 0
	if v := r.URL.Query().Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return list[T]{}, &authn.Error{Code: authn.CodeInvalidRequest, Detail: "cursor is not valid"}
		}
		offset = n
	}
	out := listOf(items[min(offset, len(items)):min(offset+limit, len(items))])
	if offset+limit < len(items) {
		next := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset + limit)))
		out.NextCursor = &next
	}
	return out, nil
}
