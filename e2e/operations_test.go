package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/recovery"
)

// protoKey parses host:port.
func protoKey(t *testing.T, s string) *topologyv1.InstanceKey {
	t.Helper()
	k, err := topology.ParseInstanceKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k.Proto()
}

func containsText(s, sub string) bool { return strings.Contains(s, sub) }

// TestForceMasterTakeoverAndFailover promotes a named replica of a live
// master, then fails the new master over although it answers: each time
// the old master is left as it is and the other replicas follow the new one.
func TestForceMasterTakeoverAndFailover(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	s, _ := recoveryStack(t, topo)
	m, r1, r2, r3 := topo.Master(), topo.Instance("r1"), topo.Instance("r2"), topo.Instance("r3")
	mustExec(t, m, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1)")

	for name, call := range map[string]func() error{
		"no designated replica": func() error {
			_, err := s.recovery.ForceMasterTakeover(ctxT(t), &recoveryv1.ForceMasterTakeoverRequest{Cluster: m.Key})
			return wantCode(err, codes.InvalidArgument, "designated")
		},
		"a designated replica of another master": func() error {
			_, err := s.recovery.ForceMasterTakeover(ctxT(t), &recoveryv1.ForceMasterTakeoverRequest{Cluster: m.Key, Designated: protoKey(t, "127.0.0.1:1")})
			return wantCode(err, codes.FailedPrecondition, "not-a-replica")
		},
		"an unknown cluster": func() error {
			_, err := s.recovery.ForceMasterFailover(ctxT(t), &recoveryv1.ForceMasterFailoverRequest{Cluster: "nowhere"})
			return wantCode(err, codes.NotFound, "nowhere")
		},
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := replicatesFrom(t, r1, m); err != nil {
		t.Fatalf("a refused operation changed a server: %v", err)
	}

	resp, err := s.recovery.ForceMasterTakeover(ctxT(t), &recoveryv1.ForceMasterTakeoverRequest{
		Cluster: m.Key, Designated: protoKey(t, r2.Key), RequestedBy: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	rec := resp.GetRecovery()
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != r2.Key ||
		rec.GetStartedBy() != "oncall" || rec.GetAnalysis() != "ForceMasterTakeover" {
		t.Fatalf("force-master-takeover: %v", rec)
	}
	if ro := queryString(t, m, "SELECT @@read_only"); ro != "0" {
		t.Errorf("old master read_only = %s, want it left as it was (0)", ro)
	}
	if ro := queryString(t, r2, "SELECT @@read_only"); ro != "0" {
		t.Errorf("new master read_only = %s, want 0", ro)
	}
	for _, r := range []*sandbox.Instance{r1, r3} {
		eventually(t, 10*time.Second, r.Key+" follows "+r2.Key, func() error { return replicatesFrom(t, r, r2) })
	}
	waitForCluster(t, s, r2.Key, 3)

	resp2, err := s.recovery.ForceMasterFailover(ctxT(t), &recoveryv1.ForceMasterFailoverRequest{Cluster: r2.Key, RequestedBy: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	rec = resp2.GetRecovery()
	successor := keyString(rec.GetSuccessor())
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || (successor != r1.Key && successor != r3.Key) {
		t.Fatalf("force-master-failover: %v", rec)
	}
	other := r1
	if successor == r1.Key {
		other = r3
	}
	eventually(t, 10*time.Second, other.Key+" follows "+successor, func() error { return replicatesFrom(t, other, instanceByKey(t, topo, successor)) })
	if ro := queryString(t, r2, "SELECT @@read_only"); ro != "0" {
		t.Errorf("failed-over master read_only = %s, want it left as it was (0)", ro)
	}
}

// wantCode checks that err has the code and names what it should.
func wantCode(err error, code codes.Code, names string) error {
	if status.Code(err) != code || !strings.Contains(err.Error(), names) {
		return fmt.Errorf("got %v, want %s naming %q", err, code, names)
	}
	return nil
}

// TestFailoverReadiness changes a healthy cluster so that a replica cannot
// be promoted, then none can, and back: the readiness follows every change,
// and the analyzer raises the structure warning and clears it.
func TestFailoverReadiness(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	s, _ := recoveryStack(t, topo)
	m, r1, r2 := topo.Master(), topo.Instance("r1"), topo.Instance("r2")
	mustExec(t, m, "CREATE DATABASE app")

	readiness := func(what string, check func(r *recoveryv1.FailoverReadiness) error) {
		t.Helper()
		eventually(t, 10*time.Second, "readiness: "+what, func() error {
			resp, err := s.recovery.GetFailoverReadiness(ctxT(t), &recoveryv1.GetFailoverReadinessRequest{Cluster: m.Key})
			if err != nil {
				return err
			}
			return check(resp.GetReadiness())
		})
	}
	refusedBy := func(r *recoveryv1.FailoverReadiness, key, rule string) error {
		for _, v := range r.GetRefused() {
			if keyString(v.GetInstance()) == key && v.GetRule() == rule {
				return nil
			}
		}
		return fmt.Errorf("refused %v, want %s refused by %s", r.GetRefused(), key, rule)
	}
	warning := func(want bool) {
		t.Helper()
		eventually(t, 10*time.Second, fmt.Sprintf("NoPromotableReplica warning raised=%v", want), func() error {
			resp, err := s.analyzer.GetReplicationAnalysis(ctxT(t), &analyzerv1.GetReplicationAnalysisRequest{Cluster: m.Key})
			if err != nil {
				return err
			}
			got := false
			for _, w := range resp.GetWarnings() {
				got = got || w.GetCode() == "NoPromotableReplica"
			}
			if got != want {
				return fmt.Errorf("warnings %v", resp.GetWarnings())
			}
			return nil
		})
	}

	readiness("ready", func(r *recoveryv1.FailoverReadiness) error {
		if !r.GetReady() || r.GetWouldPromote() == nil || len(r.GetRefused()) != 0 || r.GetGate() != "" {
			return fmt.Errorf("%v", r)
		}
		return nil
	})
	warning(false)

	mustExec(t, r1, "STOP SLAVE")
	readiness("r1 stopped replicating", func(r *recoveryv1.FailoverReadiness) error {
		if keyString(r.GetWouldPromote()) != r2.Key {
			return fmt.Errorf("would promote %v, want %s", r.GetWouldPromote(), r2.Key)
		}
		return refusedBy(r, r1.Key, "not-replicating")
	})
	mustExec(t, r1, "CHANGE MASTER TO MASTER_DELAY=3600; START SLAVE")
	readiness("r1 lags an hour on purpose", func(r *recoveryv1.FailoverReadiness) error { return refusedBy(r, r1.Key, "delayed") })

	if _, err := s.recovery.RegisterCandidate(ctxT(t), &recoveryv1.RegisterCandidateRequest{
		Instance: protoKey(t, r2.Key), PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT, RequestedBy: "e2e"}); err != nil {
		t.Fatal(err)
	}
	readiness("r2 marked must_not: none promotable", func(r *recoveryv1.FailoverReadiness) error {
		if r.GetReady() || r.GetWouldPromote() != nil {
			return fmt.Errorf("%v", r)
		}
		return refusedBy(r, r2.Key, "promotion-rule-must-not")
	})
	warning(true)

	mustExec(t, r1, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=0; START SLAVE")
	readiness("r1 promotable again", func(r *recoveryv1.FailoverReadiness) error {
		if !r.GetReady() || keyString(r.GetWouldPromote()) != r1.Key {
			return fmt.Errorf("%v", r)
		}
		return nil
	})
	warning(false)

	if _, err := s.recovery.SetGlobalRecoveries(ctxT(t), &recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "e2e"}); err != nil {
		t.Fatal(err)
	}
	readiness("recoveries disabled", func(r *recoveryv1.FailoverReadiness) error {
		if r.GetReady() || r.GetGate() != "global-disabled" {
			return fmt.Errorf("%v", r)
		}
		return nil
	})
	if _, err := s.recovery.GetFailoverReadiness(ctxT(t), &recoveryv1.GetFailoverReadinessRequest{Cluster: "nowhere"}); status.Code(err) != codes.NotFound {
		t.Errorf("readiness of an unknown cluster: %v, want NotFound", err)
	}
}

// waitForExplanation waits until the explanation of a detection has the
// verdict, and returns it.
func waitForExplanation(t *testing.T, s *stack, cluster, detectionID string, verdict recoveryv1.Verdict) *recoveryv1.Explanation {
	t.Helper()
	var found *recoveryv1.Explanation
	eventually(t, 10*time.Second, "explanation "+verdict.String(), func() error {
		resp, err := s.recovery.ExplainCluster(ctxT(t), &recoveryv1.ExplainClusterRequest{Cluster: cluster, DetectionId: detectionID})
		if err != nil {
			return err
		}
		if len(resp.GetExplanations()) != 1 || resp.GetExplanations()[0].GetVerdict() != verdict {
			return fmt.Errorf("explanations %v", resp.GetExplanations())
		}
		found = resp.GetExplanations()[0]
		return nil
	})
	return found
}

// TestManualRecoverWithCandidate recovers a dead master by hand while
// automated recoveries are disabled, promoting the replica the operator
// names; a healthy instance is refused.
func TestManualRecoverWithCandidate(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	s, _ := recoveryStack(t, topo)
	m, r3 := topo.Master(), topo.Instance("r3")
	waitForStored(t, s, m.Key)
	if _, err := s.recovery.SetGlobalRecoveries(ctxT(t), &recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "e2e"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.recovery.RecoverInstance(ctxT(t), &recoveryv1.RecoverInstanceRequest{Instance: protoKey(t, m.Key), RequestedBy: "oncall"})
	if err := wantCode(err, codes.FailedPrecondition, "no-recoverable-failure"); err != nil {
		t.Errorf("recover a live master: %v", err)
	}
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	skipped := waitForRecovery(t, s, m.Key, 20*time.Second)
	if skipped.GetGate() != "global-disabled" {
		t.Fatalf("automated recovery: %v, want skipped for the global switch", skipped)
	}
	resp, err := s.recovery.RecoverInstance(ctxT(t), &recoveryv1.RecoverInstanceRequest{
		Instance: protoKey(t, m.Key), Candidate: protoKey(t, r3.Key), RequestedBy: "oncall"})
	if err != nil {
		t.Fatal(err)
	}
	rec := resp.GetRecovery()
	if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != r3.Key ||
		rec.GetStartedBy() != "oncall" || rec.GetDetectionId() != skipped.GetDetectionId() {
		t.Fatalf("manual recovery: %v", rec)
	}
	for _, r := range []*sandbox.Instance{topo.Instance("r1"), topo.Instance("r2")} {
		eventually(t, 10*time.Second, r.Key+" follows "+r3.Key, func() error { return replicatesFrom(t, r, r3) })
	}
	waitForExplanation(t, s, m.Key, skipped.GetDetectionId(), recoveryv1.Verdict_VERDICT_RECOVERED)
}

// TestDrillTakesOverAndBack schedules drills: a graceful takeover to the
// best replica and back, both in the audit, the master the same after.
func TestDrillTakesOverAndBack(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m := topo.Master()
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	url, _ := etcdNamespace(t)
	cfg.Coordinator = url
	cfg.Recovery.Drills = []recovery.Drill{{Cluster: ".", Every: 4 * time.Second}}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 3)

	back := waitForRecoveryWhere(t, s, "drill back to the master", 20*time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetStartedBy() == "drill" && keyString(r.GetSuccessor()) == m.Key && r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED
	})
	there := waitForRecoveryWhere(t, s, "the drill's first takeover", time.Second, func(r *recoveryv1.Recovery) bool {
		return r.GetStartedBy() == "drill" && keyString(r.GetFailedInstance()) == m.Key
	})
	s.stop() // no further drill
	if !back.GetPlanned() || there.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(back.GetFailedInstance()) != keyString(there.GetSuccessor()) {
		t.Fatalf("drill records: there %v, back %v", there, back)
	}
	if ro := queryString(t, m, "SELECT @@read_only"); ro != "0" {
		t.Errorf("master after the drill: read_only %s", ro)
	}
	for _, r := range topo.Instances()[1:] {
		eventually(t, 10*time.Second, r.Key+" follows the master again", func() error { return replicatesFrom(t, r, m) })
	}
}
