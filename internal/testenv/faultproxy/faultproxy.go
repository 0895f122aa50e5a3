package faultproxy

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mode is how a Proxy treats traffic.
type Mode int32

const (
	Forward Mode = iota // pass everything through
	Refuse              // accept new connections and close them: a server that is down
	Silent              // never answer, never close, on new and open connections: a dead link or blackholed server
)

// Proxy forwards TCP connections to a real server (Redis, PostgreSQL)
// and breaks the network between them the ways production does. It fakes
// nothing of the server: only the link fails.
type Proxy struct {
	target   string
	ln       net.Listener
	mode     atomic.Int32 // a Mode
	Accepted atomic.Int32 // connections accepted so far
	Dropped  atomic.Int64 // bytes from clients discarded while silent

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // open sockets, both sides
	wg     sync.WaitGroup        // the accept loop and every pipe
}

// New listens on a free loopback port and forwards to target. The
// caller registers p.Close as a cleanup (after anything using the proxy,
// so that it runs before their cleanups).
func New(t *testing.T, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p
}

// Addr is the proxy's host:port, for the client to dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Set changes how traffic is treated from now on, on new and open
// connections alike.
func (p *Proxy) Set(m Mode) { p.mode.Store(int32(m)) }

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.Accepted.Add(1)
		switch Mode(p.mode.Load()) {
		case Refuse:
			c.Close()
		case Silent:
			p.start(c, nil)
		default:
			s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.start(c, s)
		}
	}
}

// start pipes client c to server s both ways; with s nil it only swallows
// what c sends. A pair dialled while the proxy was set to Refuse (and cut)
// is closed, so no connection outlives Set(Refuse) and Cut.
func (p *Proxy) start(c, s net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || (s != nil && Mode(p.mode.Load()) == Refuse) {
		c.Close()
		if s != nil {
			s.Close()
		}
		return
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	go p.pipe(c, s, true)
	if s != nil {
		p.conns[s] = struct{}{}
		p.wg.Add(1)
		go p.pipe(s, c, false)
	}
}

// pipe copies src to dst until either fails, discarding while the proxy is
// silent; then it closes both.
func (p *Proxy) pipe(src, dst net.Conn, fromClient bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if dst == nil || Mode(p.mode.Load()) == Silent {
				if fromClient {
					p.Dropped.Add(int64(n))
				}
			} else if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.drop(src)
	if dst != nil {
		p.drop(dst)
	}
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Cut closes every open connection, as a server restart would.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops accepting, cuts everything and waits for its goroutines.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.Cut()
	p.wg.Wait()
}
