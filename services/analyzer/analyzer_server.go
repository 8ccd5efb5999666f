package analyzer

import (
	"context"
	"errors"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
)

// analyzerServer holds the AnalyzerService handlers.
type analyzerServer struct {
	analyzerv1.UnimplementedAnalyzerServiceServer
	svc *Service
}

func (h *analyzerServer) StreamFailureEvents(req *analyzerv1.StreamFailureEventsRequest, stream grpc.ServerStreamingServer[analyzerv1.StreamFailureEventsResponse]) error {
	s := h.svc
	sub := s.events.Subscribe()
	defer sub.Close()
	s.log.Info("failure event subscriber joined", "subscriber", req.GetSubscriber(), "active", len(sub.Initial))

	initial := slices.Clone(sub.Initial)
	slices.SortFunc(initial, func(a, b *analyzerv1.Detection) int {
		return a.GetChangedAt().AsTime().Compare(b.GetChangedAt().AsTime())
	})
	for _, d := range initial {
		if err := stream.Send(&analyzerv1.StreamFailureEventsResponse{Event: &analyzerv1.StreamFailureEventsResponse_Detection{Detection: d}}); err != nil {
			return err
		}
	}
	synced := &analyzerv1.Synced{ActiveCount: int32(len(initial))}
	if err := stream.Send(&analyzerv1.StreamFailureEventsResponse{Event: &analyzerv1.StreamFailureEventsResponse_Synced{Synced: synced}}); err != nil {
		return err
	}
	for {
		select {
		case e := <-sub.Events():
			if err := stream.Send(&analyzerv1.StreamFailureEventsResponse{Event: &analyzerv1.StreamFailureEventsResponse_Detection{Detection: e.Value}}); err != nil {
				return err
			}
		case <-sub.Done():
			return status.Errorf(codes.ResourceExhausted, "failure event stream of %q ended: %v; reconnect to re-sync", req.GetSubscriber(), sub.Err())
		case <-s.stopping:
			return status.Error(codes.Unavailable, "analyzer is shutting down")
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (h *analyzerServer) GetReplicationAnalysis(_ context.Context, req *analyzerv1.GetReplicationAnalysisRequest) (*analyzerv1.GetReplicationAnalysisResponse, error) {
	s := h.svc
	g := s.state.Graph()
	var clusterName string
	var instance topology.InstanceKey
	switch {
	case req.GetCluster() != "" && req.GetInstance() != nil:
		return nil, grpcx.InvalidArgument("instance", errors.New("give a cluster or an instance, not both"))
	case req.GetCluster() != "":
		c, err := findCluster(g, req.GetCluster())
		if err != nil {
			return nil, err
		}
		clusterName = c.Name
	case req.GetInstance() != nil:
		key, err := topology.KeyFromProto(req.GetInstance())
		if err != nil {
			return nil, grpcx.InvalidArgument("instance", err)
		}
		n, ok := g.Nodes[key]
		if !ok {
			return nil, status.Errorf(codes.NotFound, "instance %s is not known", key)
		}
		instance, clusterName = key, n.Cluster
	}

	resp := &analyzerv1.GetReplicationAnalysisResponse{}
	resp.Detections = s.tracker.Active(func(d *analyzerv1.Detection) bool {
		switch {
		case !instance.IsZero():
			return d.GetInstance().GetHost() == instance.Host && d.GetInstance().GetPort() == uint32(instance.Port)
		case clusterName != "":
			return d.GetCluster() == clusterName
		}
		return true
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.warnings))
	for name := range s.warnings {
		if clusterName == "" || name == clusterName {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		for _, w := range s.warnings[name] {
			if !instance.IsZero() && !slices.Contains(w.Instances, instance) {
				continue
			}
			resp.Warnings = append(resp.Warnings, warningProto(name, w))
		}
	}
	return resp, nil
}

func (h *analyzerServer) ListDetections(ctx context.Context, req *analyzerv1.ListDetectionsRequest) (*analyzerv1.ListDetectionsResponse, error) {
	if req.GetPageSize() < 0 {
		return nil, grpcx.InvalidArgument("page_size", errors.New("negative"))
	}
	f := store.DetectionFilter{Cluster: req.GetCluster(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	if req.GetInstance() != nil {
		key, err := topology.KeyFromProto(req.GetInstance())
		if err != nil {
			return nil, grpcx.InvalidArgument("instance", err)
		}
		f.Instance = key
	}
	ds, next, err := h.svc.store.ListDetections(ctx, f)
	switch {
	case errors.Is(err, store.ErrInvalidArgument):
		return nil, grpcx.InvalidArgument("page_token", err)
	case err != nil:
		return nil, status.Errorf(codes.Unavailable, "read detections: %v", err)
	}
	return &analyzerv1.ListDetectionsResponse{Detections: ds, NextPageToken: next}, nil
}

func warningProto(cluster string, w analysis.Warning) *analyzerv1.StructureWarning {
	out := &analyzerv1.StructureWarning{Code: w.Code, Cluster: cluster, Description: w.Description}
	for _, k := range w.Instances {
		out.Instances = append(out.Instances, k.Proto())
	}
	return out
}
