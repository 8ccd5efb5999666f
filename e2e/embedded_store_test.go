package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/process/processtest"
	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// allInOne is the vigil binary running every service on the embedded
// store in a data directory, as a process of its own.
type allInOne struct {
	proc     *exec.Cmd
	out      *lockedWriter
	recovery recoveryv1.RecoveryServiceClient
	analyzer analyzerv1.AnalyzerServiceClient
	topology topologyv1.TopologyServiceClient
}

// serviceStarted finds the bound address of each service in vigil's log.
var serviceStarted = regexp.MustCompile(`msg="service started" service=(\w+) addr=(\S+)`)

// startAllInOne runs vigil with no store configured, in dataDir, seeded
// with seed, and waits until its analyzer is ready.
func startAllInOne(t *testing.T, dataDir, seed string) *allInOne {
	t.Helper()
	config := filepath.Join(t.TempDir(), "vigil.yaml")
	yaml := fmt.Sprintf(`data_dir: %q
discovery:
  listen: 127.0.0.1:0
  poll_interval: %s
  connect_timeout: 250ms
  read_timeout: 500ms
  persist_interval: 200ms
  seeds: [%s]
analyzer:
  listen: 127.0.0.1:0
  persist_interval: 200ms
recovery:
  listen: 127.0.0.1:0
gateway:
  listen: 127.0.0.1:0
`, dataDir, pollInterval, seed)
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	v := &allInOne{out: &lockedWriter{}}
	v.proc = exec.Command(buildVigil(t), "--config", config)
	v.proc.Env = append(os.Environ(), "VIGIL_MYSQL_USER="+sandbox.DefaultUser, "VIGIL_MYSQL_PASSWORD="+sandbox.DefaultPassword,
		"VIGIL_MYSQL_REPLICATION_USER="+sandbox.DefaultReplicationUser, "VIGIL_MYSQL_REPLICATION_PASSWORD="+sandbox.DefaultReplicationPassword)
	v.proc.Stdout, v.proc.Stderr = v.out, v.out
	if err := v.proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.proc.Process.Kill(); _ = v.proc.Wait() })
	addrs := map[string]string{}
	eventually(t, 20*time.Second, "vigil started every service", func() error {
		for _, m := range serviceStarted.FindAllStringSubmatch(v.out.String(), -1) {
			addrs[m[1]] = m[2]
		}
		if len(addrs) < 4 {
			return fmt.Errorf("started %v; vigil said:\n%s", addrs, v.out.String())
		}
		return nil
	})
	processtest.WaitServing(t, addrs["analyzer"])
	for name, addr := range addrs {
		conn, err := grpcx.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		switch name {
		case "recovery":
			v.recovery = recoveryv1.NewRecoveryServiceClient(conn)
		case "analyzer":
			v.analyzer = analyzerv1.NewAnalyzerServiceClient(conn)
			v.topology = topologyv1.NewTopologyServiceClient(conn)
		}
	}
	return v
}

// stop ends vigil as an operator would, with SIGTERM, and waits.
func (v *allInOne) stop(t *testing.T) {
	t.Helper()
	if err := v.proc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := v.proc.Wait(); err != nil {
		t.Fatalf("vigil exited with %v:\n%s", err, v.out.String())
	}
}

// TestEmbeddedStoreKeepsStateAcrossRestarts runs the all-in-one vigil with
// no store configured, writes every kind of state, restarts it on the same
// data directory, and finds the state there.
func TestEmbeddedStoreKeepsStateAcrossRestarts(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	m, r1, r2 := topo.Master(), topo.Instance("r1"), topo.Instance("r2")
	dataDir := filepath.Join(t.TempDir(), "vigil-data")
	v := startAllInOne(t, dataDir, m.Key)
	eventually(t, 15*time.Second, "cluster discovered", func() error {
		resp, err := v.topology.GetCluster(ctxT(t), &topologyv1.GetClusterRequest{Cluster: m.Key})
		if err == nil && resp.GetCluster().GetInstanceCount() != 3 {
			err = fmt.Errorf("%d instances", resp.GetCluster().GetInstanceCount())
		}
		return err
	})

	// A recovery with steps (a planned takeover), acknowledged.
	took, err := v.recovery.GracefulMasterTakeover(ctxT(t), &recoveryv1.GracefulMasterTakeoverRequest{
		Cluster: m.Key, Designated: protoKey(t, r1.Key), RequestedBy: "e2e"})
	if err != nil {
		t.Fatalf("GracefulMasterTakeover: %v", err)
	}
	id := took.GetRecovery().GetId()
	if _, err := v.recovery.AcknowledgeRecoveries(ctxT(t), &recoveryv1.AcknowledgeRecoveriesRequest{All: true, RequestedBy: "e2e", Comment: "drill"}); err != nil {
		t.Fatal(err)
	}
	// A detection: replication stopped by hand on r2.
	if err := r2.Exec(ctxT(t), "STOP SLAVE"); err != nil {
		t.Fatal(err)
	}
	var detection string
	eventually(t, 15*time.Second, "ReplicationStopped detected", func() error {
		resp, err := v.analyzer.ListDetections(ctxT(t), &analyzerv1.ListDetectionsRequest{Instance: key(r2.Key)})
		if err != nil {
			return err
		}
		for _, d := range resp.GetDetections() {
			if d.GetCode() == "ReplicationStopped" && d.GetClearedAt() == nil {
				detection = d.GetId()
				return nil
			}
		}
		return fmt.Errorf("detections %v", resp.GetDetections())
	})
	// A downtime, a promotion rule, the global switch.
	if _, err := v.recovery.BeginDowntime(ctxT(t), &recoveryv1.BeginDowntimeRequest{Instance: key(r2.Key),
		Duration: durationpb.New(time.Hour), Owner: "alice", Reason: "disk"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.recovery.RegisterCandidate(ctxT(t), &recoveryv1.RegisterCandidateRequest{Instance: key(m.Key),
		PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT, RequestedBy: "bob"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.recovery.SetGlobalRecoveries(ctxT(t), &recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "carol"}); err != nil {
		t.Fatal(err)
	}
	before, err := v.analyzer.ListDetections(ctxT(t), &analyzerv1.ListDetectionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	v.stop(t)
	if _, err := os.Stat(filepath.Join(dataDir, "vigil.db")); err != nil {
		t.Fatalf("no store file in the data directory: %v", err)
	}

	v = startAllInOne(t, dataDir, m.Key)
	rec, err := v.recovery.GetRecovery(ctxT(t), &recoveryv1.GetRecoveryRequest{Id: id})
	if err != nil || len(rec.GetRecovery().GetSteps()) == 0 || rec.GetRecovery().GetAcknowledgedBy() != "e2e" {
		t.Errorf("takeover after the restart = %v, %v; want its steps and acknowledgement", rec, err)
	}
	// The history is all there, and the active detection kept its id.
	after, err := v.analyzer.ListDetections(ctxT(t), &analyzerv1.ListDetectionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(r *analyzerv1.ListDetectionsResponse) (out []string, active map[string]bool) {
		active = map[string]bool{}
		for _, d := range r.GetDetections() {
			out = append(out, d.GetId())
			active[d.GetId()] = d.GetClearedAt() == nil
		}
		return out, active
	}
	idsBefore, _ := ids(before)
	idsAfter, active := ids(after)
	if !slices.Equal(idsBefore, idsAfter) || !active[detection] {
		t.Errorf("detections after the restart %v (active %v), before %v; want the same, %s still active", idsAfter, active, idsBefore, detection)
	}
	downtimes, err := v.recovery.ListDowntimes(ctxT(t), &recoveryv1.ListDowntimesRequest{})
	if err != nil || len(downtimes.GetDowntimes()) != 1 || downtimes.GetDowntimes()[0].GetOwner() != "alice" {
		t.Errorf("downtimes after the restart = %v, %v", downtimes, err)
	}
	candidates, err := v.recovery.ListCandidates(ctxT(t), &recoveryv1.ListCandidatesRequest{})
	if err != nil || len(candidates.GetRegistrations()) != 1 ||
		candidates.GetRegistrations()[0].GetPromotionRule() != topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT {
		t.Errorf("promotion rules after the restart = %v, %v", candidates, err)
	}
	global, err := v.recovery.GetGlobalRecoveries(ctxT(t), &recoveryv1.GetGlobalRecoveriesRequest{})
	if err != nil || global.GetGlobalRecoveries().GetEnabled() || global.GetGlobalRecoveries().GetUpdatedBy() != "carol" {
		t.Errorf("global recoveries after the restart = %v, %v", global, err)
	}
	if resp, err := v.topology.GetCluster(ctxT(t), &topologyv1.GetClusterRequest{Cluster: r1.Key}); err != nil ||
		resp.GetCluster().GetInstanceCount() != 3 || !strings.Contains(keyString(resp.GetCluster().GetMaster()), r1.Key) {
		t.Errorf("cluster after the restart = %v, %v; want r1 the master of three", resp, err)
	}
}
