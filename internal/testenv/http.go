package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Response is a decoded HTTP answer: the JSON body (if any) as a map,
// and the raw bytes.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Str is the string field k of the JSON body, or "".
func (r Response) Str(k string) string { s, _ := r.Body[k].(string); return s }

// Do sends one request with client (nil: http.DefaultClient). body is
// sent as is when it is a string or []byte, JSON-encoded otherwise;
// with a body, Content-Type is application/json unless hdr names one.
// hdr are "Name: value" pairs, added in order, so a test can repeat a
// header.
func Do(t testing.TB, client *http.Client, method, url string, body any, hdr ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	if rd != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := Response{Status: res.StatusCode, Header: res.Header, Raw: raw}
	json.Unmarshal(raw, &r.Body)
	return r
}

// WantAudit waits (the audit log is written in batches) until the audit
// page at url, read with header hdr, holds every one of actions, and
// fails t after 3 s otherwise.
func WantAudit(t testing.TB, url, hdr string, actions ...string) {
	t.Helper()
	var raw []byte
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		raw = Do(t, nil, "GET", url, nil, hdr).Raw
		missing := false
		for _, a := range actions {
			missing = missing || !strings.Contains(string(raw), `"action":"`+a+`"`)
		}
		if !missing {
			return
		}
	}
	t.Errorf("audit log lacks some of %v:\n%s", actions, raw)
}
