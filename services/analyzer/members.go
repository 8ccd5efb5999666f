package analyzer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	"github.com/vigil-db/vigil/services/analyzer/feed"
)

// sources are the discovery members the analyzer follows: the configured
// addresses, or, when there are none, the members registered on the
// coordinator, followed as they come and go.
type sources struct {
	static []string
	view   *shard.Members // nil with static addresses

	mu      sync.Mutex
	clients map[string]discoveryv1.DiscoveryServiceClient // by address
	feeds   map[string]context.CancelFunc
	wg      sync.WaitGroup
}

// followSources starts a feed per discovery member and, with members from
// the coordinator, keeps the feeds in line with the members until ctx
// ends. The feeds run until ctx ends; sources.wg waits for them.
func (s *Service) followSources(ctx context.Context) {
	src := s.sources
	if src.view == nil {
		for _, addr := range src.static {
			src.start(ctx, s, addr)
		}
		return
	}
	for {
		changed := src.view.Changed()
		want := map[string]bool{}
		for _, m := range src.view.List() {
			want[m.Addr] = true
		}
		src.mu.Lock()
		for addr, cancel := range src.feeds {
			if !want[addr] {
				cancel()
				delete(src.feeds, addr)
				delete(src.clients, addr)
				s.log.Info("discovery member left: snapshot stream closed", "source", addr)
			}
		}
		src.mu.Unlock()
		for addr := range want {
			src.start(ctx, s, addr)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// start follows the member at addr, unless it is followed already.
func (src *sources) start(ctx context.Context, s *Service, addr string) {
	src.mu.Lock()
	defer src.mu.Unlock()
	if _, ok := src.feeds[addr]; ok {
		return
	}
	conn, err := grpcx.Dial(addr)
	if err != nil {
		s.log.Error("discovery member address unusable", "source", addr, "err", err)
		return
	}
	fctx, cancel := context.WithCancel(ctx)
	src.feeds[addr] = cancel
	src.clients[addr] = discoveryv1.NewDiscoveryServiceClient(conn)
	f := &feed.Feed{
		Source:     addr,
		Client:     src.clients[addr],
		Subscriber: s.cfg.Name,
		Sink:       s.state,
		Log:        s.log,
		MinBackoff: s.cfg.ReconnectMin,
		MaxBackoff: s.cfg.ReconnectMax,
	}
	src.wg.Go(func() {
		defer conn.Close()
		_ = f.Run(fctx)
	})
	s.state.Notify() // the readiness check counts the members followed
}

// addrs returns the addresses followed now.
func (src *sources) addrs() []string {
	src.mu.Lock()
	defer src.mu.Unlock()
	return slices.Sorted(maps.Keys(src.feeds))
}

// route groups keys by the members that should read them: their owners,
// or every member with static addresses.
func (src *sources) route(keys []topology.InstanceKey) map[string][]topology.InstanceKey {
	out := map[string][]topology.InstanceKey{}
	if src.view == nil {
		for _, addr := range src.addrs() {
			out[addr] = keys
		}
		return out
	}
	for _, k := range keys {
		for _, owner := range src.view.Owners(k.String()) {
			out[owner.Addr] = append(out[owner.Addr], k)
		}
	}
	return out
}

// client returns the client of the member at addr.
func (src *sources) client(addr string) (discoveryv1.DiscoveryServiceClient, bool) {
	src.mu.Lock()
	defer src.mu.Unlock()
	c, ok := src.clients[addr]
	return c, ok
}

// synced reports whether every member followed has synced once: before
// that the analyzer knows too little to answer.
func (s *Service) synced() bool {
	addrs := s.sources.addrs()
	if len(addrs) == 0 {
		return false
	}
	for _, addr := range addrs {
		if !s.state.HasSynced(addr) {
			return false
		}
	}
	return true
}

// describeSources says which members are followed and which synced.
func (s *Service) describeSources() string {
	addrs := s.sources.addrs()
	synced := 0
	for _, addr := range addrs {
		if s.state.HasSynced(addr) {
			synced++
		}
	}
	if s.sources.view != nil && len(addrs) == 0 {
		return "no discovery member registered on the coordinator yet"
	}
	return fmt.Sprintf("synced with %d of %d discovery members (%v)", synced, len(addrs), addrs)
}
