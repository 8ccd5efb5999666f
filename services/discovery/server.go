package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// maxPerCall bounds how many instances one ProbeNow or restart call may name.
const maxPerCall = 1000

// server holds the gRPC handlers: validate, call the service, map errors.
type server struct {
	discoveryv1.UnimplementedDiscoveryServiceServer
	svc *Service
}

func (h *server) StreamSnapshots(req *discoveryv1.StreamSnapshotsRequest, stream grpc.ServerStreamingServer[discoveryv1.StreamSnapshotsResponse]) error {
	s := h.svc
	// Until every instance known at start has been probed once, the state
	// is partial; a subscriber must not take it for the whole picture.
	select {
	case <-s.firstProbes.Done():
	case <-s.stopping:
		return status.Error(codes.Unavailable, "discovery is shutting down")
	case <-stream.Context().Done():
		return nil
	}
	sub := s.hub.Subscribe()
	defer sub.Close()
	s.log.Info("snapshot subscriber joined", "subscriber", req.GetSubscriber(), "initial", len(sub.Initial))

	for _, snap := range sub.Initial {
		// An instance that is down keeps its place in the subscriber's
		// topology only if the subscriber learns where it last stood.
		if good := s.lastGood(keyOf(snap)); good != nil && !topology.IsGood(snap) {
			if err := stream.Send(&discoveryv1.StreamSnapshotsResponse{Event: &discoveryv1.StreamSnapshotsResponse_LastGood{LastGood: good}}); err != nil {
				return err
			}
		}
		if err := stream.Send(&discoveryv1.StreamSnapshotsResponse{Event: &discoveryv1.StreamSnapshotsResponse_Snapshot{Snapshot: snap}}); err != nil {
			return err
		}
	}
	synced := &discoveryv1.Synced{
		SnapshotCount: int32(len(sub.Initial)),
		PollInterval:  durationpb.New(s.cfg.PollInterval),
	}
	if err := stream.Send(&discoveryv1.StreamSnapshotsResponse{Event: &discoveryv1.StreamSnapshotsResponse_Synced{Synced: synced}}); err != nil {
		return err
	}
	for {
		select {
		case e := <-sub.Events():
			msg := &discoveryv1.StreamSnapshotsResponse{Event: &discoveryv1.StreamSnapshotsResponse_Snapshot{Snapshot: e.Value}}
			switch {
			case e.Removed && e.Value != nil:
				msg.Event = &discoveryv1.StreamSnapshotsResponse_Released{Released: e.Key.Proto()}
			case e.Removed:
				msg.Event = &discoveryv1.StreamSnapshotsResponse_Forgotten{Forgotten: e.Key.Proto()}
			}
			if err := stream.Send(msg); err != nil {
				return err
			}
		case <-sub.Done():
			return status.Errorf(codes.ResourceExhausted, "snapshot stream of %q ended: %v; reconnect to re-sync", req.GetSubscriber(), sub.Err())
		case <-s.stopping:
			return status.Error(codes.Unavailable, "discovery is shutting down")
		case <-stream.Context().Done():
			return nil
		}
	}
}

func (h *server) ProbeNow(ctx context.Context, req *discoveryv1.ProbeNowRequest) (*discoveryv1.ProbeNowResponse, error) {
	s := h.svc
	keys, err := requestKeys(req.GetInstances(), s.isKnown)
	if err != nil {
		return nil, err
	}
	snaps := make([]*topologyv1.Snapshot, len(keys))
	s.eachBounded(keys, func(i int, key topology.InstanceKey) {
		snaps[i] = s.prober.Probe(ctx, key)
		s.handle(snaps[i])
	})
	return &discoveryv1.ProbeNowResponse{Snapshots: snaps}, nil
}

// requestKeys validates the instance list of a ProbeNow or restart request:
// every key well formed and every instance known (any member may read an
// instance on demand; only its owners stream its snapshots). It checks
// the whole list before the caller touches any instance, so a request naming
// one unmanaged address changes nothing; DiscoverInstance is the one way to
// add an address.
func requestKeys(instances []*topologyv1.InstanceKey, watched func(topology.InstanceKey) bool) ([]topology.InstanceKey, error) {
	if len(instances) > maxPerCall {
		return nil, grpcx.InvalidArgument("instances", fmt.Errorf("%d instances, at most %d per call", len(instances), maxPerCall))
	}
	keys := make([]topology.InstanceKey, len(instances))
	for i, pk := range instances {
		key, err := topology.KeyFromProto(pk)
		if err != nil {
			return nil, grpcx.InvalidArgument(fmt.Sprintf("instances[%d]", i), err)
		}
		keys[i] = key
	}
	for i, key := range keys {
		if !watched(key) {
			return nil, status.Errorf(codes.NotFound, "instances[%d]: instance %s is not known to discovery; add it with DiscoverInstance", i, key)
		}
	}
	return keys, nil
}

// eachBounded runs f for every key, at most Workers at a time, and waits.
func (s *Service) eachBounded(keys []topology.InstanceKey, f func(i int, key topology.InstanceKey)) {
	limit := make(chan struct{}, s.cfg.Workers)
	var wg sync.WaitGroup
	for i, key := range keys {
		limit <- struct{}{}
		wg.Go(func() {
			defer func() { <-limit }()
			f(i, key)
		})
	}
	wg.Wait()
}

func (h *server) RestartReplicationIO(ctx context.Context, req *discoveryv1.RestartReplicationIORequest) (*discoveryv1.RestartReplicationIOResponse, error) {
	s := h.svc
	keys, err := requestKeys(req.GetInstances(), s.isKnown)
	if err != nil {
		return nil, err
	}
	results := make([]*discoveryv1.RestartResult, len(keys))
	s.eachBounded(keys, func(i int, key topology.InstanceKey) {
		results[i] = &discoveryv1.RestartResult{Instance: key.Proto()}
		if err := s.prober.RestartReplicationIO(ctx, key); err != nil {
			results[i].Error = err.Error()
			return
		}
		s.log.Info("replication IO thread restarted", "instance", key.String())
	})
	return &discoveryv1.RestartReplicationIOResponse{Results: results}, nil
}

func (h *server) DiscoverInstance(ctx context.Context, req *discoveryv1.DiscoverInstanceRequest) (*discoveryv1.DiscoverInstanceResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	s := h.svc
	snap := s.prober.Probe(ctx, key)
	if !snap.GetReachable() {
		if !s.poller.Has(key) {
			s.prober.Forget(key)
		}
		return nil, status.Errorf(codes.FailedPrecondition, "cannot discover %s: %s (%s)", key, snap.GetError(), snap.GetErrorClass())
	}
	if err := s.store.SaveSnapshots(ctx, []*topologyv1.Snapshot{snap}); err != nil {
		return nil, status.Errorf(codes.Unavailable, "discover %s: %v", key, err)
	}
	if len(s.learn(ctx, []topology.InstanceKey{key})) > 0 {
		s.log.Info("instance discovered", "instance", key.String(), "via", "api")
	}
	// A member that does not own the instance leaves it to its owners,
	// who find it in the registry.
	if s.ownership()(key) {
		s.poller.Add(key)
		s.handle(snap)
	}
	return &discoveryv1.DiscoverInstanceResponse{Snapshot: snap}, nil
}

func (h *server) ForgetInstance(ctx context.Context, req *discoveryv1.ForgetInstanceRequest) (*discoveryv1.ForgetInstanceResponse, error) {
	key, err := topology.KeyFromProto(req.GetInstance())
	if err != nil {
		return nil, grpcx.InvalidArgument("instance", err)
	}
	known, err := h.svc.forget(ctx, key)
	if err != nil {
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	if !known {
		return nil, status.Errorf(codes.NotFound, "instance %s is not known", key)
	}
	h.svc.log.Info("instance forgotten", "instance", key.String())
	return &discoveryv1.ForgetInstanceResponse{}, nil
}

func (h *server) ForgetCluster(ctx context.Context, req *discoveryv1.ForgetClusterRequest) (*discoveryv1.ForgetClusterResponse, error) {
	name := strings.TrimSpace(req.GetCluster())
	if name == "" {
		return nil, grpcx.InvalidArgument("cluster", errors.New("is empty"))
	}
	clusters, err := h.svc.store.ListClusters(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "list clusters: %v", err)
	}
	i := slices.IndexFunc(clusters, func(c store.Cluster) bool { return c.Name == name || (c.Alias != "" && c.Alias == name) })
	if i < 0 {
		return nil, status.Errorf(codes.NotFound, "cluster %q is not known", name)
	}
	members := slices.Clone(clusters[i].Members)
	topology.SortKeys(members)
	resp := &discoveryv1.ForgetClusterResponse{}
	for _, key := range members {
		known, err := h.svc.forget(ctx, key)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "forget %s: %v (instances before it were forgotten)", key, err)
		}
		if known {
			resp.Forgotten = append(resp.Forgotten, key.Proto())
		}
	}
	h.svc.log.Info("cluster forgotten", "cluster", clusters[i].Name, "instances", len(resp.GetForgotten()))
	return resp, nil
}

func keyOf(snap *topologyv1.Snapshot) topology.InstanceKey {
	key, _ := topology.KeyFromProto(snap.GetKey())
	return key
}

func (h *server) ListMembers(ctx context.Context, _ *discoveryv1.ListMembersRequest) (*discoveryv1.ListMembersResponse, error) {
	s := h.svc
	resp := &discoveryv1.ListMembersResponse{AnsweredBy: s.cfg.MemberID, Coordinated: s.ring != nil}
	if s.ring == nil {
		resp.Members = []*discoveryv1.Member{{
			MemberId:          s.cfg.MemberID,
			Domain:            s.cfg.Domain,
			Addr:              s.cfg.advertiseAddr(),
			ReplicationFactor: 1,
			PollInterval:      durationpb.New(s.cfg.PollInterval),
			LastHeartbeat:     timestamppb.Now(),
			OwnedInstances:    int32(s.poller.Len()),
		}}
		return resp, nil
	}
	for _, m := range s.ring.List() {
		pm := &discoveryv1.Member{
			MemberId:          m.ID,
			Domain:            m.Domain,
			Addr:              m.Addr,
			ReplicationFactor: int32(m.ReplicationFactor),
			PollInterval:      durationpb.New(m.PollInterval),
			LeaseTtl:          durationpb.New(m.LeaseTTL),
			Joined:            timestamppb.New(m.Joined),
			LastHeartbeat:     timestamppb.New(m.Heartbeat),
			OwnedInstances:    int32(m.Owned),
		}
		if m.ID == s.cfg.MemberID {
			pm.OwnedInstances = int32(s.poller.Len())
		}
		resp.Members = append(resp.Members, pm)
	}
	return resp, nil
}
