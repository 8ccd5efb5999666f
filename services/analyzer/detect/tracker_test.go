package detect

import (
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
)

var (
	t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	m  = topology.InstanceKey{Host: "h", Port: 1}
	r  = topology.InstanceKey{Host: "h", Port: 2}
)

func problem(code string, inst topology.InstanceKey, statement string) analysis.Problem {
	return analysis.Problem{
		Code: code, Instance: inst, Action: analyzerv1.Action_ACTION_RECOVER_MASTER, Description: code,
		Evidence: []analysis.InstanceEvidence{{Instance: r, Evidence: analysis.Evidence{Observer: "d1", ObservedAt: t0, Statement: statement}}},
	}
}

var scope = Scope{Cluster: "h:1", Alias: "orders", Members: []topology.InstanceKey{m, r}}

func TestDetectionLifecycle(t *testing.T) {
	tr := NewTracker()

	started := tr.Update(scope, []analysis.Problem{problem("DeadMaster", m, "IO Connecting")}, t0)
	if len(started) != 1 || started[0].GetState() != analyzerv1.DetectionState_DETECTION_STATE_STARTED {
		t.Fatalf("first update = %v, want one STARTED", started)
	}
	id := started[0].GetId()
	if id == "" || started[0].GetClusterAlias() != "orders" || started[0].GetEvidence()[0].GetStatement() != "IO Connecting" {
		t.Errorf("started detection = %v", started[0])
	}

	// Same evidence at a later time: nothing to say.
	if again := tr.Update(scope, []analysis.Problem{problem("DeadMaster", m, "IO Connecting")}, t0.Add(time.Second)); len(again) != 0 {
		t.Errorf("unchanged problem produced %v", again)
	}
	if since, ok := tr.ActiveSince(m, "DeadMaster"); !ok || !since.Equal(t0) {
		t.Errorf("ActiveSince = %v, %v", since, ok)
	}

	changed := tr.Update(scope, []analysis.Problem{problem("DeadMaster", m, "IO No")}, t0.Add(2*time.Second))
	if len(changed) != 1 || changed[0].GetState() != analyzerv1.DetectionState_DETECTION_STATE_CHANGED || changed[0].GetId() != id {
		t.Fatalf("changed = %v, want CHANGED with the same id", changed)
	}
	if !changed[0].GetDetectedAt().AsTime().Equal(t0) {
		t.Errorf("detected_at moved to %v", changed[0].GetDetectedAt().AsTime())
	}
	if started[0].GetEvidence()[0].GetStatement() != "IO Connecting" {
		t.Error("a detection handed out earlier was changed in place")
	}

	// The code turns into another one: the old detection clears, a new one starts.
	turned := tr.Update(scope, []analysis.Problem{problem("DeadMasterAndSomeReplicas", m, "IO No")}, t0.Add(3*time.Second))
	if len(turned) != 2 {
		t.Fatalf("turned = %v, want a start and a clear", turned)
	}
	var sawStart, sawClear bool
	for _, d := range turned {
		switch {
		case d.GetCode() == "DeadMasterAndSomeReplicas" && d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_STARTED:
			sawStart = d.GetId() != id
		case d.GetCode() == "DeadMaster" && d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED:
			sawClear = d.GetId() == id && d.GetClearedAt() != nil
		}
	}
	if !sawStart || !sawClear {
		t.Errorf("turned = %v", turned)
	}

	cleared := tr.Update(scope, nil, t0.Add(4*time.Second))
	if len(cleared) != 1 || cleared[0].GetState() != analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
		t.Errorf("cleared = %v", cleared)
	}
	if active := tr.Active(nil); len(active) != 0 {
		t.Errorf("active after clearing = %v", active)
	}
}

func TestUpdateLeavesOtherClustersAlone(t *testing.T) {
	tr := NewTracker()
	other := topology.InstanceKey{Host: "x", Port: 1}
	tr.Update(Scope{Cluster: "x:1", Members: []topology.InstanceKey{other}}, []analysis.Problem{problem("DeadMaster", other, "s")}, t0)
	if changes := tr.Update(scope, nil, t0); len(changes) != 0 {
		t.Errorf("analysing h:1 touched x:1: %v", changes)
	}
	if changes := tr.Retain(map[string]bool{"h:1": true}, map[topology.InstanceKey]bool{m: true}, t0); len(changes) != 1 {
		t.Errorf("Retain without x:1 = %v, want its detection cleared", changes)
	}
}

func TestActiveFilters(t *testing.T) {
	tr := NewTracker()
	tr.Update(scope, []analysis.Problem{problem("DeadMaster", m, "s"), problem("ReplicaIsWritable", r, "s")}, t0)
	got := tr.Active(func(d *analyzerv1.Detection) bool { return d.GetCode() == "ReplicaIsWritable" })
	if len(got) != 1 || got[0].GetInstance().GetPort() != 2 {
		t.Errorf("filtered = %v", got)
	}
	if all := tr.Active(nil); len(all) != 2 {
		t.Errorf("all = %v", all)
	}
}

// A restarted analyzer loads the active detections it had: finding the same
// problem again keeps the id and says nothing; not finding it clears it.
func TestLoadedDetectionsSurviveARestart(t *testing.T) {
	before := NewTracker()
	started := before.Update(scope, []analysis.Problem{problem("DeadMaster", m, "IO Connecting"), problem("DeadReplica", r, "refused")}, t0)
	if len(started) != 2 {
		t.Fatalf("started = %v", started)
	}
	cleared := &analyzerv1.Detection{Id: "gone", Code: "DeadReplica", Instance: m.Proto(), State: analyzerv1.DetectionState_DETECTION_STATE_CLEARED}

	after := NewTracker()
	after.Load(append(started, cleared))
	changes := after.Update(scope, []analysis.Problem{problem("DeadMaster", m, "IO Connecting")}, t0.Add(time.Minute))
	if len(changes) != 1 || changes[0].GetCode() != "DeadReplica" || changes[0].GetState() != analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
		t.Fatalf("changes after restart = %v, want only the DeadReplica cleared", changes)
	}
	active := after.Active(nil)
	if len(active) != 1 || active[0].GetId() != started[0].GetId() {
		t.Errorf("active after restart = %v, want the DeadMaster with id %s", active, started[0].GetId())
	}
}
