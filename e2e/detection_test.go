package e2e

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// detectionStack discovers topo from its master and follows failure events.
func detectionStack(t *testing.T, topo *sandbox.Topology, seed string) (*stack, *eventLog) {
	t.Helper()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{seed}
	s := startStack(t, cfg)
	waitForCluster(t, s, topo.Master().Key, len(topo.Instances()))
	return s, followEvents(t, s)
}

// TestLivenessWatchDetectsAKilledMasterBeforeThePoll polls every 30 s: a
// killed master can only be detected within the test's bound because the
// liveness watch saw its connection drop and had it probed at once.
func TestLivenessWatchDetectsAKilledMasterBeforeThePoll(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Discovery.PollInterval = 30 * time.Second
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, len(topo.Instances()))
	events := followEvents(t, s)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, "DeadMaster", m.Key, 15*time.Second)
}

func TestDetectKilledMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	m := topo.Master()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	det, _ := events.waitFor(t, "DeadMaster", m.Key, 5*time.Second)
	if det.GetSuggestedAction() != analyzerv1.Action_ACTION_RECOVER_MASTER || det.GetCluster() != m.Key {
		t.Errorf("detection = %v", det)
	}
	evidence := fmt.Sprint(det.GetEvidence())
	for _, want := range []string{"unreachable (refused)", "replica IO Connecting", topo.Instance("r1").Key[len("127.0.0.1:"):]} {
		if !strings.Contains(evidence, want) {
			t.Errorf("evidence lacks %q: %s", want, evidence)
		}
	}
	events.assertNone(t, "DeadMasterAndSomeReplicas", "DeadMasterAndReplicas")
}

func TestDetectFrozenMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	m := topo.Master()
	t.Cleanup(func() { _ = m.Thaw() })
	frozen := time.Now()
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	// Replicas give up on a silent source after slave_net_timeout (4s here).
	_, at := events.waitFor(t, "DeadMaster", m.Key, 4*time.Second+2*time.Second)
	t.Logf("DeadMaster %s after SIGSTOP", at.Sub(frozen).Round(time.Millisecond))
	if _, unreachableAt, ok := events.find("UnreachableMaster", m.Key); ok && unreachableAt.After(at) {
		t.Errorf("UnreachableMaster came after DeadMaster")
	}
}

func TestDetectCleanlyStoppedMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	m := topo.Master()
	if err := m.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, "DeadMaster", m.Key, 5*time.Second)
}

func TestDetectKilledIntermediateMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterIntermediateReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	im := topo.Instance("i1")
	if err := im.Kill(); err != nil {
		t.Fatal(err)
	}
	det, _ := events.waitFor(t, "DeadIntermediateMaster", im.Key, 5*time.Second)
	if det.GetSuggestedAction() != analyzerv1.Action_ACTION_RECOVER_INTERMEDIATE_MASTER {
		t.Errorf("action = %s", det.GetSuggestedAction())
	}
	events.assertNone(t, "DeadMaster")
}

func TestDetectStoppedReplicationIsNotDeadMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	s, events := detectionStack(t, topo, topo.Master().Key)
	for _, r := range topo.Instances()[1:] {
		if err := r.Exec(ctxT(t), "STOP SLAVE"); err != nil {
			t.Fatal(err)
		}
	}
	_, at := events.waitFor(t, "AllMasterReplicasNotReplicating", topo.Master().Key, 5*time.Second)
	waitPast(at.Add(3 * pollInterval))
	events.assertNone(t, recoveryCodes...)
	assertNoRecovery(t, s)
}

// TestDetectMasterUnreachableToVigilOnly cuts Vigil off from the master while
// replication keeps flowing: the replicas reach the master through a proxy
// whose existing connections survive the cut.
func TestDetectMasterUnreachableToVigilOnly(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	proxy := startProxy(t, m.Key)
	replicateThrough(t, topo, proxy.Addr())
	proxy.Mark() // the replicas' streams

	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Instance("r1").Key} // the crawl finds the master at the proxy
	s := startStack(t, cfg)
	waitForCluster(t, s, proxy.Addr(), 3)
	events := followEvents(t, s)

	proxy.Cut()
	_, at := events.waitFor(t, "UnreachableMaster", proxy.Addr(), 5*time.Second)
	// Replication still flows while Vigil cannot reach the master.
	if err := m.Exec(ctxT(t), "CREATE DATABASE still_flowing"); err != nil {
		t.Fatal(err)
	}
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatalf("replication stopped flowing: %v", err)
	}
	waitPast(at.Add(4 * pollInterval))
	events.assertNone(t, recoveryCodes...)
	assertNoRecovery(t, s)
}

// TestDetectMasterOutOfConnections: a master that refuses Vigil with
// ER_CON_COUNT_ERROR is not dead while its replicas replicate.
func TestDetectMasterOutOfConnections(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	// MariaDB lets users with CONNECTION ADMIN past max_connections, so
	// Vigil probes the master as a monitoring user without it.
	for _, inst := range topo.Instances() {
		if err := inst.Exec(ctxT(t), "SET sql_log_bin=0; CREATE USER probe@'%' IDENTIFIED BY 'probe'; "+
			"GRANT SELECT, PROCESS, REPLICATION CLIENT, REPLICATION MASTER ADMIN, SLAVE MONITOR ON *.* TO probe@'%'"); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Exec(ctxT(t), "SET GLOBAL max_connections=10"); err != nil {
		t.Fatal(err)
	}
	hold := holdConnections(t, m, 12)
	defer hold()

	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Instance("r1").Key}
	s := startStackAs(t, cfg, "probe", "probe")
	events := followEvents(t, s)
	det, at := events.waitFor(t, "UnreachableMaster", m.Key, 8*time.Second)
	if !strings.Contains(fmt.Sprint(det.GetEvidence()), "too many connections") {
		t.Errorf("evidence does not name the cause: %v", det.GetEvidence())
	}
	waitPast(at.Add(4 * pollInterval))
	events.assertNone(t, recoveryCodes...)
	assertNoRecovery(t, s)
}

func TestDetectErrantGTIDOnReplica(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	r1 := topo.Instance("r1")
	if err := r1.Exec(ctxT(t), "CREATE DATABASE local_write"); err != nil {
		t.Fatal(err)
	}
	det, _ := events.waitFor(t, "ErrantGTIDOnReplica", r1.Key, 5*time.Second)
	if !strings.Contains(det.GetDescription()+fmt.Sprint(det.GetEvidence()), "ErrantGTIDOnReplica") {
		t.Errorf("detection = %v", det)
	}
	events.assertNone(t, recoveryCodes...)
}

func TestDetectWritableReplica(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	_, events := detectionStack(t, topo, topo.Master().Key)
	r2 := topo.Instance("r2")
	if err := r2.Exec(ctxT(t), "SET GLOBAL read_only=0"); err != nil {
		t.Fatal(err)
	}
	det, _ := events.waitFor(t, "ReplicaIsWritable", r2.Key, 5*time.Second)
	if det.GetSuggestedAction() != analyzerv1.Action_ACTION_SET_READ_ONLY {
		t.Errorf("action = %s", det.GetSuggestedAction())
	}
	if err := r2.Exec(ctxT(t), "SET GLOBAL read_only=1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "detection cleared", func() error {
		events.mu.Lock()
		defer events.mu.Unlock()
		for _, e := range events.events {
			if e.det.GetId() == det.GetId() && e.det.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
				return nil
			}
		}
		return fmt.Errorf("not cleared")
	})
	events.assertNone(t, recoveryCodes...)
}

// waitPast sleeps until t: used only to let time pass in which something
// must NOT happen.
func waitPast(t time.Time) {
	time.Sleep(time.Until(t))
}

// holdConnections opens connections to inst as the replication user (who
// is not exempt from max_connections) until the server refuses one, and
// returns a function that releases them.
func holdConnections(t *testing.T, inst *sandbox.Instance, atMost int) func() {
	t.Helper()
	db, err := sql.Open("mysql", "repl:repl@tcp("+inst.Key+")/?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(atMost)
	var conns []*sql.Conn
	for range atMost {
		c, err := db.Conn(ctxT(t))
		if err != nil {
			var me *mysqldriver.MySQLError
			if !errors.As(err, &me) || me.Number != 1040 {
				t.Fatalf("holding connections: %v", err)
			}
			break
		}
		conns = append(conns, c)
	}
	if len(conns) == atMost {
		t.Fatalf("the server accepted %d connections; max_connections not reached", atMost)
	}
	return func() {
		for _, c := range conns {
			c.Close()
		}
		db.Close()
	}
}

// TestDetectFrozenMasterWithLaggingReplicas: replicas lag behind a master
// that then freezes. Their IO threads still look fine, so the analyzer
// restarts replication on them to force a verdict.
func TestDetectFrozenMasterWithLaggingReplicas(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	if err := m.Exec(ctxT(t), "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT)"); err != nil {
		t.Fatal(err)
	}
	// Replicas that would wait a minute before giving up on a silent
	// master: only the analyzer's restart can bring the verdict sooner.
	for _, r := range topo.Instances()[1:] {
		if err := r.Exec(ctxT(t), "STOP SLAVE; SET GLOBAL slave_net_timeout=60; START SLAVE"); err != nil {
			t.Fatal(err)
		}
	}
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Analyzer.LagThreshold = time.Second
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)
	events := followEvents(t, s)

	// Block the SQL threads (a global read lock held by a session) while the
	// master keeps writing: the replicas fall behind with their IO threads up.
	for _, r := range topo.Instances()[1:] {
		lock, err := r.AdminDB().Conn(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { lock.Close() })
		if _, err := lock.ExecContext(ctxT(t), "FLUSH TABLES WITH READ LOCK"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "replicas lag", func() error {
		if err := m.Exec(ctxT(t), "INSERT INTO app.t VALUES ()"); err != nil {
			return err
		}
		for _, r := range topo.Instances()[1:] {
			ch := getInstance(t, s, r.Key).GetSnapshot().GetChannels()[0]
			if ch.GetSecondsBehindSource() < 2 {
				return fmt.Errorf("%s lag %d", r.Key, ch.GetSecondsBehindSource())
			}
		}
		return nil
	})

	t.Cleanup(func() { _ = m.Thaw() })
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	_, lagging := events.waitFor(t, "UnreachableMasterWithLaggingReplicas", m.Key, 5*time.Second)
	_, dead := events.waitFor(t, "DeadMaster", m.Key, 10*time.Second) // well before slave_net_timeout
	t.Logf("DeadMaster %s after the lagging verdict", dead.Sub(lagging).Round(time.Millisecond))
}
