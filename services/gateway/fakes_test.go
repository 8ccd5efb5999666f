package gateway_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// recorder keeps the last request a fake got, and the error it should
// answer with instead of its canned response.
type recorder struct {
	mu    sync.Mutex
	last  proto.Message
	calls int
	err   error
}

func (r *recorder) record(req proto.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = proto.Clone(req)
	r.calls++
	return r.err
}

func (r *recorder) lastRequest() (proto.Message, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last, r.calls
}

// failWith makes every call fail with err until the test ends.
func (r *recorder) failWith(t *testing.T, err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	t.Cleanup(func() {
		r.mu.Lock()
		r.err = nil
		r.mu.Unlock()
	})
}

func key(host string, port uint32) *topologyv1.InstanceKey {
	return &topologyv1.InstanceKey{Host: host, Port: port}
}

var testCluster = &topologyv1.Cluster{
	Name: "db1:3306", Alias: "main", Domain: "main.example.com",
	Master: key("db1", 3306), InstanceCount: 3,
}

func testInstance(k *topologyv1.InstanceKey) *topologyv1.Instance {
	return &topologyv1.Instance{
		Key: k, Cluster: "db1:3306", ClusterAlias: "main",
		Role: topologyv1.Role_ROLE_REPLICA, Master: key("db1", 3306),
		Replicating: true, Reachable: true,
		LastSeen: timestamppb.New(testTime),
	}
}

type fakeTopology struct {
	topologyv1.UnimplementedTopologyServiceServer
	recorder
}

func (f *fakeTopology) ListClusters(_ context.Context, req *topologyv1.ListClustersRequest) (*topologyv1.ListClustersResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.ListClustersResponse{Clusters: []*topologyv1.Cluster{testCluster}, NextPageToken: "next"}, nil
}

func (f *fakeTopology) GetCluster(_ context.Context, req *topologyv1.GetClusterRequest) (*topologyv1.GetClusterResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.GetClusterResponse{Cluster: testCluster}, nil
}

func (f *fakeTopology) GetClusterTopology(_ context.Context, req *topologyv1.GetClusterTopologyRequest) (*topologyv1.GetClusterTopologyResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.GetClusterTopologyResponse{
		Cluster: testCluster,
		Root:    &topologyv1.TopologyNode{Instance: testInstance(key("db1", 3306))},
		Text:    "db1:3306\n+ db2:3306\n",
	}, nil
}

func (f *fakeTopology) ListInstances(_ context.Context, req *topologyv1.ListInstancesRequest) (*topologyv1.ListInstancesResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.ListInstancesResponse{Instances: []*topologyv1.Instance{
		testInstance(key("db1", 3306)), testInstance(key("db2", 3306)),
	}}, nil
}

func (f *fakeTopology) GetInstance(_ context.Context, req *topologyv1.GetInstanceRequest) (*topologyv1.GetInstanceResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceResponse{Instance: testInstance(req.GetInstance())}, nil
}

func (f *fakeTopology) GetMaster(_ context.Context, req *topologyv1.GetMasterRequest) (*topologyv1.GetMasterResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.GetMasterResponse{Master: testInstance(key("db1", 3306))}, nil
}

func (f *fakeTopology) ListReplicas(_ context.Context, req *topologyv1.ListReplicasRequest) (*topologyv1.ListReplicasResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.ListReplicasResponse{Replicas: []*topologyv1.Instance{
		testInstance(key("db2", 3306)), testInstance(key("db3", 3306)),
	}}, nil
}

func (f *fakeTopology) GetInstanceCluster(_ context.Context, req *topologyv1.GetInstanceClusterRequest) (*topologyv1.GetInstanceClusterResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceClusterResponse{Cluster: testCluster}, nil
}

type fakeDiscovery struct {
	discoveryv1.UnimplementedDiscoveryServiceServer
	recorder
}

func (f *fakeDiscovery) DiscoverInstance(_ context.Context, req *discoveryv1.DiscoverInstanceRequest) (*discoveryv1.DiscoverInstanceResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &discoveryv1.DiscoverInstanceResponse{Snapshot: &topologyv1.Snapshot{
		Key: req.GetInstance(), ObserverId: "discovery-1", Reachable: true,
	}}, nil
}

func (f *fakeDiscovery) ForgetInstance(_ context.Context, req *discoveryv1.ForgetInstanceRequest) (*discoveryv1.ForgetInstanceResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &discoveryv1.ForgetInstanceResponse{}, nil
}

type fakeRecovery struct {
	recoveryv1.UnimplementedRecoveryServiceServer
	recorder
}

func (f *fakeRecovery) GetGlobalRecoveries(_ context.Context, req *recoveryv1.GetGlobalRecoveriesRequest) (*recoveryv1.GetGlobalRecoveriesResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &recoveryv1.GetGlobalRecoveriesResponse{GlobalRecoveries: &recoveryv1.GlobalRecoveries{
		Enabled: true, UpdatedBy: "alice",
	}}, nil
}

func (f *fakeRecovery) SetGlobalRecoveries(_ context.Context, req *recoveryv1.SetGlobalRecoveriesRequest) (*recoveryv1.SetGlobalRecoveriesResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &recoveryv1.SetGlobalRecoveriesResponse{GlobalRecoveries: &recoveryv1.GlobalRecoveries{
		Enabled: req.GetEnabled(), UpdatedBy: req.GetRequestedBy(),
	}}, nil
}

var (
	testTime      = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	testDetection = &analyzerv1.Detection{
		Id: "d1", Code: "DeadMaster", Cluster: "db1:3306", ClusterAlias: "main",
		Instance: key("db1", 3306), State: analyzerv1.DetectionState_DETECTION_STATE_STARTED,
		DetectedAt: timestamppb.New(testTime), SuggestedAction: analyzerv1.Action_ACTION_RECOVER_MASTER,
		Description: "master unreachable, replicas agree", Downtimed: true,
		Evidence: []*analyzerv1.Evidence{{Instance: key("db2", 3306), ObserverId: "discovery-1", Statement: "replica IO thread Connecting (errno 2003)"}},
	}
	testWarning = &analyzerv1.StructureWarning{
		Code: "NoPromotableReplica", Cluster: "db1:3306", Instances: []*topologyv1.InstanceKey{key("db2", 3306)},
		Description: "no replica can be promoted",
	}
)

type fakeAnalyzer struct {
	analyzerv1.UnimplementedAnalyzerServiceServer
	recorder
}

func (f *fakeAnalyzer) GetReplicationAnalysis(_ context.Context, req *analyzerv1.GetReplicationAnalysisRequest) (*analyzerv1.GetReplicationAnalysisResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &analyzerv1.GetReplicationAnalysisResponse{
		Detections: []*analyzerv1.Detection{testDetection},
		Warnings:   []*analyzerv1.StructureWarning{testWarning},
	}, nil
}

func (f *fakeAnalyzer) ListDetections(_ context.Context, req *analyzerv1.ListDetectionsRequest) (*analyzerv1.ListDetectionsResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &analyzerv1.ListDetectionsResponse{Detections: []*analyzerv1.Detection{testDetection}, NextPageToken: "more"}, nil
}

func testDowntime(req *recoveryv1.BeginDowntimeRequest) *recoveryv1.Downtime {
	return &recoveryv1.Downtime{
		Instance: req.GetInstance(), Owner: req.GetOwner(), Reason: req.GetReason(),
		StartedAt: timestamppb.New(testTime),
		EndsAt:    timestamppb.New(testTime.Add(req.GetDuration().AsDuration())),
	}
}

func (f *fakeRecovery) BeginDowntime(_ context.Context, req *recoveryv1.BeginDowntimeRequest) (*recoveryv1.BeginDowntimeResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &recoveryv1.BeginDowntimeResponse{Downtime: testDowntime(req)}, nil
}

func (f *fakeRecovery) EndDowntime(_ context.Context, req *recoveryv1.EndDowntimeRequest) (*recoveryv1.EndDowntimeResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &recoveryv1.EndDowntimeResponse{}, nil
}

func (f *fakeRecovery) ListDowntimes(_ context.Context, req *recoveryv1.ListDowntimesRequest) (*recoveryv1.ListDowntimesResponse, error) {
	if err := f.record(req); err != nil {
		return nil, err
	}
	return &recoveryv1.ListDowntimesResponse{Downtimes: []*recoveryv1.Downtime{testDowntime(&recoveryv1.BeginDowntimeRequest{
		Instance: key("db2", 3306), Owner: "alice", Reason: "kernel upgrade", Duration: durationpb.New(time.Hour),
	})}}, nil
}

// backendServer is a fake service on a real gRPC server on loopback.
type backendServer struct {
	addr string
	stop func()
}

// startBackend serves what register registers, with health and reflection,
// on 127.0.0.1 until stop is called or the test ends.
func startBackend(t *testing.T, register func(*grpc.Server)) *backendServer {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcx.NewServer()
	register(srv.GRPC)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, time.Second) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("fake backend on %s: %v", lis.Addr(), err)
			}
		})
	}
	t.Cleanup(stop)
	return &backendServer{addr: lis.Addr().String(), stop: stop}
}
