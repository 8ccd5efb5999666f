package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/sandbox"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// TestGracefulMasterTakeoverUnderLoad hands mastership to a replica and
// back while an application writes: no acknowledged write is missing on
// the new master, the former master replicates from it, and so do the
// other replicas.
func TestGracefulMasterTakeoverUnderLoad(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(3))
	s, _ := recoveryStack(t, topo)
	m, r1 := topo.Master(), topo.Instance("r1")

	takeover := func(from, to *sandbox.Instance) {
		t.Helper()
		w, err := sandbox.StartWriter(ctxT(t), from, to)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "writes on "+from.Key, func() error {
			if n := w.AckedBy(from.Key); n < 100 {
				return fmt.Errorf("%d writes", n)
			}
			return nil
		})
		resp, err := s.recovery.GracefulMasterTakeover(ctxT(t), &recoveryv1.GracefulMasterTakeoverRequest{
			Cluster: from.Key, Designated: protoKey(t, to.Key), RequestedBy: "e2e-operator"})
		if err != nil {
			w.Stop()
			t.Fatalf("GracefulMasterTakeover %s -> %s: %v", from.Key, to.Key, err)
		}
		rec := resp.GetRecovery()
		if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED || keyString(rec.GetSuccessor()) != to.Key ||
			rec.GetStartedBy() != "e2e-operator" || !rec.GetPlanned() {
			w.Stop()
			t.Fatalf("takeover record: %v", rec)
		}
		eventually(t, 10*time.Second, "writes on "+to.Key, func() error {
			if n := w.AckedBy(to.Key); n < 100 {
				return fmt.Errorf("%d writes", n)
			}
			return nil
		})
		acked, gaps := w.Stop()
		n := len(acked)
		if missing, err := sandbox.MissingWrites(ctxT(t), to, acked); err != nil || len(missing) > 0 {
			t.Errorf("new master %s lacks acknowledged writes %v (%v)", to, missing, err)
		}
		t.Logf("%s -> %s: %d acknowledged writes, all on the new master; writes refused for %v", from.Key, to.Key, n, gaps)

		if ro := queryString(t, from, "SELECT @@read_only"); ro != "1" {
			t.Errorf("former master %s read_only = %s, want 1", from, ro)
		}
		for _, r := range topo.Instances() {
			if r == to {
				continue
			}
			eventually(t, 10*time.Second, r.Key+" replicates from the new master", func() error {
				if err := replicatesFrom(t, r, to); err != nil {
					return err
				}
				if missing, err := sandbox.MissingWrites(ctxT(t), r, acked); err != nil || len(missing) > 0 {
					return fmt.Errorf("%s lacks acknowledged writes %v (%v)", r, missing, err)
				}
				return nil
			})
		}
		waitForCluster(t, s, to.Key, len(topo.Instances()))
	}
	takeover(m, r1)
	takeover(r1, m)
	// Planned takeovers hold no anti-flapping block.
	if blocked, err := s.recovery.ListBlockedRecoveries(ctxT(t), &recoveryv1.ListBlockedRecoveriesRequest{}); err != nil || len(blocked.GetClusters()) != 0 {
		t.Errorf("blocked clusters after planned takeovers: %v, %v", blocked.GetClusters(), err)
	}
}

// TestGracefulMasterTakeoverRefusals designates replicas that cannot take
// over: each is refused with FailedPrecondition naming the rule, the
// refusal is on record, and no server changed.
func TestGracefulMasterTakeoverRefusals(t *testing.T) {
	spec := sandbox.MasterWithReplicas(4)
	spec.Instances[2].ExtraArgs = []string{"--log-slave-updates=OFF"}
	topo := sandbox.StartForTest(t, spec)
	m := topo.Master()
	delayed, noLSU, mustNot, errant := topo.Instance("r1"), topo.Instance("r2"), topo.Instance("r3"), topo.Instance("r4")
	mustExec(t, delayed, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY=3600; START SLAVE")
	mustExec(t, errant, "SET GLOBAL read_only=0; CREATE DATABASE errant_here; SET GLOBAL read_only=1")
	s, _ := recoveryStack(t, topo)
	waitForStored(t, s, mustNot.Key)
	if _, err := s.recovery.RegisterCandidate(ctxT(t), &recoveryv1.RegisterCandidateRequest{
		Instance: protoKey(t, mustNot.Key), PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT, RequestedBy: "e2e"}); err != nil {
		t.Fatal(err)
	}
	waitForRules(t, s, topo, map[string]string{mustNot.Name: "must_not"})

	before := serverStates(t, topo)
	for _, tc := range []struct {
		replica *sandbox.Instance
		rule    string
	}{
		{delayed, "delayed"}, {noLSU, "no-log-slave-updates"}, {mustNot, "promotion-rule-must-not"}, {errant, "errant-gtid"},
	} {
		_, err := s.recovery.GracefulMasterTakeover(ctxT(t), &recoveryv1.GracefulMasterTakeoverRequest{
			Cluster: m.Key, Designated: protoKey(t, tc.replica.Key), RequestedBy: "e2e"})
		if status.Code(err) != codes.FailedPrecondition || !containsText(err.Error(), tc.rule) {
			t.Errorf("takeover to %s: %v, want FailedPrecondition naming %s", tc.replica, err, tc.rule)
		}
		rec := waitForRecoveryWhere(t, s, "refusal of "+tc.replica.Key+" recorded", 5*time.Second, func(r *recoveryv1.Recovery) bool {
			return r.GetAnalysis() == "GracefulMasterTakeover" && r.GetGate() == tc.rule
		})
		if rec.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED {
			t.Errorf("refusal record: %v", rec)
		}
	}
	if after := serverStates(t, topo); after != before {
		t.Errorf("servers changed by refused takeovers:\nbefore %s\nafter  %s", before, after)
	}
}

// serverStates renders what a takeover would change on every server: its
// read_only, GTID position and replication source.
func serverStates(t *testing.T, topo *sandbox.Topology) string {
	t.Helper()
	out := ""
	for _, i := range topo.Instances() {
		out += fmt.Sprintf("%s ro=%s gtid=%s; ", i.Name, queryString(t, i, "SELECT @@read_only"), queryString(t, i, "SELECT @@gtid_current_pos"))
		if i != topo.Master() {
			if err := replicatesFrom(t, i, topo.Master()); err != nil {
				out += err.Error() + "; "
			}
		}
	}
	return out
}

// TestGracefulTakeoverHooks runs a graceful takeover a pre-graceful-takeover
// hook vetoes (nothing changes, the veto is explained), then one it allows,
// after which the post-graceful-takeover hook runs.
func TestGracefulTakeoverHooks(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(1))
	m, r1 := topo.Master(), topo.Instance("r1")
	dir := t.TempDir()
	allow := filepath.Join(dir, "allow")
	cfg := testConfig(t)
	cfg.Discovery.Seeds = []string{m.Key}
	cfg.Recovery.Hooks.PreGracefulTakeover = []hooks.Hook{{Argv: []string{"/bin/sh", "-c", `test -e "$0"`, allow}, Timeout: 5 * time.Second}}
	cfg.Recovery.Hooks.PostGracefulTakeover = []hooks.Hook{{Argv: []string{"/bin/sh", "-c", `env | grep ^VIGIL_ > "$0"`, filepath.Join(dir, "post")}, Timeout: 5 * time.Second}}
	s := startStack(t, cfg)
	waitForCluster(t, s, m.Key, 2)

	req := &recoveryv1.GracefulMasterTakeoverRequest{Cluster: m.Key, Designated: protoKey(t, r1.Key), RequestedBy: "e2e"}
	_, err := s.recovery.GracefulMasterTakeover(ctxT(t), req)
	if err := wantCode(err, codes.FailedPrecondition, "hook-veto"); err != nil {
		t.Fatalf("vetoed takeover: %v", err)
	}
	if err := replicatesFrom(t, r1, m); err != nil || queryString(t, m, "SELECT @@read_only") != "0" {
		t.Fatalf("a vetoed takeover changed the servers: %v", err)
	}
	if err := os.WriteFile(allow, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := s.recovery.GracefulMasterTakeover(ctxT(t), req)
	if err != nil || resp.GetRecovery().GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
		t.Fatalf("allowed takeover: %v, %v", resp, err)
	}
	env, err := os.ReadFile(filepath.Join(dir, "post"))
	if err != nil || !strings.Contains(string(env), "VIGIL_SUCCESSOR_PORT="+strconv.Itoa(r1.Port)+"\n") ||
		!strings.Contains(string(env), "VIGIL_HOOK_POINT=post-graceful-takeover\n") {
		t.Errorf("post-graceful-takeover hook environment: %s (%v)", env, err)
	}
}
