package gateway_test

// A minimal RFC 6455 WebSocket, enough to prove the proxy passes the
// upgrade and the frames both ways (no new module for it): the upstream
// echoes frames; the client sends masked text frames.

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEcho is the upstream's WebSocket endpoint: it upgrades, reports the
// X-Sigil-Subject it received in the handshake answer, and echoes frames.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a websocket request", http.StatusBadRequest)
		return
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: %s\r\nX-Echo-Subject: %s\r\n\r\n",
		wsAccept(r.Header.Get("Sec-WebSocket-Key")), r.Header.Get("X-Sigil-Subject"))
	rw.Flush()
	for {
		msg, err := readFrame(rw.Reader)
		if err != nil {
			return
		}
		if err := writeFrame(rw.Writer, msg, false); err != nil || rw.Flush() != nil {
			return
		}
	}
}

// writeFrame writes one final text frame (payload < 126 bytes), masked
// when it comes from a client.
func writeFrame(w io.Writer, payload string, masked bool) error {
	p := []byte(payload)
	if len(p) >= 126 {
		return errors.New("payload too long for this test helper")
	}
	hdr := []byte{0x81, byte(len(p))}
	if masked {
		var key [4]byte
		rand.Read(key[:])
		hdr[1] |= 0x80
		hdr = append(hdr, key[:]...)
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	_, err := w.Write(append(hdr, p...))
	return err
}

// readFrame reads one short frame, unmasking it if needed.
func readFrame(r *bufio.Reader) (string, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return "", err
	}
	n := int(hdr[1] & 0x7f)
	if n >= 126 {
		return "", errors.New("long frames not supported by this test helper")
	}
	var key [4]byte
	if hdr[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return "", err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return "", err
	}
	if hdr[1]&0x80 != 0 {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return string(p), nil
}

// wsDial opens a WebSocket through addr with extra handshake headers and
// returns the handshake answer, and the connection when it switched.
func wsDial(t *testing.T, addr string, hdr ...string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	for _, h := range hdr {
		req += h + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode == http.StatusSwitchingProtocols && res.Header.Get("Sec-WebSocket-Accept") != wsAccept(key) {
		t.Fatalf("bad Sec-WebSocket-Accept %q", res.Header.Get("Sec-WebSocket-Accept"))
	}
	return res, conn, br
}
