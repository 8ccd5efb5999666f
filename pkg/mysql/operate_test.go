package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestRestartReplicationIO(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := testProber(t)
	replica, _ := topology.ParseInstanceKey(topo.Instance("r1").Key)
	master, _ := topology.ParseInstanceKey(topo.Master().Key)

	if err := p.RestartReplicationIO(ctx, replica); err != nil {
		t.Fatalf("restart on a healthy replica: %v", err)
	}
	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	if err := p.RestartReplicationIO(ctx, replica); err != nil {
		t.Fatalf("restart with the master dead: %v", err)
	}
	// With its source gone the IO thread cannot come back: it says so at once.
	snap := p.Probe(ctx, replica)
	if io := snap.GetChannels()[0].GetIoThread(); io != topologyv1.ThreadState_THREAD_STATE_CONNECTING {
		t.Errorf("IO thread after restart against a dead master = %s, want CONNECTING", io)
	}
	if err := p.RestartReplicationIO(ctx, master); err == nil {
		t.Error("restart on a dead server reported success")
	}
}

// TestFailoverStatements checks the statements each flavour and version is
// sent when it is fenced, promoted or repointed. Only MariaDB runs here;
// the MySQL forms are those of the MySQL reference manual.
func TestFailoverStatements(t *testing.T) {
	mysql := topologyv1.Flavor_FLAVOR_MYSQL
	tests := []struct {
		name    string
		flavor  topologyv1.Flavor
		version serverVersion
		want    [7]string // stop, start, reset all, read-only, writable, change source, semi-sync source
	}{
		{"mariadb 10.11", topologyv1.Flavor_FLAVOR_MARIADB, serverVersion{10, 11, 19}, [7]string{
			"STOP SLAVE", "START SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only=1", "SET GLOBAL read_only=0",
			"CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3306, MASTER_USE_GTID=slave_pos", "rpl_semi_sync_master_enabled"}},
		{"mysql 5.7", mysql, serverVersion{5, 7, 44}, [7]string{
			"STOP SLAVE", "START SLAVE", "RESET SLAVE ALL", "SET GLOBAL super_read_only=1", "SET GLOBAL read_only=0",
			"CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3306, MASTER_AUTO_POSITION=1", "rpl_semi_sync_master_enabled"}},
		{"mysql 8.0.22", mysql, serverVersion{8, 0, 22}, [7]string{
			"STOP REPLICA", "START REPLICA", "RESET REPLICA ALL", "SET GLOBAL super_read_only=1", "SET GLOBAL read_only=0",
			"CHANGE MASTER TO MASTER_HOST='db-2', MASTER_PORT=3306, MASTER_AUTO_POSITION=1", "rpl_semi_sync_master_enabled"}},
		{"mysql 8.0.23", mysql, serverVersion{8, 0, 23}, [7]string{
			"STOP REPLICA", "START REPLICA", "RESET REPLICA ALL", "SET GLOBAL super_read_only=1", "SET GLOBAL read_only=0",
			"CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1", "rpl_semi_sync_master_enabled"}},
		{"mysql 8.4.3", mysql, serverVersion{8, 4, 3}, [7]string{
			"STOP REPLICA", "START REPLICA", "RESET REPLICA ALL", "SET GLOBAL super_read_only=1", "SET GLOBAL read_only=0",
			"CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-2', SOURCE_PORT=3306, SOURCE_AUTO_POSITION=1", "rpl_semi_sync_source_enabled"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDialect(tt.flavor, tt.version)
			got := [7]string{d.stopReplica, d.startReplica, d.resetReplicaAll, d.readOnly, d.writable, d.changeSourceTo("'db-2'", 3306), d.semiSyncSource}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestHostLiteral(t *testing.T) {
	for host, want := range map[string]string{"db-2.example": "'db-2.example'", "::1": "'::1'"} {
		if got, err := hostLiteral(host); err != nil || got != want {
			t.Errorf("hostLiteral(%q) = %q, %v; want %q", host, got, err, want)
		}
	}
	for _, bad := range []string{"", "x'; DROP TABLE t; --", `a\b`, "a\nb", `a"b`} {
		if got, err := hostLiteral(bad); err == nil {
			t.Errorf("hostLiteral(%q) = %q, want an error", bad, got)
		}
	}
}

// TestFailoverPrimitives runs a whole manual failover on a real topology:
// fence the master, stop the replicas' IO threads, let them apply their
// relay logs, promote one, repoint the other, and write through the new
// master.
func TestFailoverPrimitives(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := testProber(t)
	master, r1, r2 := instanceKey(t, topo.Master()), instanceKey(t, topo.Instance("r1")), instanceKey(t, topo.Instance("r2"))
	mustExec(t, topo.Master(), "CREATE DATABASE vigil_test; CREATE TABLE vigil_test.t (id INT PRIMARY KEY)")
	for i := range 20 {
		mustExec(t, topo.Master(), fmt.Sprintf("INSERT INTO vigil_test.t VALUES (%d)", i))
	}

	if err := p.SetReadOnly(ctx, master, true); err != nil {
		t.Fatal(err)
	}
	if ro := variable(t, topo.Master(), "@@read_only"); ro != "1" {
		t.Errorf("master read_only after fencing = %s, want 1", ro)
	}
	if err := topo.WaitReplicating(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range []topology.InstanceKey{r1, r2} {
		if err := p.StopReplicationIO(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitRelayLogApplied(ctx, r, 10*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if io := p.Probe(ctx, r2).GetChannels()[0].GetIoThread(); io != topologyv1.ThreadState_THREAD_STATE_NO {
		t.Errorf("r2 IO thread after StopReplicationIO = %s, want NO", io)
	}

	if err := p.Promote(ctx, r1); err != nil {
		t.Fatal(err)
	}
	snap := p.Probe(ctx, r1)
	if len(snap.GetChannels()) != 0 || snap.GetServer().GetReadOnly() {
		t.Fatalf("promoted r1: channels %v, read_only %v; want none and writable", snap.GetChannels(), snap.GetServer().GetReadOnly())
	}
	if err := p.ReplicateFrom(ctx, r2, r1); err != nil {
		t.Fatal(err)
	}
	mustExec(t, topo.Instance("r1"), "INSERT INTO vigil_test.t VALUES (100)")
	waitFor(t, 10*time.Second, func() string {
		if n := variable(t, topo.Instance("r2"), "(SELECT COUNT(*) FROM vigil_test.t)"); n != "21" {
			return "r2 has " + n + " rows, want 21"
		}
		return ""
	})
	ch := p.Probe(ctx, r2).GetChannels()[0]
	if ch.GetSource().GetPort() != uint32(r1.Port) || ch.GetUsingGtid() != "Slave_Pos" {
		t.Errorf("r2 channel: source %v using_gtid %q; want port %d by Slave_Pos", ch.GetSource(), ch.GetUsingGtid(), r1.Port)
	}

	if err := p.SetReadOnly(ctx, r1, true); err != nil {
		t.Fatal(err)
	}
	if err := p.StopReplication(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if ch := p.Probe(ctx, r2).GetChannels()[0]; ch.GetSqlThread() != topologyv1.ThreadState_THREAD_STATE_NO || ch.GetSource().GetPort() != uint32(r1.Port) {
		t.Errorf("r2 after StopReplication: %v; want stopped, source kept", ch)
	}
}

func TestWaitRelayLogAppliedReportsStoppedSQLThread(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := testProber(t)
	r1 := instanceKey(t, topo.Instance("r1"))
	mustExec(t, topo.Instance("r1"), "STOP SLAVE SQL_THREAD")
	mustExec(t, topo.Master(), "CREATE DATABASE vigil_test")
	waitFor(t, 10*time.Second, func() string {
		ch := p.Probe(ctx, r1).GetChannels()[0]
		if ch.GetReadPosition().GetPosition() == ch.GetExecPosition().GetPosition() {
			return "r1 has not received the new transaction"
		}
		return ""
	})
	err := p.WaitRelayLogApplied(ctx, r1, 10*time.Millisecond)
	if !errors.Is(err, ErrRelayLogNotApplied) {
		t.Fatalf("wait with the SQL thread stopped: %v, want ErrRelayLogNotApplied", err)
	}
}

func testProber(t *testing.T) *Prober {
	t.Helper()
	p, err := NewProber(ProberConfig{Credentials: sandboxCredentials})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func variable(t *testing.T, i *sandbox.Instance, expr string) string {
	t.Helper()
	var v string
	if err := i.AdminDB().QueryRow("SELECT " + expr).Scan(&v); err != nil {
		t.Fatalf("%s on %s: %v", expr, i, err)
	}
	return v
}

// waitFor polls cond until it returns "" or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(why)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTakeoverPrimitives runs a planned takeover by hand: the master is made
// read-only, the replica waits until it executed the master's GTIDs, is
// promoted, and the former master replicates from it without executing
// anything twice.
func TestTakeoverPrimitives(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := testProber(t)
	master, r1 := instanceKey(t, topo.Master()), instanceKey(t, topo.Instance("r1"))
	mustExec(t, topo.Master(), "CREATE DATABASE vigil_test; CREATE TABLE vigil_test.t (id INT PRIMARY KEY)")
	for i := range 50 {
		mustExec(t, topo.Master(), fmt.Sprintf("INSERT INTO vigil_test.t VALUES (%d)", i))
	}
	if err := p.SetReadOnly(ctx, master, true); err != nil {
		t.Fatal(err)
	}
	gtids, err := p.ExecutedGTIDs(ctx, master)
	if err != nil || gtids == "" {
		t.Fatalf("executed GTIDs of the master = %q, %v", gtids, err)
	}
	if err := p.WaitExecuted(ctx, r1, gtids); err != nil {
		t.Fatal(err)
	}
	if n := variable(t, topo.Instance("r1"), "(SELECT COUNT(*) FROM vigil_test.t)"); n != "50" {
		t.Fatalf("r1 has %s rows once it executed %s, want 50", n, gtids)
	}
	if err := p.Promote(ctx, r1); err != nil {
		t.Fatal(err)
	}
	repl := Credentials{User: sandbox.DefaultReplicationUser, Password: sandbox.DefaultReplicationPassword}
	if err := p.ReplicateFromAsFormerMaster(ctx, master, r1, repl); err != nil {
		t.Fatal(err)
	}
	mustExec(t, topo.Instance("r1"), "INSERT INTO vigil_test.t VALUES (100)")
	newGTIDs, err := p.ExecutedGTIDs(ctx, r1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitExecuted(ctx, master, newGTIDs); err != nil {
		t.Fatal(err)
	}
	ch := p.Probe(ctx, master).GetChannels()[0]
	if ch.GetIoThread() != topologyv1.ThreadState_THREAD_STATE_YES || ch.GetSqlThread() != topologyv1.ThreadState_THREAD_STATE_YES || ch.GetSource().GetPort() != uint32(r1.Port) {
		t.Errorf("former master's channel: %v; want replicating from r1", ch)
	}
	if n := variable(t, topo.Master(), "(SELECT COUNT(*) FROM vigil_test.t)"); n != "51" {
		t.Errorf("former master has %s rows, want 51", n)
	}

	if _, err := literal("replication password", "it's", redacted); err == nil || strings.Contains(err.Error(), "it's") {
		t.Errorf("a password with a quote: %v, want refused without showing it", err)
	}

	// A wait that cannot be met ends with the context.
	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	if err := p.WaitExecuted(wctx, master, "7-999-1"); !errors.Is(err, ErrNotExecuted) {
		t.Errorf("wait for a GTID nobody wrote: %v, want ErrNotExecuted", err)
	}
}

// TestHoldEndsWhenTheServerDies holds a liveness watch on a master: it
// returns nil when its context ends, and an error once the server is
// killed.
func TestHoldEndsWhenTheServerDies(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	p := testProber(t)
	master := instanceKey(t, topo.Master())

	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- p.Hold(ctx, master) }()
	select {
	case err := <-ended:
		t.Fatalf("Hold of a live server returned %v", err)
	case <-time.After(1200 * time.Millisecond): // two sleeps and more went by
	}
	cancel()
	if err := <-ended; err != nil {
		t.Errorf("Hold after its context ended = %v, want nil", err)
	}

	// Connected or not when the server dies, Hold ends with an error.
	go func() { ended <- p.Hold(context.Background(), master) }()
	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-ended:
		if err == nil {
			t.Error("Hold of a killed server returned nil")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Hold did not notice the killed server within 10s")
	}
}
