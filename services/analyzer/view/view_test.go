package view

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/feed"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func k(port uint16) topology.InstanceKey { return topology.InstanceKey{Host: "10.0.0.1", Port: port} }

func lag(s int64) *int64 { return &s }

// snap is a reachable MariaDB snapshot of port, replicating from source (0 for none).
func snap(port, source uint16, at time.Duration) *topologyv1.Snapshot {
	s := &topologyv1.Snapshot{
		Key:           k(port).Proto(),
		Reachable:     true,
		ProbeFinished: timestamppb.New(t0.Add(at)),
		Server: &topologyv1.Server{
			Version: "10.11.9-MariaDB-log", Flavor: topologyv1.Flavor_FLAVOR_MARIADB,
			ReadOnly: source != 0, LogBin: true, LogReplicaUpdates: true, BinlogFormat: "ROW",
		},
	}
	if source != 0 {
		s.Channels = []*topologyv1.ReplicationChannel{{
			Source: k(source).Proto(), IoThread: topologyv1.ThreadState_THREAD_STATE_YES,
			SqlThread: topologyv1.ThreadState_THREAD_STATE_YES, AutoPosition: true, SecondsBehindSource: lag(0),
		}}
	}
	return s
}

func down(port uint16, at time.Duration) *topologyv1.Snapshot {
	return &topologyv1.Snapshot{Key: k(port).Proto(), ProbeFinished: timestamppb.New(t0.Add(at)), ErrorClass: topologyv1.ErrorClass_ERROR_CLASS_REFUSED}
}

func TestRenderText(t *testing.T) {
	st := NewState(nil)
	st.Apply("d1", snap(1, 0, 0))
	st.Apply("d1", snap(2, 1, 0))
	st.Apply("d1", snap(3, 2, 0))
	stopped := snap(4, 1, 0)
	stopped.Channels[0].IoThread = topologyv1.ThreadState_THREAD_STATE_NO
	stopped.Channels[0].SecondsBehindSource = nil
	st.Apply("d1", stopped)
	lagging := snap(5, 1, 0)
	lagging.Channels[0].SecondsBehindSource = lag(42)
	lagging.Channels[0].AutoPosition = false
	st.Apply("d1", lagging)
	st.Apply("d1", snap(6, 1, 0))
	st.Apply("d1", down(6, time.Second))

	v := st.View()
	c, ok := v.Graph.FindCluster(k(1).String())
	if !ok {
		t.Fatal("cluster missing")
	}
	got := RenderText(v.Tree(c), 10)
	want := strings.Join([]string{
		"10.0.0.1:1     [0s,ok,10.11.9-MariaDB-log,rw,ROW,>>,GTID]",
		"+ 10.0.0.1:2   [0s,ok,10.11.9-MariaDB-log,ro,ROW,>>,GTID]",
		"  + 10.0.0.1:3 [0s,ok,10.11.9-MariaDB-log,ro,ROW,>>,GTID]",
		"+ 10.0.0.1:4   [null,nonreplicating,10.11.9-MariaDB-log,ro,ROW,>>,GTID]",
		"+ 10.0.0.1:5   [42s,lagging,10.11.9-MariaDB-log,ro,ROW,>>,file:pos]",
		"+ 10.0.0.1:6   [null,unreachable,10.11.9-MariaDB-log,ro,ROW,>>,GTID]",
		"",
	}, "\n")
	if got != want {
		t.Errorf("RenderText:\n%s\nwant:\n%s", got, want)
	}
}

func TestStateKeepsPlaceOfUnreachableInstance(t *testing.T) {
	st := NewState(nil)
	st.Apply("d1", snap(1, 0, 0))
	st.Apply("d1", snap(2, 1, 0))
	st.Apply("d1", down(2, time.Second))
	v := st.View()
	inst, ok := v.Instance(k(2))
	if !ok || inst.GetReachable() || inst.GetMaster().GetPort() != 1 || inst.GetCluster() != k(1).String() {
		t.Fatalf("unreachable replica = %v", inst)
	}
	if !inst.GetLastSeen().AsTime().Equal(t0) {
		t.Errorf("last_seen = %v, want the last good probe %v", inst.GetLastSeen().AsTime(), t0)
	}
}

func TestStateNewestSnapshotAcrossSourcesWins(t *testing.T) {
	st := NewState(nil)
	st.Apply("d1", snap(1, 0, 2*time.Second))
	st.Apply("d2", down(1, time.Second)) // older, from another observer
	inst, _ := st.View().Instance(k(1))
	if !inst.GetReachable() {
		t.Error("older snapshot from another source replaced the newest")
	}
}

func TestStateSyncReplacesWhatTheSourceSaid(t *testing.T) {
	st := NewState(nil)
	for _, p := range []uint16{1, 2, 3} {
		st.Apply("d1", snap(p, 0, 0))
	}
	st.Apply("d2", snap(3, 0, 0))
	st.Sync("d1", feed.Initial{Snapshots: []*topologyv1.Snapshot{snap(1, 0, time.Second)}, PollInterval: time.Second})
	if _, ok := st.View().Instance(k(2)); ok {
		t.Error("instance the source no longer has survived its re-sync")
	}
	if _, ok := st.View().Instance(k(3)); !ok {
		t.Error("instance another source still has was dropped")
	}
	if !st.HasSynced("d1") || st.HasSynced("d2") {
		t.Errorf("HasSynced d1, d2 = %v, %v; want true, false", st.HasSynced("d1"), st.HasSynced("d2"))
	}
	st.Forget("d2", k(3))
	st.Forget("d1", k(3))
	if st.Len() != 1 {
		t.Errorf("Len = %d after forgetting, want 1", st.Len())
	}
}

// A state built from scratch (a restarted analyzer) learns where a down
// instance stood from the last good snapshot its source sends.
func TestStateSyncKeepsPlaceOfDownInstanceFromLastGood(t *testing.T) {
	st := NewState(nil)
	st.Sync("d1", feed.Initial{
		Snapshots:    []*topologyv1.Snapshot{snap(1, 0, 0), down(2, 2*time.Second)},
		LastGood:     []*topologyv1.Snapshot{snap(2, 1, time.Second)},
		PollInterval: 3 * time.Second,
	})
	v := st.View()
	inst, ok := v.Instance(k(2))
	if !ok || inst.GetReachable() || inst.GetMaster().GetPort() != 1 || inst.GetCluster() != k(1).String() {
		t.Fatalf("down replica after sync = %v, want it unreachable under 1", inst)
	}
	ev := v.Evidence(k(2))
	if len(ev) != 1 || ev[0].PollInterval != 3*time.Second || ev[0].Snapshot.GetReachable() {
		t.Errorf("evidence of 2 = %+v, want the down snapshot judged against a 3s poll interval", ev)
	}
}

// Until a source syncs, and after its stream breaks, what it said is no
// evidence.
func TestEvidenceOnlyFromSyncedSources(t *testing.T) {
	st := NewState(nil)
	st.Apply("d1", snap(1, 0, 0))
	if ev := st.View().Evidence(k(1)); len(ev) != 0 {
		t.Errorf("evidence before sync = %v", ev)
	}
	st.Sync("d1", feed.Initial{Snapshots: []*topologyv1.Snapshot{snap(1, 0, 0)}, PollInterval: time.Second})
	if ev := st.View().Evidence(k(1)); len(ev) != 1 {
		t.Errorf("evidence after sync = %v", ev)
	}
	st.Disconnected("d1")
	if ev := st.View().Evidence(k(1)); len(ev) != 0 {
		t.Errorf("evidence after the stream broke = %v", ev)
	}
}

func TestGraphFollowsStructuralChanges(t *testing.T) {
	st := NewState(nil)
	st.Apply("d1", snap(1, 0, 0))
	st.Apply("d1", snap(2, 1, 0))
	st.Apply("d1", snap(3, 0, 0))
	if got := st.Graph().Nodes[k(2)].Cluster; got != k(1).String() {
		t.Fatalf("cluster of 2 = %s", got)
	}
	st.Apply("d1", snap(2, 3, time.Second)) // repointed under 3
	if got := st.Graph().Nodes[k(2)].Cluster; got != k(3).String() {
		t.Errorf("cluster of 2 after repoint = %s, want %s", got, k(3))
	}
}

func TestConfiguredAliasWins(t *testing.T) {
	st := NewState(map[string]string{k(1).String(): "orders"})
	st.Apply("d1", snap(1, 0, 0))
	st.Apply("d1", snap(2, 1, 0))
	c, ok := st.View().Graph.FindCluster("orders")
	if !ok || c.Name != k(1).String() {
		t.Errorf("FindCluster(orders) = %+v, %v", c, ok)
	}
}

func TestViewOfListsEachObservationOnce(t *testing.T) {
	st := NewState(nil)
	st.Sync("d1", feed.Initial{Snapshots: []*topologyv1.Snapshot{snap(1, 0, 0), snap(2, 1, 0)}, PollInterval: time.Second})
	v := st.ViewOf([]topology.InstanceKey{k(1), k(1), k(2)}) // a cluster's master is also a member
	if ev := v.Evidence(k(1)); len(ev) != 1 {
		t.Errorf("evidence of 1 = %d observations, want 1", len(ev))
	}
}

// A released instance keeps its place but gives no evidence until its new
// owner speaks; nobody speaking for long drops it.
func TestStateReleaseKeepsThePlaceNotTheEvidence(t *testing.T) {
	st := NewState(nil)
	initial := feed.Initial{Snapshots: []*topologyv1.Snapshot{snap(1, 0, 0)}, PollInterval: time.Second}
	st.Sync("d1", initial)
	st.Sync("d2", feed.Initial{PollInterval: time.Second})
	st.Release("d1", k(1))
	v := st.View()
	if _, ok := v.Instance(k(1)); !ok {
		t.Fatal("released instance dropped at once")
	}
	if ev := v.Evidence(k(1)); len(ev) != 0 {
		t.Errorf("evidence of a released instance = %v, want none", ev)
	}
	st.PruneReleased(time.Now().Add(-time.Minute))
	if st.Len() != 1 {
		t.Fatal("released instance pruned before its time")
	}
	st.Apply("d2", snap(1, 0, time.Second))
	ev := st.View().Evidence(k(1))
	if len(ev) != 1 || ev[0].Observer != "d2" {
		t.Errorf("evidence after the new owner spoke = %v, want d2 alone", ev)
	}
	st.Release("d2", k(1))
	st.PruneReleased(time.Now().Add(time.Second))
	if st.Len() != 0 {
		t.Errorf("Len = %d after nobody observed the instance, want 0", st.Len())
	}
}
