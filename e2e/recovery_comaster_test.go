package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// TestRecoverDeadCoMaster makes the master and r1 co-masters (each
// replicates from the other; the master takes the writes, r2 replicates
// from it), kills the master: r1 becomes the only master and r2 follows it.
func TestRecoverDeadCoMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m, r1, r2 := topo.Master(), topo.Instance("r1"), topo.Instance("r2")
	mustExec(t, m, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER='%s', MASTER_PASSWORD='%s', "+
		"MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE", r1.Port, sandbox.DefaultReplicationUser, sandbox.DefaultReplicationPassword))
	mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)")
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	url, _ := etcdNamespace(t)
	cfg.Coordinator = url
	s := startStack(t, cfg)
	eventually(t, 15*time.Second, "the ring discovered", func() error {
		for _, i := range topo.Instances() {
			if !getInstance(t, s, i.Key).GetReachable() {
				return fmt.Errorf("%s not probed", i)
			}
		}
		return nil
	})
	events := followEvents(t, s)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	// Once r1 replaced it, the dead master (whose last state replicates
	// from r1) may be seen as a dead intermediate master too: that
	// recovery is skipped for the downtime the first one set.
	rec := waitForRecoveryWhere(t, s, "the co-master recovery ended", 20*time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetAnalysis() == "DeadCoMaster" && r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING
	})
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != r1.Key {
		t.Fatalf("recovery of %s: %s, successor %s (%s); steps %v; events %s", rec.GetAnalysis(), rec.GetOutcome(),
			keyString(rec.GetSuccessor()), rec.GetReason(), rec.GetSteps(), events.summary())
	}
	if ro := queryString(t, r1, "SELECT @@read_only"); ro != "0" {
		t.Errorf("surviving co-master read_only = %s, want writable", ro)
	}
	if st, err := r1.ReplicaStatus(ctxT(t)); err != nil || len(st) != 0 {
		t.Errorf("surviving co-master still has replication configured: %v %v", st, err)
	}
	mustExec(t, r1, "INSERT INTO app.t VALUES (2)")
	eventually(t, 10*time.Second, "r2 follows the surviving co-master", func() error {
		if err := replicatesFrom(t, r2, r1); err != nil {
			return err
		}
		if n := queryString(t, r2, "SELECT COUNT(*) FROM app.t"); n != "2" {
			return fmt.Errorf("%s rows", n)
		}
		return nil
	})
}
