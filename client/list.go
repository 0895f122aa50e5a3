package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// maxPages bounds how many pages a listing follows, so a server that keeps
// returning a cursor cannot loop the client forever. 100 pages of 200 is
// far more than any keyring or key list holds.
const maxPages = 100

// listAll GETs path (a list endpoint of API.md §1) with query, the
// largest page size and each next_cursor in turn, to the end. what names
// the list in the error of a listing that never ends.
func listAll[T any](ctx context.Context, c *Client, path string, query url.Values, credential, what string) ([]T, error) {
	var all []T
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", "200")
	for range maxPages {
		p := path + "?" + q.Encode() // sorted by key: cursor, limit, …
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := c.call(ctx, http.MethodGet, p, credential, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		// A cursor that does not move would repeat the same page forever.
		if page.NextCursor == nil || *page.NextCursor == "" || *page.NextCursor == q.Get("cursor") {
			return all, nil
		}
		q.Set("cursor", *page.NextCursor)
	}
	return nil, errors.New("sigil client: " + what + " listing did not end")
}
