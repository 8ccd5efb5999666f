package main

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/grpcx"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// callLog records, in order, every request the fake services got, and holds
// the error they answer with instead of their canned responses.
type callLog struct {
	mu    sync.Mutex
	reqs  []proto.Message
	err   error
	block bool
}

func (l *callLog) record(ctx context.Context, req proto.Message) error {
	l.mu.Lock()
	l.reqs = append(l.reqs, proto.Clone(req))
	err, block := l.err, l.block
	l.mu.Unlock()
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (l *callLog) requests() []proto.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]proto.Message(nil), l.reqs...)
}

// reset forgets the requests and makes the fakes answer normally again.
func (l *callLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs, l.err, l.block = nil, nil, false
}

func (l *callLog) failWith(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *callLog) hang() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.block = true
}

func key(host string, port uint32) *topologyv1.InstanceKey {
	return &topologyv1.InstanceKey{Host: host, Port: port}
}

func instance(host string) *topologyv1.Instance {
	return &topologyv1.Instance{Key: key(host, 3306), Cluster: "db1:3306", ClusterAlias: "main"}
}

var (
	mainCluster = &topologyv1.Cluster{
		Name: "db1:3306", Alias: "main", Domain: "main.example.com", Master: key("db1", 3306), InstanceCount: 3,
	}
	otherCluster = &topologyv1.Cluster{Name: "db9:3306", Alias: "other", Master: key("db9", 3306), InstanceCount: 1}
)

const topologyText = "db1:3306     [0s,ok,8.0.36,rw,ROW,>>,GTID]\n" +
	"+ db2:3306   [0s,ok,8.0.36,ro,ROW,>>,GTID]\n" +
	"+ db3:3306   [null,nonreplicating,8.0.36,ro,ROW,file:pos]\n"

// fakeTopology pages clusters and instances two pages at a time, so paging
// is exercised by every list command.
type fakeTopology struct {
	topologyv1.UnimplementedTopologyServiceServer
	log *callLog
}

func (f *fakeTopology) ListClusters(ctx context.Context, req *topologyv1.ListClustersRequest) (*topologyv1.ListClustersResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" {
		return &topologyv1.ListClustersResponse{Clusters: []*topologyv1.Cluster{mainCluster}, NextPageToken: "p2"}, nil
	}
	return &topologyv1.ListClustersResponse{Clusters: []*topologyv1.Cluster{otherCluster}}, nil
}

func (f *fakeTopology) GetCluster(ctx context.Context, req *topologyv1.GetClusterRequest) (*topologyv1.GetClusterResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &topologyv1.GetClusterResponse{Cluster: mainCluster}, nil
}

func (f *fakeTopology) GetClusterTopology(ctx context.Context, req *topologyv1.GetClusterTopologyRequest) (*topologyv1.GetClusterTopologyResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &topologyv1.GetClusterTopologyResponse{
		Cluster: mainCluster,
		Root: &topologyv1.TopologyNode{Instance: instance("db1"), Replicas: []*topologyv1.TopologyNode{
			{Instance: instance("db2")}, {Instance: instance("db3")},
		}},
		Text: topologyText,
	}, nil
}

func (f *fakeTopology) ListInstances(ctx context.Context, req *topologyv1.ListInstancesRequest) (*topologyv1.ListInstancesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" {
		return &topologyv1.ListInstancesResponse{Instances: []*topologyv1.Instance{instance("db1"), instance("db2")}, NextPageToken: "i2"}, nil
	}
	return &topologyv1.ListInstancesResponse{Instances: []*topologyv1.Instance{instance("db3")}}, nil
}

func (f *fakeTopology) GetInstance(ctx context.Context, req *topologyv1.GetInstanceRequest) (*topologyv1.GetInstanceResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceResponse{Instance: &topologyv1.Instance{Key: req.GetInstance()}}, nil
}

func (f *fakeTopology) GetMaster(ctx context.Context, req *topologyv1.GetMasterRequest) (*topologyv1.GetMasterResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &topologyv1.GetMasterResponse{Master: instance("db1")}, nil
}

func (f *fakeTopology) ListReplicas(ctx context.Context, req *topologyv1.ListReplicasRequest) (*topologyv1.ListReplicasResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	if req.GetBrokenOnly() {
		return &topologyv1.ListReplicasResponse{Replicas: []*topologyv1.Instance{instance("db3")}}, nil
	}
	return &topologyv1.ListReplicasResponse{Replicas: []*topologyv1.Instance{instance("db2"), instance("db3")}}, nil
}

func (f *fakeTopology) GetInstanceCluster(ctx context.Context, req *topologyv1.GetInstanceClusterRequest) (*topologyv1.GetInstanceClusterResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &topologyv1.GetInstanceClusterResponse{Cluster: mainCluster}, nil
}

type fakeDiscovery struct {
	discoveryv1.UnimplementedDiscoveryServiceServer
	log *callLog
}

func (f *fakeDiscovery) DiscoverInstance(ctx context.Context, req *discoveryv1.DiscoverInstanceRequest) (*discoveryv1.DiscoverInstanceResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &discoveryv1.DiscoverInstanceResponse{Snapshot: &topologyv1.Snapshot{Key: req.GetInstance(), Reachable: true}}, nil
}

func (f *fakeDiscovery) ForgetInstance(ctx context.Context, req *discoveryv1.ForgetInstanceRequest) (*discoveryv1.ForgetInstanceResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &discoveryv1.ForgetInstanceResponse{}, nil
}

type fakeRecovery struct {
	recoveryv1.UnimplementedRecoveryServiceServer
	log *callLog
}

func (f *fakeRecovery) GetGlobalRecoveries(ctx context.Context, req *recoveryv1.GetGlobalRecoveriesRequest) (*recoveryv1.GetGlobalRecoveriesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.GetGlobalRecoveriesResponse{GlobalRecoveries: &recoveryv1.GlobalRecoveries{Enabled: true}}, nil
}

func (f *fakeRecovery) SetGlobalRecoveries(ctx context.Context, req *recoveryv1.SetGlobalRecoveriesRequest) (*recoveryv1.SetGlobalRecoveriesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.SetGlobalRecoveriesResponse{GlobalRecoveries: &recoveryv1.GlobalRecoveries{
		Enabled: req.GetEnabled(), UpdatedBy: req.GetRequestedBy(),
	}}, nil
}

// fakeServices are the three fakes, each on its own gRPC server on loopback.
type fakeServices struct {
	log                                       *callLog
	analyzerAddr, discoveryAddr, recoveryAddr string
}

func startFakes(t *testing.T) *fakeServices {
	t.Helper()
	f := &fakeServices{log: &callLog{}}
	f.analyzerAddr = serve(t, func(s *grpc.Server) { topologyv1.RegisterTopologyServiceServer(s, &fakeTopology{log: f.log}) })
	f.discoveryAddr = serve(t, func(s *grpc.Server) { discoveryv1.RegisterDiscoveryServiceServer(s, &fakeDiscovery{log: f.log}) })
	f.recoveryAddr = serve(t, func(s *grpc.Server) { recoveryv1.RegisterRecoveryServiceServer(s, &fakeRecovery{log: f.log}) })
	return f
}

// env is the environment vigilctl sees: the fakes' addresses and a user.
func (f *fakeServices) env() map[string]string {
	return map[string]string{
		"VIGIL_ANALYZER_ADDR":  f.analyzerAddr,
		"VIGIL_DISCOVERY_ADDR": f.discoveryAddr,
		"VIGIL_RECOVERY_ADDR":  f.recoveryAddr,
		"USER":                 "alice",
	}
}

// serve runs a gRPC server with what register registers on 127.0.0.1 until
// the test ends.
func serve(t *testing.T, register func(*grpc.Server)) string {
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
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("fake server: %v", err)
		}
	})
	return lis.Addr().String()
}
