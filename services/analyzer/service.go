// Package analyzer is the analyzer service: it follows the snapshot streams of
// every discovery member, keeps the replication graph of every cluster and
// answers topology queries.
package analyzer

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/feed"
	"github.com/vigil-db/vigil/services/analyzer/view"
)

// Store is the persistence the analyzer needs.
type Store interface {
	ReplaceClusters(ctx context.Context, clusters []store.Cluster) error
}

// Deps are the service's collaborators.
type Deps struct {
	Store  Store
	Logger *slog.Logger
}

// Service is one analyzer process.
type Service struct {
	cfg   Config
	store Store
	log   *slog.Logger
	state *view.State

	mu     sync.Mutex
	synced map[string]bool // discovery sources that completed an initial sync
}

// New returns an analyzer. It starts nothing: call Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{
		cfg:    cfg,
		store:  deps.Store,
		log:    deps.Logger.With("service", "analyzer"),
		state:  view.NewState(),
		synced: make(map[string]bool),
	}, nil
}

// Register registers the gRPC handlers.
func (s *Service) Register(srv *grpc.Server) {
	topologyv1.RegisterTopologyServiceServer(srv, &topologyServer{svc: s})
}

// Synced reports whether every discovery member's stream has delivered its
// initial state at least once.
func (s *Service) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.synced) == len(s.cfg.DiscoveryAddrs)
}

// Run follows every discovery member and persists cluster membership until
// ctx is done.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, addr := range s.cfg.DiscoveryAddrs {
		conn, err := grpcx.Dial(addr)
		if err != nil {
			return fmt.Errorf("analyzer: %w", err)
		}
		defer conn.Close()
		f := &feed.Feed{
			Source:     addr,
			Client:     discoveryv1.NewDiscoveryServiceClient(conn),
			Subscriber: s.cfg.Name,
			Sink:       s.state,
			Log:        s.log,
			MinBackoff: s.cfg.ReconnectMin,
			MaxBackoff: s.cfg.ReconnectMax,
			OnSynced: func(source string, _ int) {
				s.mu.Lock()
				s.synced[source] = true
				s.mu.Unlock()
			},
		}
		wg.Go(func() { _ = f.Run(ctx) })
	}
	s.persistLoop(ctx)
	return nil
}

// persistLoop writes the cluster list whenever it changed.
func (s *Service) persistLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.PersistInterval)
	defer tick.Stop()
	var written []store.Cluster
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		clusters := storeClusters(s.state.View())
		if slices.EqualFunc(clusters, written, sameCluster) {
			continue
		}
		if err := s.store.ReplaceClusters(ctx, clusters); err != nil {
			s.log.Warn("saving clusters failed, will retry", "err", err)
			continue
		}
		written = clusters
	}
}

func storeClusters(v *view.View) []store.Cluster {
	out := make([]store.Cluster, 0, len(v.Graph.Clusters))
	for _, c := range v.Graph.Clusters {
		out = append(out, store.Cluster{Name: c.Name, Alias: c.Alias, Domain: c.Domain, Master: c.Master, Members: c.Members})
	}
	slices.SortFunc(out, func(a, b store.Cluster) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

func sameCluster(a, b store.Cluster) bool {
	return a.Name == b.Name && a.Alias == b.Alias && a.Domain == b.Domain && a.Master == b.Master && slices.Equal(a.Members, b.Members)
}
