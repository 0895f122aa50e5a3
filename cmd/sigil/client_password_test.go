package main

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestReadPasswordLine(t *testing.T) {
	long := strings.Repeat("x", maxPasswordLine+1)
	tests := []struct {
		name, in, want string
		usage          bool // want a usage error
	}{
		{name: "newline", in: "hunter22\n", want: "hunter22"},
		{name: "crlf", in: "hunter22\r\n", want: "hunter22"},
		{name: "no newline at the end", in: "hunter22", want: "hunter22"},
		{name: "spaces are kept", in: "  two words  \n", want: "  two words  "},
		{name: "only the first line", in: "first\nsecond\n", want: "first"},
		{name: "longest allowed", in: long[1:] + "\r\n", want: long[1:]},
		{name: "longest allowed, no newline", in: long[1:], want: long[1:]},
		{name: "too long", in: long + "\n", usage: true},
		{name: "too long, no newline", in: long, usage: true},
		{name: "far too long", in: long + long, usage: true},
		{name: "empty input", in: "", usage: true},
		{name: "empty line", in: "\n", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPasswordLine(strings.NewReader(tt.in))
			var ue usageError
			if tt.usage {
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				if strings.Contains(err.Error(), "xxxx") {
					t.Errorf("error %q quotes the input", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("readPasswordLine = %.20q (%d bytes), %v; want %.20q (%d bytes)", got, len(got), err, tt.want, len(tt.want))
			}
		})
	}
}

// password prefers SIGIL_PASSWORD, reads a pipe, and refuses a terminal
// (a character device: /dev/null stands in for one).
func TestPasswordSource(t *testing.T) {
	pipe := func(content string) io.Reader {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() { io.WriteString(w, content); w.Close() }()
		return r
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	tests := []struct {
		name  string
		env   map[string]string
		stdin io.Reader
		want  string // "" wants errNoPassword
	}{
		{"env wins over stdin", map[string]string{"SIGIL_PASSWORD": " from env "}, pipe("from stdin\n"), " from env "},
		{"env on a terminal", map[string]string{"SIGIL_PASSWORD": "from env"}, devNull, "from env"},
		{"pipe", nil, pipe("from stdin\n"), "from stdin"},
		{"terminal", nil, devNull, ""},
		{"empty pipe", nil, pipe(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{env: cliEnv{getenv: func(k string) string { return tt.env[k] }}, stdin: tt.stdin}
			got, err := c.password()
			if tt.want == "" {
				if !errors.Is(err, errNoPassword) {
					t.Errorf("password() = %q, %v; want errNoPassword", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("password() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
