package mysql

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

var sandboxCredentials = Credentials{User: sandbox.DefaultUser, Password: sandbox.DefaultPassword}

func instanceKey(t testing.TB, i *sandbox.Instance) topology.InstanceKey {
	t.Helper()
	return keyOf(t, i.Key)
}

func mustExec(t *testing.T, i *sandbox.Instance, query string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := i.Exec(ctx, query); err != nil {
		t.Fatal(err)
	}
}

// requireReachable fails the test unless the probe read everything.
func requireReachable(t *testing.T, s *topologyv1.Snapshot) {
	t.Helper()
	if !s.GetReachable() || s.GetPartial() || s.GetError() != "" {
		t.Fatalf("reachable=%v partial=%v error=%q, want a complete probe", s.GetReachable(), s.GetPartial(), s.GetError())
	}
}

// probeUntil probes until ok accepts the snapshot or 5 s pass, and returns
// the last snapshot.
func probeUntil(t *testing.T, p *Prober, k topology.InstanceKey, ok func(*topologyv1.Snapshot) bool) *topologyv1.Snapshot {
	t.Helper()
	deadline := time.Now().Add(probeDeadline)
	for {
		s := p.Probe(context.Background(), k)
		if ok(s) || time.Now().After(deadline) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func streaming(s *topologyv1.Snapshot) bool {
	c := s.GetChannels()
	return len(c) == 1 && c[0].GetIoThread() == yes && c[0].GetSqlThread() == yes &&
		c[0].SecondsBehindSource != nil && c[0].GetSecondsBehindSource() == 0
}

func TestProbeMariaDB(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m, r1, r2 := topo.Master(), topo.Instance("r1"), topo.Instance("r2")
	mKey, r1Key, r2Key := instanceKey(t, m), instanceKey(t, r1), instanceKey(t, r2)
	mustExec(t, m, "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY); INSERT INTO shop.orders VALUES (1)")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := topo.WaitReplicating(ctx); err != nil {
		t.Fatal(err)
	}
	p := newTestProber(t, sandboxCredentials)

	t.Run("master", func(t *testing.T) {
		before := time.Now()
		s := p.Probe(context.Background(), mKey)
		requireReachable(t, s)
		checkFrame(t, s, mKey)
		srv := s.GetServer()
		if srv.GetFlavor() != topologyv1.Flavor_FLAVOR_MARIADB || srv.GetMajorVersion() != "10.11" {
			t.Errorf("flavor %v major %q, want MARIADB 10.11", srv.GetFlavor(), srv.GetMajorVersion())
		}
		if srv.GetReadOnly() || !srv.GetLogBin() || !srv.GetLogReplicaUpdates() {
			t.Errorf("read_only=%v log_bin=%v log_replica_updates=%v, want false true true",
				srv.GetReadOnly(), srv.GetLogBin(), srv.GetLogReplicaUpdates())
		}
		if srv.GetServerId() != m.ServerID || srv.GetGtidBinlogPos() == "" || srv.GetBinlogPosition().GetPosition() == 0 {
			t.Errorf("server_id %d gtid_binlog_pos %q binlog %v, want %d, non-empty, a position",
				srv.GetServerId(), srv.GetGtidBinlogPos(), srv.GetBinlogPosition(), m.ServerID)
		}
		if srv.Uptime == nil || srv.GetBinlogFormat() != "ROW" { // uptime may still be 0 s
			t.Errorf("uptime %v binlog_format %q", srv.GetUptime(), srv.GetBinlogFormat())
		}
		if st := s.GetServerTime().AsTime(); st.Before(before.Add(-5*time.Second)) || st.After(time.Now().Add(5*time.Second)) {
			t.Errorf("server time %v is not about now (%v)", st, before)
		}
		if len(s.GetChannels()) != 0 {
			t.Errorf("master has channels: %v", s.GetChannels())
		}
		var ports []uint32
		for _, r := range s.GetReplicas() {
			if r.GetKey().GetHost() != "127.0.0.1" || r.GetServerId() != r.GetKey().GetPort() {
				t.Errorf("replica %v, want host 127.0.0.1 and server_id = port", r)
			}
			ports = append(ports, r.GetKey().GetPort())
		}
		slices.Sort(ports)
		want := []uint32{uint32(r1.Port), uint32(r2.Port)}
		slices.Sort(want)
		if !slices.Equal(ports, want) {
			t.Errorf("replica ports %v, want %v", ports, want)
		}
	})

	// MariaDB 10.11 lists replicas in SHOW SLAVE HOSTS even without
	// report_host, so the processlist fallback is checked on its own.
	t.Run("replicas from the processlist", func(t *testing.T) {
		ip, err := p.pool(mKey)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := ip.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		rows, err := queryRows(ctx, conn, processlistQuery)
		if err != nil {
			t.Fatal(err)
		}
		want := []*topologyv1.ReplicaRef{{Key: key("127.0.0.1", uint32(m.Port))}}
		if diff := cmp.Diff(want, parseProcesslistReplicas(rows, uint32(m.Port)), protocmp.Transform()); diff != "" {
			t.Errorf("replicas (-want +got):\n%s", diff)
		}
	})

	t.Run("replica", func(t *testing.T) {
		s := probeUntil(t, p, r1Key, streaming)
		requireReachable(t, s)
		checkFrame(t, s, r1Key)
		if !s.GetServer().GetReadOnly() || s.GetServer().GetGtidSlavePos() == "" {
			t.Errorf("read_only=%v gtid_slave_pos=%q, want true and non-empty", s.GetServer().GetReadOnly(), s.GetServer().GetGtidSlavePos())
		}
		if len(s.GetChannels()) != 1 {
			t.Fatalf("%d channels, want 1", len(s.GetChannels()))
		}
		c := s.GetChannels()[0]
		if c.GetName() != "" || c.GetSource().GetHost() != mKey.Host || c.GetSource().GetPort() != uint32(mKey.Port) {
			t.Errorf("channel %q source %v, want default channel from %s", c.GetName(), c.GetSource(), mKey)
		}
		if c.GetIoThread() != yes || c.GetSqlThread() != yes || c.SecondsBehindSource == nil || c.GetSecondsBehindSource() != 0 {
			t.Errorf("io %v sql %v behind %v, want YES YES 0", c.GetIoThread(), c.GetSqlThread(), c.SecondsBehindSource)
		}
		if c.GetUsingGtid() != "Slave_Pos" || !c.GetAutoPosition() || c.GetSourceServerId() != m.ServerID {
			t.Errorf("using_gtid %q auto_position %v source_server_id %d", c.GetUsingGtid(), c.GetAutoPosition(), c.GetSourceServerId())
		}
		if c.GetHeartbeatPeriod() != 1 || c.GetExecutedGtidSet() == "" || c.GetReadPosition().GetFile() == "" {
			t.Errorf("heartbeat %v executed %q read %v", c.GetHeartbeatPeriod(), c.GetExecutedGtidSet(), c.GetReadPosition())
		}
		if len(s.GetReplicas()) != 0 {
			t.Errorf("leaf replica reports replicas %v", s.GetReplicas())
		}
	})

	t.Run("replication stopped", func(t *testing.T) {
		mustExec(t, r1, "STOP SLAVE")
		defer mustExec(t, r1, "START SLAVE")
		s := p.Probe(context.Background(), r1Key)
		requireReachable(t, s)
		c := s.GetChannels()
		if len(c) != 1 || c[0].GetIoThread() != no || c[0].GetSqlThread() != no || c[0].SecondsBehindSource != nil {
			t.Errorf("channels %v, want one with IO and SQL NO and no lag", c)
		}
	})

	t.Run("lag query and classification", func(t *testing.T) {
		cp, err := NewProber(ProberConfig{
			Credentials: sandboxCredentials,
			ObserverID:  "test-observer", ObserverDomain: "dc-test",
			LagQuery: "SELECT 0.25",
			Classification: ClassificationConfig{
				ClusterAliasQuery:  "SELECT 'shop'",
				PromotionRuleQuery: "SELECT 'prefer_not'",
				InstanceAliasQuery: "SELECT alias FROM meta.instance", // no such table
				DataCenterPattern:  `^(\d+)\.`,
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cp.Close()
		s := cp.Probe(context.Background(), r1Key)
		if !s.GetReachable() || !s.GetPartial() || s.GetErrorNumber() != 1146 ||
			s.GetErrorClass() != topologyv1.ErrorClass_ERROR_CLASS_OTHER || !strings.Contains(s.GetError(), "instance alias query") {
			t.Errorf("reachable=%v partial=%v class=%v number=%d error=%q; want a partial probe failing on 1146",
				s.GetReachable(), s.GetPartial(), s.GetErrorClass(), s.GetErrorNumber(), s.GetError())
		}
		if c := s.GetChannels(); len(c) != 1 || c[0].CustomLagSeconds == nil || c[0].GetCustomLagSeconds() != 0.25 {
			t.Errorf("channels %v, want custom lag 0.25", c)
		}
		cl := s.GetClassification()
		if cl.GetClusterAlias() != "shop" || cl.GetPromotionRule() != topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT ||
			cl.GetDataCenter() != "127" {
			t.Errorf("classification %v, want alias shop, prefer_not, data centre 127", cl)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		const wrong = "not-the-password-1234"
		wp := newTestProber(t, Credentials{User: sandbox.DefaultUser, Password: wrong})
		s := wp.Probe(context.Background(), r1Key)
		checkFrame(t, s, r1Key)
		if s.GetReachable() || s.GetErrorClass() != classAuth || s.GetErrorNumber() != 1045 {
			t.Errorf("reachable=%v class=%v number=%d, want unreachable AUTH 1045", s.GetReachable(), s.GetErrorClass(), s.GetErrorNumber())
		}
		if strings.Contains(s.GetError(), wrong) || !strings.Contains(s.GetError(), "1045") {
			t.Errorf("error %q: want 1045 and no password", s.GetError())
		}
	})

	t.Run("frozen", func(t *testing.T) {
		requireReachable(t, p.Probe(context.Background(), r2Key)) // leaves a pooled connection
		if err := r2.Freeze(); err != nil {
			t.Fatal(err)
		}
		thawed := false
		thaw := func() {
			if !thawed {
				thawed = true
				if err := r2.Thaw(); err != nil {
					t.Error(err)
				}
			}
		}
		defer thaw()
		// First on the pooled connection (the query hangs), then on a new
		// one (the handshake hangs).
		for _, stage := range []string{"pooled connection", "new connection"} {
			s, took := probeInTime(t, p, r2Key)
			t.Logf("%s: %s in %s: %s", stage, s.GetErrorClass(), took, s.GetError())
			if s.GetReachable() || s.GetErrorClass() != classTimeout {
				t.Errorf("%s: reachable=%v class=%v error=%q, want unreachable TIMEOUT", stage, s.GetReachable(), s.GetErrorClass(), s.GetError())
			}
		}
		thaw()
		s := probeUntil(t, p, r2Key, func(s *topologyv1.Snapshot) bool { return s.GetReachable() })
		requireReachable(t, s)
	})

	t.Run("killed", func(t *testing.T) {
		if err := r2.Kill(); err != nil {
			t.Fatal(err)
		}
		s, took := probeInTime(t, p, r2Key) // the pooled connection is stale now
		t.Logf("%s in %s: %s", s.GetErrorClass(), took, s.GetError())
		if s.GetReachable() || s.GetErrorClass() != classRefused {
			t.Errorf("reachable=%v class=%v error=%q, want unreachable REFUSED", s.GetReachable(), s.GetErrorClass(), s.GetError())
		}
		if took > testConnectTimeout {
			t.Errorf("refused probe took %s, more than the connect timeout %s", took, testConnectTimeout)
		}
	})

	t.Run("read order increases", func(t *testing.T) {
		a := p.Probe(context.Background(), mKey).GetReadOrder()
		b := p.Probe(context.Background(), r2Key).GetReadOrder()
		if b <= a {
			t.Errorf("read_order %d then %d, want increasing", a, b)
		}
	})

	t.Run("forget and close", func(t *testing.T) {
		requireReachable(t, p.Probe(context.Background(), mKey))
		if err := p.Forget(mKey); err != nil {
			t.Fatal(err)
		}
		requireReachable(t, p.Probe(context.Background(), mKey)) // a new pool
		cp := newTestProber(t, sandboxCredentials)
		requireReachable(t, cp.Probe(context.Background(), mKey))
		if err := cp.Close(); err != nil {
			t.Fatal(err)
		}
		if s := cp.Probe(context.Background(), mKey); s.GetReachable() || !strings.Contains(s.GetError(), "closed") {
			t.Errorf("probe after Close: reachable=%v error=%q", s.GetReachable(), s.GetError())
		}
	})
}

// TestProbeTooManyConnections uses an instance of its own: it exhausts the
// connection limit, which would disturb other tests.
func TestProbeTooManyConnections(t *testing.T) {
	t.Parallel()
	topo := sandbox.StartForTest(t, sandbox.Spec{Instances: []sandbox.Node{{Name: "solo"}}})
	solo := topo.Master()
	k := instanceKey(t, solo)
	mustExec(t, solo, "SET GLOBAL max_connections=1") // MariaDB raises it to its minimum, 10
	t.Cleanup(func() { mustExec(t, solo, "SET GLOBAL max_connections=60") })

	// Users with CONNECTION ADMIN (such as the sandbox's topology user)
	// are exempt from max_connections in MariaDB, so this test probes as a
	// user without it, and holds connections until the server refuses one.
	limited := Credentials{User: "limited", Password: "limited-pw"}
	mustExec(t, solo, "CREATE USER 'limited'@'%' IDENTIFIED BY 'limited-pw'; "+
		"GRANT PROCESS, REPLICA MONITOR, BINLOG MONITOR ON *.* TO 'limited'@'%'")
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr = limited.User, limited.Password, "tcp", solo.Key
	cfg.Timeout = 2 * time.Second
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	holder := sql.OpenDB(connector)
	var held []*sql.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
		_ = holder.Close() // before the cleanup restores max_connections
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for len(held) < 20 {
		c, err := holder.Conn(ctx)
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1040 {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if len(held) == 20 {
		t.Fatal("the server accepted 20 connections: max_connections had no effect")
	}
	t.Logf("holding %d connections", len(held))

	p := newTestProber(t, limited)
	s := p.Probe(context.Background(), k)
	checkFrame(t, s, k)
	if s.GetReachable() || s.GetErrorClass() != classTooMany || s.GetErrorNumber() != 1040 {
		t.Errorf("reachable=%v class=%v number=%d error=%q, want unreachable TOO_MANY_CONNECTIONS 1040",
			s.GetReachable(), s.GetErrorClass(), s.GetErrorNumber(), s.GetError())
	}
}

// TestConnectionLostMidProbeIsAFailedProbe: a server that stops answering
// after the probe reached it gives a failed probe, not a partial one whose
// missing replication channels would move the instance to a tree of its
// own; a MySQL error leaves the probe partial, and a canceled probe is no
// evidence either way.
func TestConnectionLostMidProbeIsAFailedProbe(t *testing.T) {
	p := newTestProber(t, sandboxCredentials)
	tests := []struct {
		name               string
		err                error
		reachable, partial bool
	}{
		{"connection lost", mysql.ErrInvalidConn, false, false},
		{"MySQL error", &mysql.MySQLError{Number: 1227, Message: "Access denied; you need the REPLICATION CLIENT privilege"}, true, true},
		{"probe canceled", context.Canceled, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &probeRun{prober: p, key: topology.InstanceKey{Host: "db", Port: 3306}, snap: &topologyv1.Snapshot{Reachable: true}}
			if r.succeeded("SHOW SLAVE STATUS", tt.err) {
				t.Fatal("succeeded with an error")
			}
			if r.snap.GetReachable() != tt.reachable || r.snap.GetPartial() != tt.partial {
				t.Errorf("reachable=%v partial=%v, want %v %v", r.snap.GetReachable(), r.snap.GetPartial(), tt.reachable, tt.partial)
			}
			if r.snap.GetError() == "" {
				t.Error("no error recorded")
			}
		})
	}
}
