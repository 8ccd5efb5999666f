package mysql

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The driver reduces most network failures to mysql.ErrInvalidConn and
// drops the cause. Classifying failures needs that cause (timeout, EOF, reset)
// and whether anything answered at all, so every connection is dialed
// through tracedConn, which remembers them.

// tracedConn is a TCP connection that records the bytes it received and the
// first error of a read or write. While a probe holds it, it also enforces
// the probe's context (see bind).
type tracedConn struct {
	net.Conn
	received atomic.Int64

	mu      sync.Mutex
	err     error
	onClose func() // set once the handshake succeeded; runs at most once
	closed  bool

	// deadlineMu orders the deadlines set by the driver and by bind's
	// cancellation, so a cancellation is never overwritten.
	deadlineMu sync.Mutex
	limit      time.Time // latest deadline allowed; zero for none
	binding    uint64    // counts binds, so a stale cancellation does nothing
}

func (c *tracedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.received.Add(int64(n))
	if err != nil {
		c.record(err)
	}
	return n, err
}

func (c *tracedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.record(err)
	}
	return n, err
}

// Close closes the connection and forgets it in its tracker.
func (c *tracedConn) Close() error {
	c.mu.Lock()
	onClose := c.onClose
	c.onClose, c.closed = nil, true
	c.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	return c.Conn.Close()
}

// expired is a deadline in the past: it fails reads and writes at once.
var expired = time.Unix(1, 0)

// bind enforces ctx on the connection until release is called: no read or
// write deadline goes past ctx's deadline, and the end of ctx interrupts the
// read or write in progress, which then fails with os.ErrDeadlineExceeded.
// The driver can then be given a context it need not watch; its watcher
// costs two goroutine hand-offs per statement, a large part of a probe's
// CPU time. The driver sets a deadline before every read and write, so the
// connection needs no reset after release.
func (c *tracedConn) bind(ctx context.Context) (release func()) {
	limit, _ := ctx.Deadline()
	c.deadlineMu.Lock()
	c.binding++
	binding := c.binding
	c.limit = limit
	c.deadlineMu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		c.deadlineMu.Lock()
		defer c.deadlineMu.Unlock()
		if c.binding == binding {
			c.limit = expired
			_ = c.Conn.SetDeadline(expired)
		}
	})
	return func() {
		stop()
		c.deadlineMu.Lock()
		if c.binding == binding {
			c.binding++
			c.limit = time.Time{}
		}
		c.deadlineMu.Unlock()
	}
}

// capped returns t, or the limit when t is later (or none).
func (c *tracedConn) capped(t time.Time) time.Time {
	if !c.limit.IsZero() && (t.IsZero() || t.After(c.limit)) {
		return c.limit
	}
	return t
}

func (c *tracedConn) SetDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	return c.Conn.SetDeadline(c.capped(t))
}

func (c *tracedConn) SetReadDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *tracedConn) SetWriteDeadline(t time.Time) error {
	c.deadlineMu.Lock()
	defer c.deadlineMu.Unlock()
	return c.Conn.SetWriteDeadline(c.capped(t))
}

// SyscallConn exposes the socket so the driver can check an idle pooled
// connection for a hang-up before reusing it.
func (c *tracedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c.Conn)
	}
	return sc.SyscallConn()
}

// record keeps the first error: later ones are usually the consequence
// ("use of closed network connection").
func (c *tracedConn) record(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// netErr returns the first read or write error, or nil.
func (c *tracedConn) netErr() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// dialSlot carries what one connection attempt dialed, from the dial
// function back to tracingConnector.Connect.
type dialSlot struct {
	conn *tracedConn
}

type dialSlotKey struct{}

// dialTraced is the driver's DialFunc: it dials TCP and, when the context
// carries a dialSlot, records the connection there.
func dialTraced(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialTracedFrom(ctx, nil, network, addr)
}

// dialerFrom returns a DialFunc that connects from the local IP source,
// or from any when source is empty.
func dialerFrom(source string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if source == "" {
		return dialTraced
	}
	local := &net.TCPAddr{IP: net.ParseIP(source)} // validated in ProberConfig.validate
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialTracedFrom(ctx, local, network, addr)
	}
}

func dialTracedFrom(ctx context.Context, local net.Addr, network, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: local} // keep-alive is on by default
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &tracedConn{Conn: nc}
	if slot, ok := ctx.Value(dialSlotKey{}).(*dialSlot); ok {
		slot.conn = tc
	}
	return tc, nil
}

// connectError is a failed connection attempt with what the network saw.
type connectError struct {
	dialed   bool  // the TCP connection was established
	received int64 // bytes received before the failure
	netErr   error // first read or write error on the socket
	err      error // what the driver returned
}

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// tracingConnector wraps the driver's connector: it annotates failed
// attempts with a connectError and remembers each open connection's
// tracedConn, so a failed query can be explained too.
type tracingConnector struct {
	driver.Connector

	mu    sync.Mutex
	conns map[driver.Conn]*tracedConn
}

func newTracingConnector(inner driver.Connector) *tracingConnector {
	return &tracingConnector{Connector: inner, conns: make(map[driver.Conn]*tracedConn)}
}

// Connect opens a connection. A driver panic on a garbled handshake is
// turned into an error so it cannot take the pool (or the process) down.
func (c *tracingConnector) Connect(ctx context.Context) (dc driver.Conn, err error) {
	slot := new(dialSlot)
	defer func() {
		if r := recover(); r != nil {
			if slot.conn != nil {
				_ = slot.conn.Close()
			}
			dc, err = nil, c.failed(slot, fmt.Errorf("malformed handshake: driver panicked: %v", r))
		}
	}()
	dc, err = c.Connector.Connect(context.WithValue(ctx, dialSlotKey{}, slot))
	if err != nil {
		return nil, c.failed(slot, err)
	}
	if tc := slot.conn; tc != nil {
		c.track(dc, tc)
	}
	return dc, nil
}

func (c *tracingConnector) failed(slot *dialSlot, err error) error {
	e := &connectError{err: err}
	if tc := slot.conn; tc != nil {
		e.dialed, e.received, e.netErr = true, tc.received.Load(), tc.netErr()
	}
	return e
}

// track remembers tc as the socket of dc until it closes.
func (c *tracingConnector) track(dc driver.Conn, tc *tracedConn) {
	c.mu.Lock()
	c.conns[dc] = tc
	c.mu.Unlock()
	tc.mu.Lock()
	closed := tc.closed
	if !closed {
		tc.onClose = func() { c.untrack(dc) }
	}
	tc.mu.Unlock()
	if closed {
		c.untrack(dc)
	}
}

func (c *tracingConnector) untrack(dc driver.Conn) {
	c.mu.Lock()
	delete(c.conns, dc)
	c.mu.Unlock()
}

// socket returns the tracedConn of an open driver connection, or nil.
func (c *tracingConnector) socket(dc any) *tracedConn {
	key, ok := dc.(driver.Conn)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns[key]
}
