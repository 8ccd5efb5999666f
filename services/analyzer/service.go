// Package analyzer is the analyzer service: it follows the snapshot streams of
// every discovery member, keeps the replication graph of every cluster,
// analyses each cluster whenever a snapshot changes it, emits failure
// events and answers topology queries.
package analyzer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/fanout"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
	"github.com/vigil-db/vigil/services/analyzer/detect"
	"github.com/vigil-db/vigil/services/analyzer/view"
)

// Store is the persistence the analyzer needs.
type Store interface {
	ReplaceClusters(ctx context.Context, clusters []store.Cluster) error
	SaveDetections(ctx context.Context, ds []*analyzerv1.Detection) error
	ListDetections(ctx context.Context, f store.DetectionFilter) ([]*analyzerv1.Detection, string, error)
	ListDowntimes(ctx context.Context, now time.Time) ([]store.Downtime, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store Store
	// Coordinator is where discovery members register; the analyzer
	// follows them when no discovery_addrs are configured.
	Coordinator coord.Coordinator
	Logger      *slog.Logger
}

// Service is one analyzer process.
type Service struct {
	cfg     Config
	store   Store
	log     *slog.Logger
	state   *view.State
	tracker *detect.Tracker
	// events holds the active detections for the failure event streams; a
	// cleared detection is removed with its final state as last word.
	events *fanout.Hub[string, *analyzerv1.Detection]
	ignore []*regexp.Regexp
	// stopping is closed when Run's context ends, to end open streams.
	stopping chan struct{}
	// ready is closed once every discovery member's stream has synced and
	// the first analysis of everything it said is done: until then the
	// analyzer knows too little to answer (an empty answer means healthy).
	ready chan struct{}

	// sources are the discovery members followed, with a client each for
	// emergency reads.
	sources  *sources
	coord    coord.Coordinator
	throttle *throttle
	// background runs the emergency reads and restarts; Run waits for it.
	background sync.WaitGroup

	downtimes atomic.Pointer[map[topology.InstanceKey]time.Time]

	mu       sync.Mutex
	warnings map[string][]analysis.Warning // by cluster
	held     map[string]*heldCluster       // clusters left unanalysed, by name
	unsaved  []*analyzerv1.Detection       // detection changes not yet in the store
}

// heldCluster is a cluster left unanalysed for lack of evidence.
type heldCluster struct {
	since  time.Time
	warned bool
}

// New returns an analyzer. It starts nothing: call Run.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.DiscoveryAddrs) == 0 && deps.Coordinator == nil {
		return nil, errors.New("analyzer.discovery_addrs: empty, and no coordinator to find the discovery members on")
	}
	s := &Service{
		cfg:      cfg,
		store:    deps.Store,
		log:      deps.Logger.With("service", "analyzer"),
		state:    view.NewState(cfg.ClusterAliases),
		tracker:  detect.NewTracker(),
		events:   fanout.New[string, *analyzerv1.Detection](cfg.EventBuffer),
		stopping: make(chan struct{}),
		ready:    make(chan struct{}),
		throttle: newThrottle(),
		coord:    deps.Coordinator,
		sources: &sources{static: cfg.DiscoveryAddrs, clients: map[string]discoveryv1.DiscoveryServiceClient{},
			feeds: map[string]context.CancelFunc{}},
		warnings: make(map[string][]analysis.Warning),
		held:     make(map[string]*heldCluster),
	}
	for _, p := range cfg.IgnoreInstances {
		s.ignore = append(s.ignore, regexp.MustCompile(p)) // validated in Config.Validate
	}
	empty := map[topology.InstanceKey]time.Time{}
	s.downtimes.Store(&empty)
	return s, nil
}

// Register registers the gRPC handlers.
func (s *Service) Register(srv *grpc.Server) {
	topologyv1.RegisterTopologyServiceServer(srv, &topologyServer{svc: s})
	analyzerv1.RegisterAnalyzerServiceServer(srv, &analyzerServer{svc: s})
}

// Ready is closed once the analyzer has synced with every discovery member
// and analysed what they said.
func (s *Service) Ready() <-chan struct{} { return s.ready }

// NotReady says why the analyzer cannot answer yet.
func (s *Service) NotReady() error {
	return fmt.Errorf("analyzer is not ready: %s; an answer now would be incomplete", s.describeSources())
}

// Run loads the active detections, follows every discovery member,
// analyses, and persists until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	if err := s.loadDetections(ctx); err != nil {
		return fmt.Errorf("analyzer: %w", err)
	}
	var wg sync.WaitGroup
	defer s.background.Wait()
	defer s.sources.wg.Wait()
	defer wg.Wait()
	if len(s.cfg.DiscoveryAddrs) == 0 {
		s.sources.view = shard.Follow(ctx, s.coord)
	}
	wg.Go(func() { s.followSources(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		close(s.stopping)
	})
	wg.Go(func() { s.refreshDowntimes(ctx) })
	wg.Go(func() { s.persistDetections(ctx) })
	wg.Go(func() { s.analysisLoop(ctx) })
	s.persistClusters(ctx)
	return nil
}
