package feed

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func snap(port uint16, reachable bool) *topologyv1.Snapshot {
	return &topologyv1.Snapshot{Key: topology.InstanceKey{Host: "db", Port: port}.Proto(), Reachable: reachable}
}

// member is a discovery member that sends a fixed stream, then waits.
type member struct {
	discoveryv1.UnimplementedDiscoveryServiceServer
	msgs []*discoveryv1.StreamSnapshotsResponse
}

func (m *member) StreamSnapshots(_ *discoveryv1.StreamSnapshotsRequest, stream grpc.ServerStreamingServer[discoveryv1.StreamSnapshotsResponse]) error {
	for _, msg := range m.msgs {
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	<-stream.Context().Done()
	return nil
}

// sink records what it is told, in order.
type sink struct {
	mu    sync.Mutex
	calls []string
	sync  Initial
	done  chan struct{}
}

func (s *sink) record(call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	if call == "apply db:3" {
		close(s.done)
	}
}

func (s *sink) Sync(_ string, in Initial) {
	s.mu.Lock()
	s.sync = in
	s.mu.Unlock()
	s.record("sync")
}
func (s *sink) Apply(_ string, snap *topologyv1.Snapshot) {
	s.record("apply " + topology.InstanceKey{Host: snap.GetKey().GetHost(), Port: uint16(snap.GetKey().GetPort())}.String())
}
func (s *sink) Forget(string, topology.InstanceKey)  { s.record("forget") }
func (s *sink) Release(string, topology.InstanceKey) { s.record("release") }
func (s *sink) Disconnected(string)                  { s.record("disconnected") }

// The initial state reaches the sink in one piece, with the member's poll
// interval: an analysis can never see a replica whose master has not
// arrived yet.
func TestInitialStateArrivesAtOnce(t *testing.T) {
	ev := func(s *topologyv1.Snapshot) *discoveryv1.StreamSnapshotsResponse {
		return &discoveryv1.StreamSnapshotsResponse{Event: &discoveryv1.StreamSnapshotsResponse_Snapshot{Snapshot: s}}
	}
	m := &member{msgs: []*discoveryv1.StreamSnapshotsResponse{
		ev(snap(2, true)),
		{Event: &discoveryv1.StreamSnapshotsResponse_LastGood{LastGood: snap(1, true)}},
		ev(snap(1, false)),
		{Event: &discoveryv1.StreamSnapshotsResponse_Synced{Synced: &discoveryv1.Synced{SnapshotCount: 2, PollInterval: durationpb.New(3 * time.Second)}}},
		ev(snap(3, true)),
	}}
	srv := grpc.NewServer()
	discoveryv1.RegisterDiscoveryServiceServer(srv, m)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(lis)
	defer srv.Stop()
	conn, err := grpcx.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	s := &sink{done: make(chan struct{})}
	f := &Feed{Source: "d1", Client: discoveryv1.NewDiscoveryServiceClient(conn), Subscriber: "test", Sink: s,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { f.Run(ctx); close(stopped) }()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatal("live snapshot not applied within 10s")
	}
	cancel()
	<-stopped

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) < 2 || s.calls[0] != "sync" || s.calls[1] != "apply db:3" {
		t.Fatalf("calls = %v, want sync then the live snapshot", s.calls)
	}
	if len(s.sync.Snapshots) != 2 || len(s.sync.LastGood) != 1 || s.sync.PollInterval != 3*time.Second {
		t.Errorf("initial state = %d snapshots, %d last good, poll %s; want 2, 1, 3s",
			len(s.sync.Snapshots), len(s.sync.LastGood), s.sync.PollInterval)
	}
}
