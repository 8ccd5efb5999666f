package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Pool settings per instance. A probe uses one connection; the second
// allows a concurrent on-demand probe of the same instance.
const (
	maxConnsPerInstance = 2
	connMaxLifetime     = 5 * time.Minute
)

// errProberClosed is reported by probes after Close.
var errProberClosed = errors.New("prober is closed")

// Prober probes servers and records Snapshots. It keeps one small
// connection pool per instance. Its methods are safe for concurrent use.
type Prober struct {
	cfg        ProberConfig
	classifier *classifier
	readOrder  atomic.Uint64

	mu     sync.Mutex
	pools  map[topology.InstanceKey]*instancePool
	closed bool
}

// instancePool is the connection pool of one instance.
type instancePool struct {
	db        *sql.DB
	connector *tracingConnector
	// versioned holds the version-dependent statements the last probe ran
	// (see probeRun.sendVersioned), so that the next probe can send them
	// with the others in one round trip.
	versioned atomic.Pointer[[]string]
}

// NewProber validates cfg, fills its defaults and returns a Prober. It
// connects to nothing until the first Probe.
func NewProber(cfg ProberConfig) (*Prober, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("mysql prober config: %w", err)
	}
	cl, err := newClassifier(cfg.Classification)
	if err != nil {
		return nil, fmt.Errorf("mysql prober config: %w", err)
	}
	return &Prober{cfg: cfg, classifier: cl, pools: make(map[topology.InstanceKey]*instancePool)}, nil
}

// Config returns the configuration in effect, defaults filled in.
func (p *Prober) Config() ProberConfig { return p.cfg }

// Probe reads the state of one server and returns it as a Snapshot. It
// never returns nil and never panics: every failure is recorded in the
// snapshot. The probe takes at most ConnectTimeout (TCP connect and MySQL
// handshake, on a fresh connection) plus ReadTimeout (the statements), less
// if ctx ends sooner.
//
// Reachability: reachable is true once a connection is up and the first
// statement answered. If a later statement fails, reachable stays true and
// partial is set; error_class, error_number and error describe the first
// failure (error lists up to four). Whatever was read is kept, but the
// fields of a failed statement are left empty: a partial snapshot with no
// channels does not mean the server replicates from nothing. A MySQL error
// on one statement (a missing privilege, say) does not end the probe; a
// broken connection does. When the connection or the first statement fails,
// reachable is false and the error fields say why.
func (p *Prober) Probe(ctx context.Context, key topology.InstanceKey) *topologyv1.Snapshot {
	started := time.Now()
	snap := &topologyv1.Snapshot{
		Key:            key.Proto(),
		ObserverId:     p.cfg.ObserverID,
		ObserverDomain: p.cfg.ObserverDomain,
		ProbeStarted:   timestamppb.New(started),
		ReadOrder:      p.readOrder.Add(1),
	}
	run := &probeRun{prober: p, key: key, snap: snap}
	func() {
		defer func() {
			if r := recover(); r != nil {
				run.fail(failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER,
					detail: fmt.Sprintf("internal error: %v", r)}, "probe "+key.String())
			}
		}()
		run.run(ctx)
	}()
	snap.ProbeFinished = timestamppb.Now()
	return snap
}

// Forget closes the connection pool of an instance, for an instance that is
// no longer probed or whose connections broke. A later Probe opens a new
// pool.
func (p *Prober) Forget(key topology.InstanceKey) error {
	p.mu.Lock()
	ip := p.pools[key]
	delete(p.pools, key)
	p.mu.Unlock()
	if ip == nil {
		return nil
	}
	if err := ip.db.Close(); err != nil {
		return fmt.Errorf("close pool of %s: %w", key, err)
	}
	return nil
}

// Close closes every connection pool. Probes after Close fail.
func (p *Prober) Close() error {
	p.mu.Lock()
	pools := p.pools
	p.pools, p.closed = nil, true
	p.mu.Unlock()
	var errs []error
	for key, ip := range pools {
		if err := ip.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close pool of %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// pool returns the instance's pool, creating it on first use.
func (p *Prober) pool(key topology.InstanceKey) (*instancePool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errProberClosed
	}
	if ip, ok := p.pools[key]; ok {
		return ip, nil
	}
	cfg := mysql.NewConfig()
	cfg.User = p.cfg.User
	cfg.Passwd = p.cfg.Password
	cfg.Net = "tcp"
	cfg.Addr = key.String()
	cfg.Timeout = p.cfg.ConnectTimeout
	cfg.ReadTimeout = p.cfg.ReadTimeout
	cfg.WriteTimeout = p.cfg.ReadTimeout
	cfg.ParseTime = false
	// Probes send their fixed statements in batches (queryBatch). Any
	// other text, such as the configured lag and classification queries,
	// is sent as a statement of its own.
	cfg.MultiStatements = true
	cfg.Logger = &mysql.NopLogger{} // failures are returned, never logged
	cfg.DialFunc = dialerFrom(p.cfg.SourceAddr)
	inner, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("connector for %s: %w", key, err)
	}
	connector := newTracingConnector(inner)
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(maxConnsPerInstance)
	db.SetMaxIdleConns(maxConnsPerInstance)
	db.SetConnMaxLifetime(connMaxLifetime)
	ip := &instancePool{db: db, connector: connector}
	p.pools[key] = ip
	return ip, nil
}
