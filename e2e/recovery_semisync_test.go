package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// TestSemiSyncKillLosesNoAcknowledgedWrite kills the master of a semi-sync
// (AFTER_SYNC) topology under a steady write load: every write the master
// acknowledged is on the new master.
func TestSemiSyncKillLosesNoAcknowledgedWrite(t *testing.T) {
	spec := sandbox.MasterWithReplicas(3)
	// Replicas are semi-sync replicas only: a replica that was a semi-sync
	// master too would wait, in its SQL thread, for acks nobody sends.
	spec.ExtraArgs = []string{"--rpl-semi-sync-slave-enabled=ON", "--rpl-semi-sync-master-wait-point=AFTER_SYNC"}
	spec.Instances[0].ExtraArgs = []string{"--rpl-semi-sync-master-enabled=ON", "--rpl-semi-sync-master-timeout=600000"}
	topo := sandbox.StartForTest(t, spec)
	s, _ := recoveryStack(t, topo)
	m := topo.Master()
	mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)")
	if got := queryString(t, m, "SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'Rpl_semi_sync_master_clients'"); got != "3" {
		t.Fatalf("semi-sync clients = %s, want 3", got)
	}

	// The writer records every insert the master acknowledged.
	var (
		mu    sync.Mutex
		acked []int
	)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for id := 1; ctx.Err() == nil; id++ {
			wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := m.AdminDB().ExecContext(wctx, fmt.Sprintf("INSERT INTO app.t VALUES (%d)", id))
			wcancel()
			if err != nil {
				return // the master is gone
			}
			mu.Lock()
			acked = append(acked, id)
			mu.Unlock()
		}
	})
	eventually(t, 10*time.Second, "writes acknowledged", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 200 {
			return fmt.Errorf("%d writes", len(acked))
		}
		return nil
	})
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	cancel()

	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery: %s (%s); steps %v", rec.GetOutcome(), rec.GetReason(), rec.GetSteps())
	}
	newMaster := instanceByKey(t, topo, keyString(rec.GetSuccessor()))
	if on := queryString(t, newMaster, "SELECT @@rpl_semi_sync_master_enabled"); on != "1" {
		t.Errorf("new master semi-sync source enabled = %s, want 1", on)
	}
	mu.Lock()
	defer mu.Unlock()
	// Writes are sequential: the acknowledged ones are 1..n.
	n := len(acked)
	if got := queryString(t, newMaster, fmt.Sprintf("SELECT COUNT(*) FROM app.t WHERE id <= %d", n)); got != fmt.Sprint(n) {
		t.Errorf("new master %s has %s of the %d acknowledged writes", newMaster, got, n)
	}
	t.Logf("%d acknowledged writes, all on the new master", len(acked))
}
