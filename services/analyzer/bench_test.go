package analyzer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/feed"
)

// fleetSnapshot is a healthy MariaDB snapshot of instance i of cluster c
// (instance 0 the master, the others its replicas).
func fleetSnapshot(c, i int, at time.Time) *topologyv1.Snapshot {
	key := func(i int) topology.InstanceKey {
		return topology.InstanceKey{Host: fmt.Sprintf("db-%d-%d", c, i), Port: 3306}
	}
	s := &topologyv1.Snapshot{
		Key: key(i).Proto(), ObserverId: "d1", Reachable: true, ProbeFinished: timestamppb.New(at),
		Server: &topologyv1.Server{Flavor: topologyv1.Flavor_FLAVOR_MARIADB, MajorVersion: "10.11", ReadOnly: i > 0,
			LogBin: true, LogReplicaUpdates: true, BinlogFormat: "ROW", GtidBinlogPos: "0-1-100"},
	}
	if i > 0 {
		lag := int64(0)
		s.Channels = []*topologyv1.ReplicationChannel{{Source: key(0).Proto(), IoThread: topologyv1.ThreadState_THREAD_STATE_YES,
			SqlThread: topologyv1.ThreadState_THREAD_STATE_YES, SecondsBehindSource: &lag, UsingGtid: "Slave_Pos"}}
	}
	return s
}

// syncedFleet returns an analyzer synced with one discovery member that
// watches a healthy fleet of clusters × perCluster instances.
func syncedFleet(b *testing.B, clusters, perCluster int) *Service {
	s, err := New(DefaultConfig(), Deps{Store: memory.New(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	initial := feed.Initial{PollInterval: time.Second}
	for c := range clusters {
		for i := range perCluster {
			initial.Snapshots = append(initial.Snapshots, fleetSnapshot(c, i, now))
		}
	}
	s.state.Sync("d1", initial)
	return s
}

// BenchmarkAnalyzeAfterOneSnapshot measures what one snapshot costs the
// analyzer in a fleet of 10,000 instances (2,500 clusters of 4): applying it
// and re-analysing its cluster.
func BenchmarkAnalyzeAfterOneSnapshot(b *testing.B) {
	const clusters, perCluster = 2500, 4
	s := syncedFleet(b, clusters, perCluster)
	ctx := context.Background()
	s.analyzeAll(ctx)
	if n := len(s.state.Graph().Clusters); n != clusters {
		b.Fatalf("%d clusters, want %d", n, clusters)
	}

	b.ResetTimer()
	for n := range b.N {
		s.state.Apply("d1", fleetSnapshot(n%clusters, 1+n%(perCluster-1), time.Now()))
		s.analyzeChanged(ctx)
	}
	b.StopTimer()
	if active := s.tracker.Active(nil); len(active) != 0 {
		b.Fatalf("healthy fleet has detections: %v", active)
	}
}

// BenchmarkSafetyPass measures one full pass over the same fleet.
func BenchmarkSafetyPass(b *testing.B) {
	s := syncedFleet(b, 2500, 4)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		s.analyzeAll(ctx)
	}
}
