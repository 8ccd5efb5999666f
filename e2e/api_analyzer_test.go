package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestAnalyzerAndDowntimeGRPC downtimes a master, kills it, and reads the
// detection back through every analyzer RPC.
func TestAnalyzerAndDowntimeGRPC(t *testing.T) {
	s, topo := apiStack(t)
	m := topo.Master().Key
	ctx := ctxT(t)
	events := followEvents(t, s)
	waitForStored(t, s, m) // a downtime is only for an instance Vigil knows

	begun, err := s.recovery.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{
		Instance: key(m), Duration: durationpb.New(time.Hour), Owner: "alice", Reason: "kernel upgrade"})
	if err != nil || begun.GetDowntime().GetOwner() != "alice" {
		t.Fatalf("BeginDowntime = %v, %v", begun, err)
	}
	list, err := s.recovery.ListDowntimes(ctx, &recoveryv1.ListDowntimesRequest{})
	if err != nil || len(list.GetDowntimes()) != 1 || keyString(list.GetDowntimes()[0].GetInstance()) != m {
		t.Fatalf("ListDowntimes = %v, %v", list, err)
	}

	if err := topo.Master().Kill(); err != nil {
		t.Fatal(err)
	}
	events.waitFor(t, "DeadMaster", m, 5*time.Second)
	eventually(t, 5*time.Second, "DeadMaster flagged downtimed", func() error {
		resp, err := s.analyzer.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Instance: key(m)})
		if err != nil {
			return err
		}
		for _, d := range resp.GetDetections() {
			if d.GetCode() == "DeadMaster" && d.GetDowntimed() {
				return nil
			}
		}
		return fmt.Errorf("detections: %v", resp.GetDetections())
	})

	t.Run("ExplainCluster says the recovery was skipped for the downtime", func(t *testing.T) {
		d, _ := events.waitFor(t, "DeadMaster", m, time.Second)
		e := waitForExplanation(t, s, m, d.GetId(), recoveryv1.Verdict_VERDICT_SKIPPED)
		if e.GetGate() != "downtimed" || !strings.Contains(e.GetReason(), "kernel upgrade") {
			t.Errorf("explanation: %v", e)
		}
	})

	t.Run("GetReplicationAnalysis by cluster alias, instance and all", func(t *testing.T) {
		for _, req := range []*analyzerv1.GetReplicationAnalysisRequest{{Cluster: "orders"}, {Instance: key(m)}, {}} {
			resp, err := s.analyzer.GetReplicationAnalysis(ctx, req)
			if err != nil || !hasCode(resp.GetDetections(), "DeadMaster") {
				t.Errorf("GetReplicationAnalysis(%v) = %v, %v", req, resp, err)
			}
		}
	})
	t.Run("ListDetections from the store", func(t *testing.T) {
		eventually(t, 5*time.Second, "detection stored", func() error {
			resp, err := s.analyzer.ListDetections(ctx, &analyzerv1.ListDetectionsRequest{Cluster: "orders"})
			if err != nil {
				return err
			}
			if !hasCode(resp.GetDetections(), "DeadMaster") {
				return fmt.Errorf("stored: %v", resp.GetDetections())
			}
			return nil
		})
	})
	t.Run("a new subscriber starts with the active detections", func(t *testing.T) {
		stream, err := s.analyzer.StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: "late"})
		if err != nil {
			t.Fatal(err)
		}
		var initial []*analyzerv1.Detection
		for {
			msg, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if msg.GetSynced() != nil {
				if int(msg.GetSynced().GetActiveCount()) != len(initial) {
					t.Errorf("synced count %d, got %d", msg.GetSynced().GetActiveCount(), len(initial))
				}
				break
			}
			initial = append(initial, msg.GetDetection())
		}
		if !hasCode(initial, "DeadMaster") {
			t.Errorf("initial = %v", initial)
		}
	})
	t.Run("EndDowntime", func(t *testing.T) {
		if _, err := s.recovery.EndDowntime(ctx, &recoveryv1.EndDowntimeRequest{Instance: key(m)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.recovery.EndDowntime(ctx, &recoveryv1.EndDowntimeRequest{Instance: key(m)}); status.Code(err) != codes.NotFound {
			t.Errorf("second EndDowntime = %v, want NotFound", err)
		}
		eventually(t, 5*time.Second, "detection no longer downtimed", func() error {
			resp, err := s.analyzer.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Instance: key(m)})
			if err != nil {
				return err
			}
			for _, d := range resp.GetDetections() {
				if d.GetCode() == "DeadMaster" && !d.GetDowntimed() {
					return nil
				}
			}
			return fmt.Errorf("detections: %v", resp.GetDetections())
		})
	})

	errorCases := []struct {
		name string
		call func() error
		code codes.Code
	}{
		{"analysis of unknown cluster", func() error {
			_, err := s.analyzer.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Cluster: "nope"})
			return err
		}, codes.NotFound},
		{"analysis of malformed instance", func() error {
			_, err := s.analyzer.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Instance: &topologyv1.InstanceKey{Host: "db1"}})
			return err
		}, codes.InvalidArgument},
		{"analysis of cluster and instance", func() error {
			_, err := s.analyzer.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Cluster: "orders", Instance: key(m)})
			return err
		}, codes.InvalidArgument},
		{"detections with a bad page token", func() error {
			_, err := s.analyzer.ListDetections(ctx, &analyzerv1.ListDetectionsRequest{PageToken: "!!"})
			return err
		}, codes.InvalidArgument},
		{"detections with a negative page size", func() error {
			_, err := s.analyzer.ListDetections(ctx, &analyzerv1.ListDetectionsRequest{PageSize: -1})
			return err
		}, codes.InvalidArgument},
		{"downtime without duration", func() error {
			_, err := s.recovery.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{Instance: key(m)})
			return err
		}, codes.InvalidArgument},
		{"downtime of a year", func() error {
			_, err := s.recovery.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{Instance: key(m), Duration: durationpb.New(365 * 24 * time.Hour)})
			return err
		}, codes.InvalidArgument},
		{"downtime of an unknown instance", func() error {
			_, err := s.recovery.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{Instance: key("10.0.0.1:3306"), Duration: durationpb.New(time.Hour)})
			return err
		}, codes.NotFound},
		{"downtime of a malformed instance", func() error {
			_, err := s.recovery.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{Instance: &topologyv1.InstanceKey{Port: 3306}, Duration: durationpb.New(time.Hour)})
			return err
		}, codes.InvalidArgument},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); status.Code(err) != tc.code {
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

func hasCode(ds []*analyzerv1.Detection, code string) bool {
	for _, d := range ds {
		if d.GetCode() == code {
			return true
		}
	}
	return false
}

// waitForStored waits until discovery has stored every instance of keys.
func waitForStored(t *testing.T, s *stack, keys ...string) {
	t.Helper()
	eventually(t, 10*time.Second, "instances stored", func() error {
		stored := map[string]bool{}
		for _, inst := range storedInstances(t, s.cfg.Store) {
			stored[inst.Key.String()] = true
		}
		for _, k := range keys {
			if !stored[k] {
				return fmt.Errorf("%s not stored", k)
			}
		}
		return nil
	})
}
