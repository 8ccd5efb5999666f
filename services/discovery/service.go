// Package discovery is the discovery service: it probes MySQL and MariaDB
// servers, crawls from seeds to whole replication trees, persists the latest
// snapshot of each instance and streams every snapshot to the analyzers.
package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/fanout"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/discovery/poll"
)

// Store is the persistence the discovery service needs.
type Store interface {
	SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error
	ListInstances(ctx context.Context) ([]store.Instance, error)
	ListInstanceKeys(ctx context.Context) ([]topology.InstanceKey, error)
	RegisterInstances(ctx context.Context, keys []topology.InstanceKey) error
	GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error)
	DeleteInstance(ctx context.Context, key topology.InstanceKey) error
	ListCandidates(ctx context.Context, now time.Time) ([]store.Candidate, error)
	ListClusters(ctx context.Context) ([]store.Cluster, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store Store
	// Coordinator, when set, shares the probing with the other discovery
	// members registered on it; without one this member probes everything.
	Coordinator coord.Coordinator
	Credentials mysql.Credentials
	Logger      *slog.Logger
}

// Service is one discovery process.
type Service struct {
	cfg    Config
	store  Store
	coord  coord.Coordinator
	ring   *shard.Ring // nil without a coordinator
	log    *slog.Logger
	prober *mysql.Prober
	poller *poll.Poller
	// hub holds the latest snapshot of every watched instance for the
	// snapshot streams. A removal with no last word is a forgotten
	// instance; one with the latest snapshot as last word is an instance
	// released to the members that own it now.
	hub *fanout.Hub[topology.InstanceKey, *topologyv1.Snapshot]
	// stopping is closed when Run's context ends, to end open streams.
	stopping chan struct{}
	// firstProbes is done once Run probed every instance it resumed; the
	// snapshot streams wait for it.
	firstProbes *firstPass

	mu sync.Mutex
	// pending holds the snapshots not yet written to the store.
	pending map[topology.InstanceKey]*topologyv1.Snapshot
	// states holds what is remembered of each instance besides its latest
	// snapshot.
	states map[topology.InstanceKey]*instanceState
	// registered holds the promotion rules operators registered.
	registered map[topology.InstanceKey]topologyv1.PromotionRule
	// known holds every instance known to any member, with when it was
	// last seen in the shared registry (zero: not registered yet). The
	// poller watches those this member owns.
	known map[topology.InstanceKey]time.Time

	live liveness
}

// New returns a discovery service. It starts nothing: call Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := cfg.Classification
	prober, err := mysql.NewProber(mysql.ProberConfig{
		Credentials:    deps.Credentials,
		ConnectTimeout: cfg.ConnectTimeout,
		ReadTimeout:    cfg.ReadTimeout,
		ObserverID:     cfg.MemberID,
		ObserverDomain: cfg.Domain,
		LagQuery:       cfg.LagQuery,
		SourceAddr:     cfg.SourceAddr,
		Classification: mysql.ClassificationConfig{
			ClusterAliasQuery:        c.ClusterAliasQuery,
			ClusterDomainQuery:       c.ClusterDomainQuery,
			DataCenterQuery:          c.DataCenterQuery,
			DataCenterPattern:        c.DataCenterPattern,
			RegionQuery:              c.RegionQuery,
			RegionPattern:            c.RegionPattern,
			PhysicalEnvironmentQuery: c.PhysicalEnvironmentQuery,
			PromotionRuleQuery:       c.PromotionRuleQuery,
			InstanceAliasQuery:       c.InstanceAliasQuery,
			PromotionRulePatterns:    c.PromotionRulePatterns,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	s := &Service{
		cfg:         cfg,
		store:       deps.Store,
		coord:       deps.Coordinator,
		log:         deps.Logger.With("service", "discovery"),
		prober:      prober,
		hub:         fanout.New[topology.InstanceKey, *topologyv1.Snapshot](cfg.StreamBuffer),
		stopping:    make(chan struct{}),
		firstProbes: newFirstPass(),
		pending:     make(map[topology.InstanceKey]*topologyv1.Snapshot),
		states:      make(map[topology.InstanceKey]*instanceState),
		known:       make(map[topology.InstanceKey]time.Time),
	}
	s.poller = poll.New(cfg.PollInterval, cfg.Workers, prober, s.handle)
	return s, nil
}

// Register registers the gRPC handlers.
func (s *Service) Register(srv *grpc.Server) {
	discoveryv1.RegisterDiscoveryServiceServer(srv, &server{svc: s})
}

// Run joins the discovery members, resumes from the instances in the store
// and the configured seeds, then probes what it owns until ctx is done.
// Snapshots still pending are written before it returns.
func (s *Service) Run(ctx context.Context) error {
	defer s.prober.Close()
	stored, err := s.store.ListInstances(ctx)
	if err != nil {
		return fmt.Errorf("discovery: resume from store: %w", err)
	}
	keys, err := s.store.ListInstanceKeys(ctx)
	if err != nil {
		return fmt.Errorf("discovery: resume from store: %w", err)
	}
	if err := s.join(ctx); err != nil {
		return err
	}
	if s.ring != nil {
		defer s.ring.Close()
	}
	now := time.Now()
	s.mu.Lock()
	for _, inst := range stored {
		s.states[inst.Key] = &instanceState{lastGood: inst.LastGood}
	}
	for _, k := range keys {
		s.known[k] = now
	}
	s.mu.Unlock()
	var seeds []topology.InstanceKey
	for _, seed := range s.cfg.Seeds {
		key, _ := topology.ParseInstanceKey(seed) // validated in Config.Validate
		seeds = append(seeds, key)
	}
	s.learn(ctx, seeds)
	s.reconcile()
	if err := s.refreshCandidates(ctx); err != nil {
		s.log.Warn("registered promotion rules unreadable; probes carry the classified ones", "err", err)
	}
	s.firstProbes.start(s.poller.Keys(), s.cfg.PollInterval+s.cfg.ConnectTimeout+s.cfg.ReadTimeout)
	s.log.Info("discovery started", "known", len(keys), "owned", s.poller.Len(), "seeds", len(s.cfg.Seeds), "member", s.cfg.MemberID)

	s.live.start(ctx)
	defer s.live.wait()
	var wg sync.WaitGroup
	wg.Go(func() { s.persistLoop(ctx) })
	wg.Go(func() { s.candidateLoop(ctx) })
	wg.Go(func() { s.membershipLoop(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		close(s.stopping)
	})
	err = s.poller.Run(ctx)
	wg.Wait()
	return err
}

// handle takes every completed probe: publish, queue for the store, crawl.
func (s *Service) handle(snap *topologyv1.Snapshot) {
	key, err := topology.KeyFromProto(snap.GetKey())
	if err != nil || !s.poller.Has(key) {
		// Forgotten while the probe ran.
		return
	}
	s.applyCandidate(key, snap)
	s.watchLiveness(key, snap)
	s.firstProbes.probed(key)
	s.remember(key, snap)
	s.hub.Set(key, snap)
	s.mu.Lock()
	s.pending[key] = snap
	s.mu.Unlock()
	s.crawl(snap)
}

// crawl registers the source and the replicas a server reports, so one seed
// finds a whole tree.
func (s *Service) crawl(snap *topologyv1.Snapshot) {
	if !snap.GetReachable() {
		return
	}
	var found []*topologyv1.InstanceKey
	for _, ch := range snap.GetChannels() {
		found = append(found, ch.GetSource())
	}
	for _, r := range snap.GetReplicas() {
		found = append(found, r.GetKey())
	}
	var keys []topology.InstanceKey
	for _, pk := range found {
		if key, err := topology.KeyFromProto(pk); err == nil {
			keys = append(keys, key)
		}
	}
	fresh := s.learn(context.Background(), keys)
	if len(fresh) == 0 {
		return // the usual case: every neighbour is known
	}
	owns := s.ownership()
	for _, key := range fresh {
		s.log.Info("instance discovered", "instance", key.String(), "via", keyOf(snap).String(), "owned", owns(key))
		if owns(key) {
			s.poller.Add(key)
		}
	}
}

// forget stops watching key and deletes it from the store. It reports
// whether the instance was known at all.
func (s *Service) forget(ctx context.Context, key topology.InstanceKey) (bool, error) {
	known := s.drop(key)
	err := s.store.DeleteInstance(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return known, nil
	default:
		return known, fmt.Errorf("forget %s: %w", key, err)
	}
}

// drop forgets key here: no probe, no watch, and the analyzers told it is
// gone. It reports whether the instance was known.
func (s *Service) drop(key topology.InstanceKey) bool {
	watched := s.poller.Remove(key)
	s.stopWatch(key)
	_ = s.prober.Forget(key)
	s.hub.Remove(key, nil)
	s.mu.Lock()
	_, known := s.known[key]
	delete(s.known, key)
	delete(s.pending, key)
	delete(s.states, key)
	s.mu.Unlock()
	return known || watched
}
