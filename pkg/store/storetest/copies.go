package storetest

import (
	"context"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

func testCopiesInstances(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	snap := NewSnapshot(a, at(1), true)
	want := proto.CloneOf(snap)
	save(t, s, snap)

	snap.Server.Version = "changed by the caller after saving"
	snap.Channels[0].Source.Host = "changed"
	got := get(t, s, a)
	if !proto.Equal(got.Snapshot, want) {
		t.Fatalf("changing a saved snapshot changed the stored one: %v", got.Snapshot)
	}

	got.Snapshot.Server.Version = "changed by the caller after GetInstance"
	list, err := s.ListInstances(context.Background())
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	list[0].Snapshot.Replicas[0].ServerId = 1
	if again := get(t, s, a); !proto.Equal(again.Snapshot, want) {
		t.Errorf("changing returned snapshots changed the stored one: %v", again.Snapshot)
	}
}

func testCopiesClusters(t *testing.T, s store.Store) {
	a, b := key("db1", 3306), key("db2", 3306)
	saveKeys(t, s, a, b)
	in := []store.Cluster{{Name: "orders", Master: a, Members: []topology.InstanceKey{a, b}}}
	replaceClusters(t, s, in...)
	want := []store.Cluster{{Name: "orders", Master: a, Members: []topology.InstanceKey{a, b}}}

	in[0].Name, in[0].Members[1] = "changed", key("db9", 3306)
	checkClusters(t, s, want)

	got := listClusters(t, s)
	got[0].Members[0] = key("db9", 3306)
	got[0].Alias = "changed"
	checkClusters(t, s, want)
}

func testCopiesDetections(t *testing.T, s store.Store) {
	d := NewDetection("d1", "orders", key("db1", 3306), at(1))
	want := proto.CloneOf(d)
	saveDetections(t, s, d)

	d.Description = "changed by the caller after saving"
	d.Evidence[0].Statement = "changed"
	got := listDetections(t, s, store.DetectionFilter{})
	checkDetections(t, "ListDetections after changing the saved detection", got, []*analyzerv1.Detection{want})

	got[0].Description = "changed by the caller after ListDetections"
	got[0].Instance.Host = "changed"
	got[0].Evidence = nil
	checkDetections(t, "ListDetections after changing a returned detection",
		listDetections(t, s, store.DetectionFilter{}), []*analyzerv1.Detection{want})
}
