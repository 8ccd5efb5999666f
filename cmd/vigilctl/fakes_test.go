package main

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
	return &topologyv1.GetInstanceResponse{Instance: &topologyv1.Instance{Key: req.GetInstance(), Observers: []*topologyv1.Observer{
		{MemberId: "d1", Domain: "dc1", ProbeFinished: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Reachable: true},
		{MemberId: "d2", ProbeFinished: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)), Error: "connection refused"},
	}}}, nil
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

func (f *fakeDiscovery) ForgetCluster(ctx context.Context, req *discoveryv1.ForgetClusterRequest) (*discoveryv1.ForgetClusterResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &discoveryv1.ForgetClusterResponse{Forgotten: []*topologyv1.InstanceKey{key("db1", 3306), key("db2", 3306)}}, nil
}

func (f *fakeDiscovery) ListMembers(ctx context.Context, req *discoveryv1.ListMembersRequest) (*discoveryv1.ListMembersResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &discoveryv1.ListMembersResponse{AnsweredBy: "d1", Coordinated: true, Members: []*discoveryv1.Member{
		{MemberId: "d1", Domain: "dc1", Addr: "10.0.0.1:7101", ReplicationFactor: 2, OwnedInstances: 12,
			LeaseTtl: durationpb.New(5 * time.Second), LastHeartbeat: timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))},
		{MemberId: "d2", Addr: "10.0.0.2:7101", ReplicationFactor: 2, OwnedInstances: 11, LeaseTtl: durationpb.New(5 * time.Second)},
	}}, nil
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

func (f *fakeRecovery) BeginDowntime(ctx context.Context, req *recoveryv1.BeginDowntimeRequest) (*recoveryv1.BeginDowntimeResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	start := at("2026-01-02T03:04:05Z")
	return &recoveryv1.BeginDowntimeResponse{Downtime: &recoveryv1.Downtime{
		Instance: req.GetInstance(), Owner: req.GetOwner(), Reason: req.GetReason(),
		StartedAt: start, EndsAt: timestamppb.New(start.AsTime().Add(req.GetDuration().AsDuration())),
	}}, nil
}

func (f *fakeRecovery) EndDowntime(ctx context.Context, req *recoveryv1.EndDowntimeRequest) (*recoveryv1.EndDowntimeResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.EndDowntimeResponse{}, nil
}

func (f *fakeRecovery) ListDowntimes(ctx context.Context, req *recoveryv1.ListDowntimesRequest) (*recoveryv1.ListDowntimesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ListDowntimesResponse{Downtimes: []*recoveryv1.Downtime{
		{Instance: key("db2", 3306), Owner: "alice", Reason: "kernel upgrade", EndsAt: at("2026-01-02T04:04:05Z")},
		{Instance: key("db3", 3306), Owner: "bob", EndsAt: at("2026-01-03T00:00:00Z")},
	}}, nil
}

// fakeRecoveryRecord is the recovery the fake recovery service knows.
func fakeRecoveryRecord() *recoveryv1.Recovery {
	return &recoveryv1.Recovery{
		Id: "rec-1", Analysis: "DeadMaster", Cluster: "db1:3306", FailedInstance: key("db1", 3306), Successor: key("db2", 3306),
		Outcome: recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED, Reason: "db1:3306 replaced by db2:3306",
		StartedAt: at("2026-01-02T03:04:05Z"),
		Steps:     []*recoveryv1.RecoveryStep{{Name: "promote", Instance: key("db2", 3306), Ok: true, At: at("2026-01-02T03:04:05Z")}},
	}
}

func (f *fakeRecovery) ListRecoveries(ctx context.Context, req *recoveryv1.ListRecoveriesRequest) (*recoveryv1.ListRecoveriesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	r := fakeRecoveryRecord()
	r.Steps = nil
	return &recoveryv1.ListRecoveriesResponse{Recoveries: []*recoveryv1.Recovery{r}}, nil
}

func (f *fakeRecovery) GetRecovery(ctx context.Context, req *recoveryv1.GetRecoveryRequest) (*recoveryv1.GetRecoveryResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.GetRecoveryResponse{Recovery: fakeRecoveryRecord()}, nil
}

func (f *fakeRecovery) ListBlockedRecoveries(ctx context.Context, req *recoveryv1.ListBlockedRecoveriesRequest) (*recoveryv1.ListBlockedRecoveriesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ListBlockedRecoveriesResponse{Clusters: []*recoveryv1.BlockedCluster{
		{Cluster: "db2:3306", RecoveryId: "rec-1", BlockedUntil: at("2026-01-02T04:04:05Z")},
	}}, nil
}

func (f *fakeRecovery) AcknowledgeRecoveries(ctx context.Context, req *recoveryv1.AcknowledgeRecoveriesRequest) (*recoveryv1.AcknowledgeRecoveriesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.AcknowledgeRecoveriesResponse{Acknowledged: 2}, nil
}

// at parses an RFC 3339 time into a timestamp.
func at(s string) *timestamppb.Timestamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return timestamppb.New(t)
}

// Detections the fake analyzer reports, newest first.
var (
	deadMaster = &analyzerv1.Detection{
		Id: "d1", Code: "DeadMaster", Cluster: "db1:3306", ClusterAlias: "main", Instance: key("db1", 3306),
		State:      analyzerv1.DetectionState_DETECTION_STATE_STARTED,
		DetectedAt: at("2026-01-02T03:04:05Z"), ChangedAt: at("2026-01-02T03:04:05Z"),
	}
	replicationStopped = &analyzerv1.Detection{
		Id: "d2", Code: "ReplicationStopped", Cluster: "db1:3306", ClusterAlias: "main", Instance: key("db3", 3306),
		State:      analyzerv1.DetectionState_DETECTION_STATE_CLEARED,
		DetectedAt: at("2026-01-02T03:00:00Z"), ChangedAt: at("2026-01-02T03:10:00Z"), ClearedAt: at("2026-01-02T03:10:00Z"),
		Downtimed: true,
	}
	deadIntermediateMaster = &analyzerv1.Detection{
		Id: "d0", Code: "DeadIntermediateMaster", Cluster: "db1:3306", Instance: key("db2", 3306),
		State:      analyzerv1.DetectionState_DETECTION_STATE_CLEARED,
		DetectedAt: at("2026-01-01T00:00:00Z"), ChangedAt: at("2026-01-01T00:05:00Z"), ClearedAt: at("2026-01-01T00:05:00Z"),
	}
)

// fakeAnalyzer pages detections two pages at a time. Its failure event
// stream sends two detections around the synced marker, then ends as the
// test asks.
type fakeAnalyzer struct {
	analyzerv1.UnimplementedAnalyzerServiceServer
	log *callLog

	mu sync.Mutex
	// holdStream keeps the event stream open until the client leaves.
	holdStream bool
	// streamErr ends the event stream after the events.
	streamErr error
}

func (f *fakeAnalyzer) GetReplicationAnalysis(ctx context.Context, req *analyzerv1.GetReplicationAnalysisRequest) (*analyzerv1.GetReplicationAnalysisResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	stopped := proto.CloneOf(replicationStopped)
	stopped.State, stopped.ClearedAt = analyzerv1.DetectionState_DETECTION_STATE_STARTED, nil
	return &analyzerv1.GetReplicationAnalysisResponse{
		Detections: []*analyzerv1.Detection{deadMaster, stopped},
		Warnings: []*analyzerv1.StructureWarning{{
			Code: "NoPromotableReplica", Cluster: "db1:3306", Instances: []*topologyv1.InstanceKey{key("db2", 3306)},
			Description: "no replica can be promoted",
		}},
	}, nil
}

func (f *fakeAnalyzer) ListDetections(ctx context.Context, req *analyzerv1.ListDetectionsRequest) (*analyzerv1.ListDetectionsResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	if req.GetPageToken() == "" {
		return &analyzerv1.ListDetectionsResponse{Detections: []*analyzerv1.Detection{deadMaster, replicationStopped}, NextPageToken: "h2"}, nil
	}
	return &analyzerv1.ListDetectionsResponse{Detections: []*analyzerv1.Detection{deadIntermediateMaster}}, nil
}

func (f *fakeAnalyzer) StreamFailureEvents(req *analyzerv1.StreamFailureEventsRequest, stream grpc.ServerStreamingServer[analyzerv1.StreamFailureEventsResponse]) error {
	if err := f.log.record(stream.Context(), req); err != nil {
		return err
	}
	for _, e := range []*analyzerv1.StreamFailureEventsResponse{
		{Event: &analyzerv1.StreamFailureEventsResponse_Detection{Detection: deadMaster}},
		{Event: &analyzerv1.StreamFailureEventsResponse_Synced{Synced: &analyzerv1.Synced{ActiveCount: 1}}},
		{Event: &analyzerv1.StreamFailureEventsResponse_Detection{Detection: replicationStopped}},
	} {
		if err := stream.Send(e); err != nil {
			return err
		}
	}
	f.mu.Lock()
	hold, err := f.holdStream, f.streamErr
	f.mu.Unlock()
	if hold {
		<-stream.Context().Done()
	}
	return err
}

// fakeServices are the fakes, on three gRPC servers on loopback: topology
// and analyzer share one, as they share the analyzer process.
type fakeServices struct {
	log                                       *callLog
	analyzer                                  *fakeAnalyzer
	analyzerAddr, discoveryAddr, recoveryAddr string
}

func startFakes(t *testing.T) *fakeServices {
	t.Helper()
	f := &fakeServices{log: &callLog{}}
	f.analyzer = &fakeAnalyzer{log: f.log}
	f.analyzerAddr = serve(t, func(s *grpc.Server) {
		topologyv1.RegisterTopologyServiceServer(s, &fakeTopology{log: f.log})
		analyzerv1.RegisterAnalyzerServiceServer(s, f.analyzer)
	})
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

// recoveryTo is the record of an operation that promoted successor.
func recoveryTo(successor *topologyv1.InstanceKey) *recoveryv1.Recovery {
	if successor == nil {
		successor = key("db2", 3306)
	}
	return &recoveryv1.Recovery{Id: "rec-2", Successor: successor, Outcome: recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED}
}

func (f *fakeRecovery) GracefulMasterTakeover(ctx context.Context, req *recoveryv1.GracefulMasterTakeoverRequest) (*recoveryv1.GracefulMasterTakeoverResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.GracefulMasterTakeoverResponse{Recovery: recoveryTo(req.GetDesignated())}, nil
}

func (f *fakeRecovery) ForceMasterFailover(ctx context.Context, req *recoveryv1.ForceMasterFailoverRequest) (*recoveryv1.ForceMasterFailoverResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ForceMasterFailoverResponse{Recovery: recoveryTo(nil)}, nil
}

func (f *fakeRecovery) ForceMasterTakeover(ctx context.Context, req *recoveryv1.ForceMasterTakeoverRequest) (*recoveryv1.ForceMasterTakeoverResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ForceMasterTakeoverResponse{Recovery: recoveryTo(req.GetDesignated())}, nil
}

func (f *fakeRecovery) RecoverInstance(ctx context.Context, req *recoveryv1.RecoverInstanceRequest) (*recoveryv1.RecoverInstanceResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.RecoverInstanceResponse{Recovery: recoveryTo(req.GetCandidate())}, nil
}

func (f *fakeRecovery) RegisterCandidate(ctx context.Context, req *recoveryv1.RegisterCandidateRequest) (*recoveryv1.RegisterCandidateResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.RegisterCandidateResponse{Registration: &recoveryv1.CandidateRegistration{
		Instance: req.GetInstance(), PromotionRule: req.GetPromotionRule(), RequestedBy: req.GetRequestedBy()}}, nil
}

func (f *fakeRecovery) ListCandidates(ctx context.Context, req *recoveryv1.ListCandidatesRequest) (*recoveryv1.ListCandidatesResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ListCandidatesResponse{Registrations: []*recoveryv1.CandidateRegistration{{
		Instance: key("db3", 3306), PromotionRule: topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT,
		RequestedBy: "alice", ExpiresAt: at("2026-01-02T04:04:05Z")}}}, nil
}

// fakeReadiness would promote db2 and lose db3, with recoveries disabled.
var fakeReadiness = &recoveryv1.FailoverReadiness{
	Cluster: "db1:3306", Master: key("db1", 3306), WouldPromote: key("db2", 3306),
	Refused:   []*recoveryv1.ReplicaVerdict{{Instance: key("db3", 3306), Rule: "delayed", Reason: "it applies transactions 3600s late on purpose"}},
	WouldLose: []*recoveryv1.ReplicaVerdict{{Instance: key("db4", 3306), Reason: "unreachable"}},
	Gate:      "global-disabled", GateReason: "automated recoveries are disabled",
}

func (f *fakeRecovery) GetFailoverReadiness(ctx context.Context, req *recoveryv1.GetFailoverReadinessRequest) (*recoveryv1.GetFailoverReadinessResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.GetFailoverReadinessResponse{Readiness: fakeReadiness}, nil
}

func (f *fakeRecovery) ExplainCluster(ctx context.Context, req *recoveryv1.ExplainClusterRequest) (*recoveryv1.ExplainClusterResponse, error) {
	if err := f.log.record(ctx, req); err != nil {
		return nil, err
	}
	return &recoveryv1.ExplainClusterResponse{Readiness: fakeReadiness, Explanations: []*recoveryv1.Explanation{{
		DetectionId: "d1", Analysis: "DeadMaster", Instance: key("db1", 3306), DetectedAt: at("2026-01-02T03:04:05Z"), Active: true,
		Verdict: recoveryv1.Verdict_VERDICT_VETOED, Gate: "hook-veto", Hook: "/usr/local/bin/allowed",
		Reason: "vetoed by a pre-failover hook", RecoveryIds: []string{"rec-1"},
	}}}, nil
}
