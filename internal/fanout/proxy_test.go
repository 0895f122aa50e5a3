package fanout

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxyMode is how a faultProxy treats traffic.
type proxyMode int32

const (
	forward proxyMode = iota // pass everything through
	refuse                   // accept new connections and close them: a server that is down
	silent                   // never answer, never close, on new and open connections: a dead link or blackholed server
)

// faultProxy forwards TCP connections to a real server (Redis, PostgreSQL)
// and breaks the network between them the ways production does. It fakes
// nothing of the server: only the link fails.
type faultProxy struct {
	target   string
	ln       net.Listener
	mode     atomic.Int32 // a proxyMode
	accepted atomic.Int32 // connections accepted so far
	dropped  atomic.Int64 // bytes from clients discarded while silent

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // open sockets, both sides
	wg     sync.WaitGroup        // the accept loop and every pipe
}

// newFaultProxy listens on a free loopback port and forwards to target. The
// caller registers p.close as a cleanup (after anything using the proxy,
// so that it runs before their cleanups).
func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

func (p *faultProxy) set(m proxyMode) { p.mode.Store(int32(m)) }

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.accepted.Add(1)
		switch proxyMode(p.mode.Load()) {
		case refuse:
			c.Close()
		case silent:
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
// what c sends.
func (p *faultProxy) start(c, s net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
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
func (p *faultProxy) pipe(src, dst net.Conn, fromClient bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if dst == nil || proxyMode(p.mode.Load()) == silent {
				if fromClient {
					p.dropped.Add(int64(n))
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

func (p *faultProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// cut closes every open connection, as a server restart would.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// close stops accepting, cuts everything and waits for its goroutines.
func (p *faultProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cut()
	p.wg.Wait()
}
