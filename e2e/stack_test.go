package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/process/processtest"
	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// pollInterval is the discovery poll interval in these tests.
const pollInterval = 500 * time.Millisecond

// stack is a running Vigil process with clients for every service.
type stack struct {
	app       *app.App
	cfg       app.Config
	cancel    context.CancelFunc
	done      chan error
	topology  topologyv1.TopologyServiceClient
	analyzer  analyzerv1.AnalyzerServiceClient
	discovery discoveryv1.DiscoveryServiceClient
	recovery  recoveryv1.RecoveryServiceClient
	gateway   string // base URL
	logs      *logBuffer
}

// testConfig runs every service on free loopback ports against a fresh
// PostgreSQL database.
func testConfig(t *testing.T) app.Config {
	cfg := app.DefaultConfig()
	cfg.Store = pgtest.NewDSN(t)
	cfg.Discovery.ListenAddr = "127.0.0.1:0"
	cfg.Analyzer.ListenAddr = "127.0.0.1:0"
	cfg.Recovery.ListenAddr = "127.0.0.1:0"
	cfg.Gateway.ListenAddr = "127.0.0.1:0"
	cfg.Discovery.PollInterval = pollInterval
	cfg.Discovery.ConnectTimeout = 250 * time.Millisecond
	cfg.Discovery.ReadTimeout = 500 * time.Millisecond
	cfg.Discovery.PersistInterval = 200 * time.Millisecond
	cfg.Analyzer.PersistInterval = 200 * time.Millisecond
	cfg.Analyzer.ReconnectMax = 500 * time.Millisecond
	cfg.Analyzer.DowntimeRefresh = 100 * time.Millisecond
	cfg.Analyzer.DiscoveryAddrs = []string{cfg.Discovery.ListenAddr}
	cfg.Gateway.DiscoveryAddr = cfg.Discovery.ListenAddr
	cfg.Gateway.AnalyzerAddr = cfg.Analyzer.ListenAddr
	cfg.Gateway.RecoveryAddr = cfg.Recovery.ListenAddr
	cfg.Recovery.Replication = &mysql.Credentials{User: sandbox.DefaultReplicationUser, Password: sandbox.DefaultReplicationPassword}
	return cfg
}

var sandboxCreds = mysql.Credentials{User: sandbox.DefaultUser, Password: sandbox.DefaultPassword}

// startStack starts the configured services and stops them when the test ends.
func startStack(t *testing.T, cfg app.Config) *stack {
	t.Helper()
	return startStackAs(t, cfg, sandboxCreds.User, sandboxCreds.Password)
}

// startStackAs starts the services probing MySQL as user, and waits until
// the analyzer, if it runs, is ready.
func startStackAs(t *testing.T, cfg app.Config, user, password string) *stack {
	t.Helper()
	s := startStackUnready(t, cfg, user, password)
	if addr := s.app.Addr(app.Analyzer); addr != "" {
		// Until it has synced with its discovery members the analyzer
		// answers Unavailable; tests start from a ready one.
		processtest.WaitServing(t, addr)
	}
	return s
}

// startStackUnready starts the services probing MySQL as user.
func startStackUnready(t *testing.T, cfg app.Config, user, password string) *stack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{}
	a, err := app.Start(ctx, cfg, mysql.Credentials{User: user, Password: password}, testLogger(logs))
	if err != nil {
		cancel()
		t.Fatalf("start vigil: %v", err)
	}
	s := &stack{app: a, cfg: cfg, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { s.done <- a.Wait(ctx) }()
	t.Cleanup(s.stop)

	if addr := a.Addr(app.Analyzer); addr != "" {
		conn := dial(t, addr)
		s.topology = topologyv1.NewTopologyServiceClient(conn)
		s.analyzer = analyzerv1.NewAnalyzerServiceClient(conn)
	}
	if addr := a.Addr(app.Discovery); addr != "" {
		s.discovery = discoveryv1.NewDiscoveryServiceClient(dial(t, addr))
	}
	if addr := a.Addr(app.Recovery); addr != "" {
		s.recovery = recoveryv1.NewRecoveryServiceClient(dial(t, addr))
	}
	if addr := a.Addr(app.Gateway); addr != "" {
		s.gateway = "http://" + addr
	}
	return s
}

// stop shuts the process down and waits for it; calling it twice is harmless.
func (s *stack) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

func dial(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpcx.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// testLogger logs to logs, and to stderr as well when VIGIL_TEST_LOG is set.
func testLogger(logs *logBuffer) *slog.Logger {
	var w io.Writer = logs
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// logBuffer keeps what a stack logged, for tests that check a log line.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the logged lines that contain every one of parts.
func (b *logBuffer) lines(parts ...string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, line := range strings.Split(b.buf.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all && line != "" {
			out = append(out, line)
		}
	}
	return out
}

// eventually polls cond until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %s: %v", what, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func key(s string) *topologyv1.InstanceKey {
	k, err := parseKey(s)
	if err != nil {
		panic(err)
	}
	return k
}

func parseKey(s string) (*topologyv1.InstanceKey, error) {
	k, err := topology.ParseInstanceKey(s)
	if err != nil {
		return nil, err
	}
	return k.Proto(), nil
}

// waitForCluster waits until the analyzer shows the cluster of master with n
// reachable instances.
func waitForCluster(t *testing.T, s *stack, master string, n int) *topologyv1.GetClusterTopologyResponse {
	t.Helper()
	var resp *topologyv1.GetClusterTopologyResponse
	eventually(t, 15*time.Second, "cluster discovered", func() error {
		r, err := s.topology.GetClusterTopology(ctxT(t), &topologyv1.GetClusterTopologyRequest{Cluster: master})
		if err != nil {
			return err
		}
		if got := int(r.GetCluster().GetInstanceCount()); got != n {
			return fmt.Errorf("%d instances, want %d", got, n)
		}
		reachable := 0
		for _, inst := range flatten(r.GetRoot()) {
			if inst.GetReachable() {
				reachable++
			}
		}
		if reachable != n {
			return fmt.Errorf("%d of %d instances probed", reachable, n)
		}
		resp = r
		return nil
	})
	return resp
}

func flatten(n *topologyv1.TopologyNode) []*topologyv1.Instance {
	out := []*topologyv1.Instance{n.GetInstance()}
	for _, r := range n.GetReplicas() {
		out = append(out, flatten(r)...)
	}
	return out
}

func getInstance(t *testing.T, s *stack, k string) *topologyv1.Instance {
	t.Helper()
	resp, err := s.topology.GetInstance(ctxT(t), &topologyv1.GetInstanceRequest{Instance: key(k)})
	if err != nil {
		t.Fatalf("GetInstance(%s): %v", k, err)
	}
	return resp.GetInstance()
}

// storedInstances returns what PostgreSQL holds.
func storedInstances(t *testing.T, dsn string) []store.Instance {
	t.Helper()
	st, err := postgres.Open(ctxT(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.ListInstances(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return got
}
