package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse bounds how much of a response body is read. Sigil's answers
// are small; anything larger is not a Sigil answer.
const maxResponse = 1 << 20

// defaultTimeout bounds each request when the caller brings no
// *http.Client of its own. http.DefaultClient has no timeout at all.
const defaultTimeout = 30 * time.Second

// Client calls one Sigil server. Create it with New; the zero value is not
// usable. It is safe for concurrent use.
type Client struct {
	base   *url.URL // without a trailing slash; nil when errNew is set
	http   *http.Client
	errNew error // a bad base URL, reported by every call
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc (for
// proxies, custom TLS, tracing or timeouts). A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// New returns a Client for the server at baseURL, e.g.
// "https://auth.example.com" or "http://127.0.0.1:8080/sigil" (a path
// prefix is kept). A malformed baseURL does not fail here: every call
// then returns the error, so New can be used in variable initialisers.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{http: &http.Client{Timeout: defaultTimeout}}
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(baseURL), "/"))
	switch {
	case err != nil:
		c.errNew = fmt.Errorf("sigil client: bad base URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		c.errNew = fmt.Errorf("sigil client: base URL %q must be http(s)://host[:port][/path]", baseURL)
	default:
		c.base = u
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the server address the Client was created with, without
// a trailing slash, or "" if it was malformed.
func (c *Client) BaseURL() string {
	if c.base == nil {
		return ""
	}
	return c.base.String()
}

// call is one request/response exchange. path is the escaped path below
// the base URL (starting with "/"); in, if not nil, is sent as JSON; out,
// if not nil, receives a 2xx JSON answer. bearer, if not empty, is sent as
// "Authorization: Bearer". Every non-2xx answer becomes *Error.
func (c *Client) call(ctx context.Context, method, path, bearer string, in, out any) error {
	if c.errNew != nil {
		return c.errNew
	}
	req, err := c.newRequest(ctx, method, path, bearer, in)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("sigil client: %s %s: reading response: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newError(resp.StatusCode, resp.Header, body, time.Now())
	}
	if len(body) > maxResponse {
		return fmt.Errorf("sigil client: %s %s: response larger than %d bytes", method, path, maxResponse)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("sigil client: %s %s: decoding response: %w", method, path, err)
	}
	return nil
}

func (c *Client) newRequest(ctx context.Context, method, path, bearer string, in any) (*http.Request, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("sigil client: encoding request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sigil-go-client/1")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return req, nil
}

// errMissing reports a required argument the caller left empty, before
// any request is made.
func errMissing(what string) error {
	return errors.New("sigil client: " + what + " is required")
}
