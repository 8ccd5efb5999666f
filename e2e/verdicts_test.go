package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// failureCodes are every verdict that says a server is dead or unreachable.
var failureCodes = append([]string{
	"DeadMasterAndReplicas", "DeadMasterWithoutReplicas", "UnreachableMaster", "UnreachableMasterWithLaggingReplicas",
	"MasterSingleReplicaDead", "AllMasterReplicasNotReplicatingOrDead", "DeadIntermediateMasterAndReplicas",
	"UnreachableIntermediateMaster", "UnreachableIntermediateMasterWithLaggingReplicas", "UnreachableCoMaster",
	"DeadReplica",
}, recoveryCodes...)

// A wrong topology password is Vigil's problem, not the server's: the
// healthy master gets AccessDenied and a log line, never a failure verdict.
func TestWrongPasswordIsAccessDeniedNotDead(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	m := topo.Master().Key
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m}
	s := startStackAs(t, cfg, sandbox.DefaultUser, "not-the-password")
	events := followEvents(t, s)

	det, at := events.waitFor(t, "AccessDenied", m, 5*time.Second)
	if evidence := fmt.Sprint(det.GetEvidence()); !strings.Contains(evidence, "access refused (auth, error 1045)") {
		t.Errorf("evidence does not name the cause: %s", evidence)
	}
	if det.GetSuggestedAction() != analyzerv1.Action_ACTION_DETECT_ONLY {
		t.Errorf("suggested action = %s, want detect only", det.GetSuggestedAction())
	}
	resp, err := s.analyzer.GetReplicationAnalysis(ctxT(t), &analyzerv1.GetReplicationAnalysisRequest{})
	if err != nil || !hasCode(resp.GetDetections(), "AccessDenied") {
		t.Errorf("GetReplicationAnalysis = %v, %v; want AccessDenied", resp, err)
	}
	if lines := s.logs.lines("level=ERROR", "cannot read instance", m, "error_number=1045"); len(lines) != 1 {
		t.Errorf("want one error line about the refused access to %s, got %q", m, lines)
	}
	waitPast(at.Add(4 * pollInterval))
	events.assertNone(t, failureCodes...)
	assertNoRecovery(t, s)
}

// A seed where nothing listens was never reached: NeverReached and a warning
// naming the seed, never DeadMasterWithoutReplicas.
func TestMistypedSeedIsNeverReachedNotDead(t *testing.T) {
	seed := freePort(t)
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{seed}
	s := startStack(t, cfg)
	events := followEvents(t, s)

	det, at := events.waitFor(t, "NeverReached", seed, 5*time.Second)
	if det.GetSuggestedAction() != analyzerv1.Action_ACTION_DETECT_ONLY {
		t.Errorf("suggested action = %s, want detect only", det.GetSuggestedAction())
	}
	if lines := s.logs.lines("level=WARN", "instance never reached", seed, "seed=true"); len(lines) != 1 {
		t.Errorf("want one warning about the seed %s, got %q", seed, lines)
	}
	waitPast(at.Add(4 * pollInterval))
	events.assertNone(t, failureCodes...)
	assertNoRecovery(t, s)
}

// Replica-level problems under a healthy master get codes of their own,
// carrying the replication error, over gRPC and REST.
func TestReplicaLevelProblems(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.Spec{Instances: []sandbox.Node{
		{Name: "m"}, {Name: "r1", Source: "m"}, {Name: "r2", Source: "m"}, {Name: "i1", Source: "m"}, {Name: "r3", Source: "i1"},
	}})
	m, r1, r2, i1 := topo.Master(), topo.Instance("r1"), topo.Instance("r2"), topo.Instance("i1")
	s, events := detectionStack(t, topo, m.Key)

	t.Run("replication stopped by hand on the intermediate master", func(t *testing.T) {
		if err := i1.Exec(ctxT(t), "STOP SLAVE"); err != nil {
			t.Fatal(err)
		}
		det, _ := events.waitFor(t, "ReplicationStopped", i1.Key, 5*time.Second)
		if !strings.Contains(det.GetDescription(), "stopped by hand") {
			t.Errorf("description = %q", det.GetDescription())
		}
		if err := i1.Exec(ctxT(t), "START SLAVE"); err != nil {
			t.Fatal(err)
		}
		events.waitForCleared(t, det.GetId(), 5*time.Second)
	})

	t.Run("SQL thread stopped on an error", func(t *testing.T) {
		// A row written on r1 alone makes the same row from the master fail
		// there with a duplicate key (1062).
		if err := m.Exec(ctxT(t), "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)"); err != nil {
			t.Fatal(err)
		}
		if err := topo.WaitReplicating(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if err := r1.Exec(ctxT(t), "SET sql_log_bin=0; INSERT INTO app.t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		if err := m.Exec(ctxT(t), "INSERT INTO app.t VALUES (1)"); err != nil {
			t.Fatal(err)
		}
		det, _ := events.waitFor(t, "BrokenReplication", r1.Key, 5*time.Second)
		if !strings.Contains(det.GetDescription(), "SQL thread stopped on error 1062") {
			t.Errorf("description = %q, want the SQL error", det.GetDescription())
		}
		status, body := rest(t, s, "GET", "/api/v1/analysis", "")
		if status != 200 || !strings.Contains(fmt.Sprint(body), "BrokenReplication") {
			t.Errorf("GET /api/v1/analysis = %d %v, want BrokenReplication", status, body)
		}
	})

	t.Run("one dead replica among several", func(t *testing.T) {
		if err := r2.Kill(); err != nil {
			t.Fatal(err)
		}
		events.waitFor(t, "DeadReplica", r2.Key, 5*time.Second)
		resp, err := s.analyzer.GetReplicationAnalysis(ctxT(t), &analyzerv1.GetReplicationAnalysisRequest{Instance: key(r2.Key)})
		if err != nil || !hasCode(resp.GetDetections(), "DeadReplica") {
			t.Errorf("GetReplicationAnalysis(%s) = %v, %v", r2.Key, resp, err)
		}
	})
	events.assertNone(t, recoveryCodes...)
}

// The analyzer judges freshness by each discovery member's own poll
// interval: a slow member makes no healthy instance look hung, and a dead
// master is still found.
func TestAnalyzerFollowsTheMembersPollInterval(t *testing.T) {
	const slowPoll = 2500 * time.Millisecond // longer than the old fixed window of 1s + 1s slack
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	cfg := testConfig(t)
	cfg.Discovery.PollInterval = slowPoll
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	s := startStack(t, cfg)
	waitForCluster(t, s, topo.Master().Key, 3)
	events := followEvents(t, s)

	waitPast(time.Now().Add(2 * slowPoll))
	if got := events.summary(); got != "none" {
		t.Fatalf("healthy topology polled every %s has detections: %s", slowPoll, got)
	}
	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, "DeadMaster", topo.Master().Key, slowPoll+5*time.Second)
}
