package analyzer

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/feed"
)

// While a discovery member's stream is down, nothing is known of its
// instances: their cluster's detections stay as they are (a restart of
// discovery is no evidence), the analyzer warns once when that lasts, and
// analysis resumes when the member is back.
func TestClusterWithoutEvidenceIsHeld(t *testing.T) {
	var logs bytes.Buffer
	s, err := New(DefaultConfig(), Deps{Store: memory.New(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	healthy := feed.Initial{Snapshots: []*topologyv1.Snapshot{fleetSnapshot(0, 0, now), fleetSnapshot(0, 1, now)}, PollInterval: time.Second}
	s.state.Sync("d1", healthy)
	master, _ := topology.KeyFromProto(healthy.Snapshots[0].GetKey())
	s.tracker.Load([]*analyzerv1.Detection{{
		Id: "dead-1", Code: "DeadMaster", Instance: master.Proto(), Cluster: master.String(),
		State: analyzerv1.DetectionState_DETECTION_STATE_STARTED, DetectedAt: timestamppb.New(now),
	}})
	s.state.Disconnected("d1")

	ctx := context.Background()
	analyze := func(at time.Time) {
		v := s.state.View()
		s.analyzeCluster(ctx, v, v.Graph.Clusters[master.String()], at)
	}
	for _, at := range []time.Duration{0, holdWarning + time.Second, holdWarning + 2*time.Second} {
		analyze(now.Add(at))
		if active := s.tracker.Active(nil); len(active) != 1 || active[0].GetId() != "dead-1" {
			t.Fatalf("detections while nothing is known = %v, want the DeadMaster kept", active)
		}
	}
	if n := strings.Count(logs.String(), "cluster not analysed"); n != 1 {
		t.Errorf("%d warnings about the unanalysed cluster, want 1:\n%s", n, logs.String())
	}

	s.state.Sync("d1", healthy)
	analyze(time.Now())
	if active := s.tracker.Active(nil); len(active) != 0 {
		t.Errorf("detections once the member is back and the cluster healthy = %v, want none", active)
	}
}
