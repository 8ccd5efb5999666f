// Package analyzer is the analyzer service: it follows the snapshot streams of
// every discovery member, keeps the replication graph of every cluster,
// analyses each cluster whenever a snapshot changes it, emits failure
// events and answers topology queries.
package analyzer

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/fanout"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
	"github.com/vigil-db/vigil/services/analyzer/detect"
	"github.com/vigil-db/vigil/services/analyzer/feed"
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
	Store  Store
	Logger *slog.Logger
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

	// discovery holds a client per discovery member, for emergency reads.
	discovery []discoveryv1.DiscoveryServiceClient
	throttle  *throttle
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
	return fmt.Errorf("analyzer is not ready: synced with %d of %d discovery members (%s); an answer now would be incomplete",
		s.state.SyncedOnce(), len(s.cfg.DiscoveryAddrs), strings.Join(s.cfg.DiscoveryAddrs, ", "))
}

// Run loads the active detections, follows every discovery member,
// analyses, and persists until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	if err := s.loadDetections(ctx); err != nil {
		return fmt.Errorf("analyzer: %w", err)
	}
	var wg sync.WaitGroup
	defer s.background.Wait()
	defer wg.Wait()
	for _, addr := range s.cfg.DiscoveryAddrs {
		conn, err := grpcx.Dial(addr)
		if err != nil {
			return fmt.Errorf("analyzer: %w", err)
		}
		defer conn.Close()
		client := discoveryv1.NewDiscoveryServiceClient(conn)
		s.discovery = append(s.discovery, client)
		f := &feed.Feed{
			Source:     addr,
			Client:     client,
			Subscriber: s.cfg.Name,
			Sink:       s.state,
			Log:        s.log,
			MinBackoff: s.cfg.ReconnectMin,
			MaxBackoff: s.cfg.ReconnectMax,
		}
		wg.Go(func() { _ = f.Run(ctx) })
	}
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
