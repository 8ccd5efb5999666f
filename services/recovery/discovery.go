package recovery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// discoveryMembers are the discovery members asked for fresh probes: the
// configured addresses, or the members registered on the coordinator.
type discoveryMembers struct {
	static []string
	view   *shard.Members // nil with static addresses

	mu    sync.Mutex
	conns map[string]*grpc.ClientConn // by address
}

// member is one discovery member's address and client.
type member struct {
	addr   string
	client discoveryv1.DiscoveryServiceClient
}

// membersWait bounds how long a re-check waits for the first member to
// show up: the coordinator may just be back, with registrations moving to
// new leases.
const membersWait = 5 * time.Second

// list returns the members now, dialing the new ones. With members from
// the coordinator and none registered, it waits up to membersWait for one.
func (d *discoveryMembers) list(ctx context.Context) ([]member, error) {
	addrs := d.static
	if d.view != nil {
		addrs = d.registered(ctx)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]member, 0, len(addrs))
	for _, addr := range addrs {
		conn, ok := d.conns[addr]
		if !ok {
			var err error
			if conn, err = grpcx.Dial(addr); err != nil {
				return nil, fmt.Errorf("discovery member %s: %w", addr, err)
			}
			d.conns[addr] = conn
		}
		out = append(out, member{addr: addr, client: discoveryv1.NewDiscoveryServiceClient(conn)})
	}
	return out, nil
}

// registered returns the addresses of the members on the coordinator,
// waiting up to membersWait while there are none.
func (d *discoveryMembers) registered(ctx context.Context) []string {
	deadline := time.After(membersWait)
	for {
		changed := d.view.Changed()
		var addrs []string
		for _, m := range d.view.List() {
			addrs = append(addrs, m.Addr)
		}
		if len(addrs) > 0 {
			return addrs
		}
		select {
		case <-changed:
		case <-deadline:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

func (d *discoveryMembers) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.Close()
	}
	d.conns = map[string]*grpc.ClientConn{}
}

// probeEvery asks every discovery member to probe keys now, at once, and
// returns each complete answer: one snapshot per key, in order, per member
// that answered. It fails when no member answered.
func (s *Service) probeEvery(ctx context.Context, keys []topology.InstanceKey) ([][]*topologyv1.Snapshot, error) {
	members, err := s.discovery.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, errors.New("no discovery member to probe with")
	}
	req := &discoveryv1.ProbeNowRequest{}
	for _, k := range keys {
		req.Instances = append(req.Instances, k.Proto())
	}
	answers := make([][]*topologyv1.Snapshot, len(members))
	errs := make([]error, len(members))
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Go(func() {
			resp, err := m.client.ProbeNow(ctx, req)
			if err == nil && len(resp.GetSnapshots()) != len(keys) {
				err = fmt.Errorf("%d snapshots for %d instances", len(resp.GetSnapshots()), len(keys))
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", m.addr, err)
				return
			}
			answers[i] = resp.GetSnapshots()
		})
	}
	wg.Wait()
	var out [][]*topologyv1.Snapshot
	for _, a := range answers {
		if a != nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// probeNow asks every discovery member to probe keys now and returns, per
// key, the best answer: the newest snapshot that reached the server, or
// the newest of all when none did.
func (s *Service) probeNow(ctx context.Context, keys []topology.InstanceKey) ([]*topologyv1.Snapshot, error) {
	answers, err := s.probeEvery(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*topologyv1.Snapshot, len(keys))
	for i := range keys {
		for _, a := range answers {
			if better(a[i], out[i]) {
				out[i] = a[i]
			}
		}
	}
	return out, nil
}

// better reports whether snapshot a is a better answer than b.
func better(a, b *topologyv1.Snapshot) bool {
	switch {
	case b == nil:
		return true
	case topology.IsGood(a) != topology.IsGood(b):
		return topology.IsGood(a)
	}
	return a.GetProbeFinished().AsTime().After(b.GetProbeFinished().AsTime())
}
