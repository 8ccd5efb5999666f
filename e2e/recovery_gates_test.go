package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// replicatesFrom checks that replica r replicates from source with both threads.
func replicatesFrom(t *testing.T, r, source *sandbox.Instance) error {
	st, err := r.ReplicaStatus(ctxT(t))
	if err != nil {
		return err
	}
	if st["Master_Port"] != strconv.Itoa(source.Port) || st["Slave_IO_Running"] != "Yes" || st["Slave_SQL_Running"] != "Yes" {
		return fmt.Errorf("%s: source port %s, IO %s, SQL %s; want %s", r, st["Master_Port"], st["Slave_IO_Running"], st["Slave_SQL_Running"], source)
	}
	return nil
}

func TestRecoveryDryRunChangesNothing(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	cfg.Recovery.DryRun = true
	s := startStack(t, cfg)
	waitForCluster(t, s, topo.Master().Key, 3)
	m := topo.Master()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN || rec.GetSuccessor() == nil {
		t.Fatalf("recovery: %s, successor %v (%s); want a dry run naming its candidate", rec.GetOutcome(), rec.GetSuccessor(), rec.GetReason())
	}
	for _, r := range topo.Instances()[1:] {
		st, err := r.ReplicaStatus(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if st["Master_Port"] != strconv.Itoa(m.Port) || st["Slave_IO_Running"] == "No" || queryString(t, r, "SELECT @@read_only") != "1" {
			t.Errorf("%s changed by a dry run: source port %s, IO %s, read_only %s", r, st["Master_Port"], st["Slave_IO_Running"], queryString(t, r, "SELECT @@read_only"))
		}
	}
	downtimes, err := s.recovery.ListDowntimes(ctxT(t), &recoveryv1.ListDowntimesRequest{})
	if err != nil || len(downtimes.GetDowntimes()) != 0 {
		t.Errorf("downtimes after a dry run: %v, %v", downtimes.GetDowntimes(), err)
	}
}

// TestAntiFlappingBlockAndAcknowledge fails the master twice: the second
// failure, inside the block period, is not recovered until the first
// recovery is acknowledged.
func TestAntiFlappingBlockAndAcknowledge(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	s, _ := recoveryStack(t, topo)
	m := topo.Master()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	first := waitForRecovery(t, s, m.Key, 20*time.Second)
	if first.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("first recovery: %s (%s)", first.GetOutcome(), first.GetReason())
	}
	second := instanceByKey(t, topo, keyString(first.GetSuccessor()))
	var replicas []*sandbox.Instance
	for _, r := range topo.Instances()[1:] {
		if r != second {
			replicas = append(replicas, r)
			eventually(t, 10*time.Second, r.String()+" follows "+second.String(), func() error { return replicatesFrom(t, r, second) })
		}
	}
	waitForCluster(t, s, second.Key, 3)
	blocked, err := s.recovery.ListBlockedRecoveries(ctxT(t), &recoveryv1.ListBlockedRecoveriesRequest{})
	if err != nil || len(blocked.GetClusters()) != 1 || blocked.GetClusters()[0].GetRecoveryId() != first.GetId() {
		t.Fatalf("blocked clusters = %v, %v; want the first recovery's", blocked.GetClusters(), err)
	}

	if err := second.Kill(); err != nil {
		t.Fatal(err)
	}
	skipped := waitForRecovery(t, s, second.Key, 20*time.Second)
	if skipped.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED || skipped.GetGate() != "blocked" {
		t.Fatalf("second failure: %s gate %q (%s); want skipped by the block", skipped.GetOutcome(), skipped.GetGate(), skipped.GetReason())
	}
	for _, r := range replicas {
		if st, err := r.ReplicaStatus(ctxT(t)); err != nil || st["Master_Port"] != strconv.Itoa(second.Port) {
			t.Fatalf("%s moved while blocked: %v %v", r, st["Master_Port"], err)
		}
	}
	e := waitForExplanation(t, s, second.Key, skipped.GetDetectionId(), recoveryv1.Verdict_VERDICT_BLOCKED)
	if e.GetGate() != "blocked" || !strings.Contains(e.GetReason(), first.GetId()) {
		t.Errorf("explanation of the blocked recovery: %v", e)
	}
	if e := waitForExplanation(t, s, m.Key, first.GetDetectionId(), recoveryv1.Verdict_VERDICT_RECOVERED); !strings.Contains(e.GetReason(), second.Key) {
		t.Errorf("explanation of the first recovery: %v", e)
	}

	ack, err := s.recovery.AcknowledgeRecoveries(ctxT(t), &recoveryv1.AcknowledgeRecoveriesRequest{
		Cluster: second.Key, RequestedBy: "oncall", Comment: "first failover checked"})
	// The recovery that holds the block and the one it stopped.
	if err != nil || ack.GetAcknowledged() != 2 {
		t.Fatalf("acknowledge = %v, %v; want 2", ack, err)
	}
	if got, err := s.recovery.GetRecovery(ctxT(t), &recoveryv1.GetRecoveryRequest{Id: first.GetId()}); err != nil ||
		got.GetRecovery().GetAcknowledgedBy() != "oncall" {
		t.Fatalf("first recovery after the acknowledgement: %v, %v", got, err)
	}
	third := waitForRecoveryWhere(t, s, "recovery after the acknowledgement", 20*time.Second, func(r *recoveryv1.Recovery) bool {
		return keyString(r.GetFailedInstance()) == second.Key && r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED
	})
	waitForExplanation(t, s, second.Key, skipped.GetDetectionId(), recoveryv1.Verdict_VERDICT_RECOVERED)
	newest := instanceByKey(t, topo, keyString(third.GetSuccessor()))
	for _, r := range replicas {
		if r != newest {
			eventually(t, 10*time.Second, r.String()+" follows "+newest.String(), func() error { return replicatesFrom(t, r, newest) })
		}
	}
}

func TestRecoverKilledIntermediateMaster(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterIntermediateReplicas(2))
	s, _ := recoveryStack(t, topo)
	m, im := topo.Master(), topo.Instance("i1")
	mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)")
	if err := topo.WaitReplicating(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := im.Kill(); err != nil {
		t.Fatal(err)
	}
	// With no sibling, the two replicas regroup under the one that has
	// everything, which replicates from the master.
	rec := waitForRecovery(t, s, im.Key, 20*time.Second)
	leader := topo.InstanceAt(keyString(rec.GetSuccessor()))
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || leader == nil || leader == m {
		t.Fatalf("recovery: %s, successor %s (%s); steps %v", rec.GetOutcome(), keyString(rec.GetSuccessor()), rec.GetReason(), rec.GetSteps())
	}
	mustExec(t, m, "INSERT INTO app.t VALUES (2)")
	for _, name := range []string{"r1", "r2"} {
		r := topo.Instance(name)
		source := leader
		if r == leader {
			source = m
		}
		eventually(t, 10*time.Second, r.String()+" follows "+source.String(), func() error {
			if err := replicatesFrom(t, r, source); err != nil {
				return err
			}
			if n := queryString(t, r, "SELECT COUNT(*) FROM app.t"); n != "2" {
				return fmt.Errorf("%s rows, want 2", n)
			}
			return nil
		})
	}
}

// TestDeadIntermediateMasterSiblings kills an intermediate master that has
// a sibling: its replicas move under the sibling in its data centre; a
// lone replica with no sibling in its data centre moves under another
// sibling rather than under the master (ARCHITECTURE §6.2).
func TestDeadIntermediateMasterSiblings(t *testing.T) {
	tests := []struct {
		name     string
		replicas []string
		dcs      map[string]string
	}{
		{"sibling in the same data centre", []string{"r1", "r2"},
			map[string]string{"m": "dc-a", "i1": "dc-b", "i2": "dc-b", "r1": "dc-b", "r2": "dc-b"}},
		{"another sibling", []string{"r1"},
			map[string]string{"m": "dc-a", "i1": "dc-b", "i2": "dc-c", "r1": "dc-b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := sandbox.Spec{Instances: []sandbox.Node{{Name: "m"}, {Name: "i1", Source: "m"}, {Name: "i2", Source: "m"}}}
			for _, r := range tt.replicas {
				spec.Instances = append(spec.Instances, sandbox.Node{Name: r, Source: "i1"})
			}
			topo := sandbox.StartForTest(t, spec)
			for _, i := range topo.Instances() {
				mustExec(t, i, "SET sql_log_bin=0; CREATE DATABASE meta; CREATE TABLE meta.dc (dc VARCHAR(20)); "+
					"INSERT INTO meta.dc VALUES ('"+tt.dcs[i.Name]+"'); SET sql_log_bin=1")
			}
			m, i1, i2 := topo.Master(), topo.Instance("i1"), topo.Instance("i2")
			mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)")
			if err := topo.WaitReplicating(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			cfg := testConfig(t)
			cfg.Discovery.Seeds = []string{m.Key}
			cfg.Discovery.Classification.DataCenterQuery = "SELECT dc FROM meta.dc"
			s := startStack(t, cfg)
			waitForCluster(t, s, m.Key, len(topo.Instances()))
			eventually(t, 10*time.Second, "data centres classified", func() error {
				if dc := getInstance(t, s, i1.Key).GetSnapshot().GetClassification().GetDataCenter(); dc != "dc-b" {
					return fmt.Errorf("i1 in %q", dc)
				}
				return nil
			})
			if err := i1.Kill(); err != nil {
				t.Fatal(err)
			}
			rec := waitForRecovery(t, s, i1.Key, 20*time.Second)
			if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != i2.Key {
				t.Fatalf("recovery: %s, successor %s, want %s (%s); steps %v", rec.GetOutcome(), keyString(rec.GetSuccessor()), i2, rec.GetReason(), rec.GetSteps())
			}
			mustExec(t, m, "INSERT INTO app.t VALUES (2)")
			for _, name := range tt.replicas {
				r := topo.Instance(name)
				eventually(t, 10*time.Second, r.String()+" follows the sibling", func() error {
					if err := replicatesFrom(t, r, i2); err != nil {
						return err
					}
					if n := queryString(t, r, "SELECT COUNT(*) FROM app.t"); n != "2" {
						return fmt.Errorf("%s rows, want 2", n)
					}
					return nil
				})
			}
		})
	}
}

// TestTwoRecoveryProcessesOneActs runs a second recovery process on the
// same analyzer, store and etcd namespace: exactly one recovers the master.
func TestTwoRecoveryProcessesOneActs(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	url, _ := etcdNamespace(t)
	cfg.Coordinator = url
	cfg.Recovery.Name = "recovery-a"
	s := startStack(t, cfg)
	waitForCluster(t, s, topo.Master().Key, 3)

	other := cfg
	other.Services = []string{app.Recovery}
	other.Recovery.Name = "recovery-b"
	other.Recovery.AnalyzerAddrs = []string{s.app.Addr(app.Analyzer)}
	other.Recovery.DiscoveryAddrs = []string{s.app.Addr(app.Discovery)}
	b := startStack(t, other)
	eventually(t, 5*time.Second, "second recovery process follows the analyzer", func() error {
		if lines := b.logs.lines("automated recovery covers"); len(lines) == 0 {
			return fmt.Errorf("not started")
		}
		return nil
	})

	m := topo.Master()
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	rec := waitForRecovery(t, s, m.Key, 20*time.Second)
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("recovery: %s (%s)", rec.GetOutcome(), rec.GetReason())
	}
	// Give the other process time to take the lock after the first one
	// released it, and decline.
	waitPast(time.Now().Add(2 * time.Second))
	resp, err := s.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetRecoveries()) != 1 {
		t.Errorf("recoveries = %v, want exactly one", resp.GetRecoveries())
	}
	t.Logf("recovered by %s", rec.GetProcess())
}

// TestRecoveryProcessStoppedMidRecovery stops the recovery process that
// holds the cluster lock while its pre-failover hook runs: it records that
// it stopped before acting, and the other process recovers the master.
func TestRecoveryProcessStoppedMidRecovery(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Services = []string{app.Discovery, app.Analyzer}
	url, _ := etcdNamespace(t)
	cfg.Coordinator = url
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)

	recoveryOnly := func(name string) app.Config {
		c := cfg
		c.Services = []string{app.Recovery}
		c.Recovery.Name = name
		c.Recovery.AnalyzerAddrs = []string{s.app.Addr(app.Analyzer)}
		c.Recovery.DiscoveryAddrs = []string{s.app.Addr(app.Discovery)}
		return c
	}
	marker := filepath.Join(t.TempDir(), "hook-started")
	slow := recoveryOnly("recovery-slow")
	slow.Recovery.Hooks.PreFailover = []hooks.Hook{{Argv: []string{"/bin/sh", "-c", `touch "$0"; exec sleep 60`, marker}, Timeout: time.Minute}}
	a := startStack(t, slow)

	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the slow process holds the lock in its hook", func() error {
		_, err := os.Stat(marker)
		return err
	})
	b := startStack(t, recoveryOnly("recovery-b"))
	a.stop()

	rec := waitForRecoveryWhere(t, b, "recovery by the other process", 30*time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetProcess() == "recovery-b" && r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING
	})
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || rec.GetProcess() != "recovery-b" {
		t.Fatalf("recovery: %s by %s (%s), want success by recovery-b", rec.GetOutcome(), rec.GetProcess(), rec.GetReason())
	}
	resp, err := b.recovery.ListRecoveries(ctxT(t), &recoveryv1.ListRecoveriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, r := range resp.GetRecoveries() {
		outcomes = append(outcomes, r.GetProcess()+" "+r.GetOutcome().String()+": "+r.GetReason())
	}
	if len(outcomes) != 2 || !strings.Contains(outcomes[1], "recovery-slow RECOVERY_OUTCOME_ABORTED: recovery-slow stopped before acting") {
		t.Errorf("recoveries, newest first:\n%s\nwant recovery-b's success after recovery-slow's abort", strings.Join(outcomes, "\n"))
	}
}
