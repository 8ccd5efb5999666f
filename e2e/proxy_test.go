package e2e

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-db/vigil/pkg/sandbox"
)

// tcpProxy forwards connections from a loopback port to a server. Cut
// closes the port and every connection opened after Mark, leaving the older
// ones (replication streams) flowing: the server becomes unreachable to
// whoever connected since, and only to them.
type tcpProxy struct {
	lis    net.Listener
	target string

	mu     sync.Mutex
	conns  []net.Conn // client side of every proxied connection
	marked int        // len(conns) at Mark
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{lis: lis, target: target}
	go p.serve()
	t.Cleanup(func() { p.Cut(); p.closeAll() })
	return p
}

// Addr is the proxy's host:port.
func (p *tcpProxy) Addr() string { return p.lis.Addr().String() }

func (p *tcpProxy) serve() {
	for {
		client, err := p.lis.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client)
		p.mu.Unlock()
		go pipe(client, server)
		go pipe(server, client)
	}
}

func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Mark remembers which connections exist now.
func (p *tcpProxy) Mark() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marked = len(p.conns)
}

// Cut refuses new connections and closes those opened after Mark.
func (p *tcpProxy) Cut() {
	p.lis.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns[p.marked:] {
		c.Close()
	}
}

func (p *tcpProxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// sourceProxy forwards connections to a server and can cut clients off by
// the address they connect from: their connections are closed and new ones
// refused, while other clients go on as before.
type sourceProxy struct {
	lis    net.Listener
	target string

	mu    sync.Mutex
	cut   map[string]bool
	conns map[net.Conn]string // client side, by source address
}

func startSourceProxy(t *testing.T, target string) *sourceProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &sourceProxy{lis: lis, target: target, cut: map[string]bool{}, conns: map[net.Conn]string{}}
	go p.serve()
	t.Cleanup(func() {
		p.lis.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for c := range p.conns {
			c.Close()
		}
	})
	return p
}

// Addr is the proxy's host:port.
func (p *sourceProxy) Addr() string { return p.lis.Addr().String() }

func (p *sourceProxy) serve() {
	for {
		client, err := p.lis.Accept()
		if err != nil {
			return
		}
		from, _, _ := net.SplitHostPort(client.RemoteAddr().String())
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		refused := p.cut[from]
		if !refused {
			p.conns[client] = from
		}
		p.mu.Unlock()
		if refused {
			client.Close()
			server.Close()
			continue
		}
		go func() {
			pipe(client, server)
			p.mu.Lock()
			delete(p.conns, client)
			p.mu.Unlock()
		}()
		go pipe(server, client)
	}
}

// CutFrom cuts off the clients connecting from each of ips.
func (p *sourceProxy) CutFrom(ips ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ip := range ips {
		p.cut[ip] = true
	}
	for c, from := range p.conns {
		if p.cut[from] {
			c.Close()
		}
	}
}

// replicateThrough points every replica of topo at the master through the
// proxy at addr (on the master's host) and waits until they replicate.
func replicateThrough(t *testing.T, topo *sandbox.Topology, addr string) {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	for _, r := range topo.Instances()[1:] {
		if err := r.Exec(ctxT(t), "STOP SLAVE; CHANGE MASTER TO MASTER_PORT="+port+"; START SLAVE"); err != nil {
			t.Fatal(err)
		}
	}
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}
