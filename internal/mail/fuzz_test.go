package mail

import (
	"bytes"
	"net/mail"
	"testing"
	"time"
)

// FuzzRender: whatever To and Subject a caller passes (To is often typed
// by a user), either the Message is refused or the rendered mail has
// exactly Sigil's eight headers — no injected header, no second recipient.
func FuzzRender(f *testing.F) {
	for _, s := range [][2]string{
		{"ann@example.test", "Reset your password"},
		{"Ann <ann@example.test>", "Grüße"},
		{"ann@example.test\r\nBcc: eve@evil.test", "x"},
		{"ann@example.test", "x\nBcc: eve@evil.test"},
		{`"a\"b" <ann@example.test>`, "=?utf-8?q?x?="},
		{"ann@example.test, eve@evil.test", "x"},
		{"=?utf-8?q?A=0D=0ABcc:_e@e.test?= <ann@example.test>", "x"},
	} {
		f.Add(s[0], s[1])
	}
	from := &mail.Address{Name: "Sigil", Address: "noreply@example.test"}
	f.Fuzz(func(t *testing.T, to, subject string) {
		m := Message{To: to, Subject: subject, Text: "body"}
		addr, err := m.recipient()
		if err != nil {
			return
		}
		raw, err := render(from, addr, m.Subject, m.Text, time.Unix(0, 0))
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("rendered mail does not parse: %v\n%q", err, raw)
		}
		if len(msg.Header) != 8 {
			t.Fatalf("%d headers, want 8: %q", len(msg.Header), raw)
		}
		got, err := mail.ParseAddressList(msg.Header.Get("To"))
		if err != nil || len(got) != 1 || got[0].Address != addr.Address {
			t.Fatalf("To header %q parses to %v, %v; want only %s", msg.Header.Get("To"), got, err, addr.Address)
		}
	})
}
