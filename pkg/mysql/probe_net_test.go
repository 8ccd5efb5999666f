package mysql

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Timeouts for probes in tests: short enough to keep tests fast, long
// enough for a loaded machine to answer a local server.
const (
	testConnectTimeout = 500 * time.Millisecond
	testReadTimeout    = time.Second
	// probeDeadline is a generous bound on any probe: assert it returned,
	// not how fast.
	probeDeadline = 5 * time.Second
)

// fakeServer is a TCP listener on 127.0.0.1 that hands each connection to
// handle and closes everything when the test ends.
func fakeServer(t *testing.T, handle func(net.Conn)) topology.InstanceKey {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return keyOf(t, ln.Addr().String())
}

func keyOf(t testing.TB, addr string) topology.InstanceKey {
	t.Helper()
	k, err := topology.ParseInstanceKey(addr)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestProber(t testing.TB, c Credentials) *Prober {
	t.Helper()
	p, err := NewProber(ProberConfig{
		Credentials:    c,
		ConnectTimeout: testConnectTimeout,
		ReadTimeout:    testReadTimeout,
		ObserverID:     "test-observer",
		ObserverDomain: "dc-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// probeInTime probes and fails the test if the probe outlives probeDeadline.
func probeInTime(t *testing.T, p *Prober, k topology.InstanceKey) (*topologyv1.Snapshot, time.Duration) {
	t.Helper()
	done := make(chan *topologyv1.Snapshot, 1)
	start := time.Now()
	go func() { done <- p.Probe(context.Background(), k) }()
	select {
	case s := <-done:
		return s, time.Since(start)
	case <-time.After(probeDeadline):
		t.Fatalf("probe of %s still running after %s", k, probeDeadline)
		return nil, 0
	}
}

func TestProbeWithoutMySQL(t *testing.T) {
	closedPort := func(t *testing.T) topology.InstanceKey {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		k := keyOf(t, ln.Addr().String())
		_ = ln.Close()
		return k
	}
	tests := []struct {
		name     string
		server   func(t *testing.T) topology.InstanceKey
		class    string
		errorHas string
	}{
		{"nothing listens", closedPort, "ERROR_CLASS_REFUSED", "connection refused"},
		{"http server", func(t *testing.T) topology.InstanceKey {
			return fakeServer(t, func(c net.Conn) {
				_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
				_ = c.Close()
			})
		}, "ERROR_CLASS_PROTOCOL", "not a MySQL server"},
		{"closes at once", func(t *testing.T) topology.InstanceKey {
			return fakeServer(t, func(c net.Conn) { _ = c.Close() })
		}, "ERROR_CLASS_PROTOCOL", "without a MySQL handshake"},
		{"silent", func(t *testing.T) topology.InstanceKey {
			return fakeServer(t, func(c net.Conn) {
				var b [1]byte
				_, _ = c.Read(b[:]) // until the prober or the test closes it
			})
		}, "ERROR_CLASS_TIMEOUT", "no MySQL handshake within 500ms"},
		{"short fake handshake", func(t *testing.T) topology.InstanceKey {
			// A packet that claims protocol 10 but is too short to parse:
			// the driver panics on it.
			return fakeServer(t, func(c net.Conn) {
				_, _ = c.Write([]byte{5, 0, 0, 0, 10, 'a', 'b', 'c', 'd'})
				var b [1]byte
				_, _ = c.Read(b[:])
			})
		}, "ERROR_CLASS_PROTOCOL", "not a MySQL server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := tt.server(t)
			p := newTestProber(t, Credentials{User: "vigil", Password: "pw-never-shown"})
			// Twice: a failed handshake must not wedge the pool.
			for range 2 {
				s, took := probeInTime(t, p, k)
				t.Logf("%s in %s: %s", s.GetErrorClass(), took, s.GetError())
				if s.GetReachable() || s.GetPartial() {
					t.Errorf("reachable=%v partial=%v, want false", s.GetReachable(), s.GetPartial())
				}
				if got := s.GetErrorClass().String(); got != tt.class {
					t.Errorf("error class %s, want %s", got, tt.class)
				}
				if !strings.Contains(s.GetError(), tt.errorHas) || !strings.Contains(s.GetError(), k.String()) {
					t.Errorf("error %q, want it to name %s and contain %q", s.GetError(), k, tt.errorHas)
				}
				if strings.Contains(s.GetError(), "pw-never-shown") {
					t.Errorf("error %q shows the password", s.GetError())
				}
				checkFrame(t, s, k)
			}
		})
	}
}

// checkFrame checks what every snapshot carries, reachable or not.
func checkFrame(t *testing.T, s *topologyv1.Snapshot, k topology.InstanceKey) {
	t.Helper()
	if s.GetKey().GetHost() != k.Host || s.GetKey().GetPort() != uint32(k.Port) {
		t.Errorf("key %v, want %s", s.GetKey(), k)
	}
	if s.GetObserverId() != "test-observer" || s.GetObserverDomain() != "dc-test" {
		t.Errorf("observer %q/%q, want test-observer/dc-test", s.GetObserverId(), s.GetObserverDomain())
	}
	if s.GetReadOrder() == 0 {
		t.Error("read_order is 0")
	}
	start, end := s.GetProbeStarted().AsTime(), s.GetProbeFinished().AsTime()
	if s.GetProbeStarted() == nil || s.GetProbeFinished() == nil || end.Before(start) {
		t.Errorf("probe times %v..%v", s.GetProbeStarted(), s.GetProbeFinished())
	}
}

// TestProbesConnectFromTheSourceAddress: with SourceAddr set, the server
// sees every connection come from it; a bad address is refused up front.
func TestProbesConnectFromTheSourceAddress(t *testing.T) {
	from := make(chan string, 4)
	key := fakeServer(t, func(c net.Conn) {
		host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		from <- host
		_ = c.Close()
	})
	p, err := NewProber(ProberConfig{Credentials: Credentials{User: "u"}, ConnectTimeout: testConnectTimeout,
		ReadTimeout: testReadTimeout, SourceAddr: "127.0.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if snap := p.Probe(context.Background(), key); snap.GetReachable() {
		t.Fatalf("a server that closes at once probed reachable: %v", snap)
	}
	select {
	case host := <-from:
		if host != "127.0.0.7" {
			t.Errorf("connection from %s, want 127.0.0.7", host)
		}
	case <-time.After(probeDeadline):
		t.Fatal("no connection reached the server")
	}
	if _, err := NewProber(ProberConfig{Credentials: Credentials{User: "u"}, SourceAddr: "db1"}); err == nil ||
		!strings.Contains(err.Error(), "source address") {
		t.Errorf("NewProber with a host name as source address: error = %v, want one naming it", err)
	}
}
