// Package recovery is the recovery service: it follows the analyzers'
// failure events, and for a dead master or intermediate master takes the
// cluster's lock, checks its gates, re-checks the failure on fresh probes
// and recovers, recording every step and every decision not to act. It also
// holds the global switch for automated recoveries and instance downtimes.
package recovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/coord"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Store is the persistence the recovery service needs.
type Store interface {
	// GetInstance returns an error wrapping store.ErrNotFound for an
	// instance Vigil has never discovered.
	GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error)
	ListInstances(ctx context.Context) ([]store.Instance, error)
	GetGlobalRecoveries(ctx context.Context) (store.GlobalRecoveries, error)
	SetGlobalRecoveries(ctx context.Context, g store.GlobalRecoveries) error
	BeginDowntime(ctx context.Context, d store.Downtime) error
	EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error
	ListDowntimes(ctx context.Context, now time.Time) ([]store.Downtime, error)
	SaveRecovery(ctx context.Context, r *recoveryv1.Recovery) error
	GetRecovery(ctx context.Context, id string) (*recoveryv1.Recovery, error)
	ListRecoveries(ctx context.Context, f store.RecoveryFilter) ([]*recoveryv1.Recovery, string, error)
	AcknowledgeRecoveries(ctx context.Context, a store.Acknowledgement) (int, error)
	RegisterCandidate(ctx context.Context, c store.Candidate) error
	ListCandidates(ctx context.Context, now time.Time) ([]store.Candidate, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store Store
	// Coordinator holds the cluster locks and the published masters.
	Coordinator coord.Coordinator
	// Credentials log in to the MySQL servers it changes.
	Credentials mysql.Credentials
	Logger      *slog.Logger
}

// Service is one recovery process.
type Service struct {
	cfg       Config
	store     Store
	coord     coord.Coordinator
	mysql     *mysql.Prober
	log       *slog.Logger
	filters   []*regexp.Regexp
	conns     []*grpc.ClientConn
	analyzers []analyzerv1.AnalyzerServiceClient
	topology  []topologyv1.TopologyServiceClient
	discovery *discoveryMembers

	// runCtx lives from New until Run returns: recoveries and fencing
	// watches run in it.
	runCtx  context.Context
	stopRun context.CancelFunc
	wg      sync.WaitGroup

	// sessionMu guards session alone: starting a session waits on the
	// coordinator, and must not hold up the event streams.
	sessionMu sync.Mutex
	session   coord.Session

	mu sync.Mutex
	// active holds the recoverable detections the analyzers report active.
	active map[string]*analyzerv1.Detection
	// running and again serialise the handling of each cluster.
	running, again map[string]bool
	// done holds the active detections a recovery already ran for, so
	// that their later events need no lock and no store read.
	done map[string]bool
	// stopping is set when Run is about to wait for the recoveries under
	// way: nothing new may start.
	stopping bool
}

// New returns a recovery service.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Coordinator == nil {
		return nil, errors.New("recovery: no coordinator")
	}
	prober, err := mysql.NewProber(mysql.ProberConfig{Credentials: deps.Credentials})
	if err != nil {
		return nil, fmt.Errorf("recovery: %w", err)
	}
	s := &Service{
		cfg: cfg, store: deps.Store, coord: deps.Coordinator, mysql: prober,
		log: deps.Logger.With("service", "recovery"), filters: cfg.clusterFilters(),
		active: make(map[string]*analyzerv1.Detection), running: make(map[string]bool), again: make(map[string]bool), done: make(map[string]bool),
	}
	s.runCtx, s.stopRun = context.WithCancel(context.Background())
	for _, addr := range cfg.AnalyzerAddrs {
		conn, err := grpcx.Dial(addr)
		if err != nil {
			s.closeConns()
			return nil, fmt.Errorf("recovery.analyzer_addrs: %s: %w", addr, err)
		}
		s.conns = append(s.conns, conn)
		s.analyzers = append(s.analyzers, analyzerv1.NewAnalyzerServiceClient(conn))
		s.topology = append(s.topology, topologyv1.NewTopologyServiceClient(conn))
	}
	s.discovery = &discoveryMembers{static: cfg.DiscoveryAddrs, conns: map[string]*grpc.ClientConn{}}
	if len(cfg.DiscoveryAddrs) == 0 {
		s.discovery.view = shard.Follow(s.runCtx, deps.Coordinator)
	}
	return s, nil
}

// Register registers the gRPC handlers.
func (s *Service) Register(srv *grpc.Server) {
	recoveryv1.RegisterRecoveryServiceServer(srv, &server{svc: s})
}

// Run follows every analyzer and recovers what they report, until ctx is
// done; then it waits for recoveries under way to finish their current
// step and releases its locks.
func (s *Service) Run(ctx context.Context) error {
	covered := "every cluster"
	if len(s.cfg.Clusters) > 0 {
		covered = fmt.Sprintf("clusters matching %q", s.cfg.Clusters)
	}
	s.log.Info("automated recovery covers "+covered, "dry_run", s.cfg.DryRun, "block_period", s.cfg.BlockPeriod, "analyzers", s.cfg.AnalyzerAddrs)
	s.wg.Go(func() { s.resumeFencing(s.runCtx) })
	for _, d := range s.cfg.Drills {
		s.wg.Go(func() { s.drillLoop(s.runCtx, d) })
	}
	var follows sync.WaitGroup
	for i, c := range s.analyzers {
		follows.Go(func() { s.follow(ctx, s.cfg.AnalyzerAddrs[i], c) })
	}
	<-ctx.Done()
	s.stopRun()
	follows.Wait()
	s.mu.Lock()
	s.stopping = true // no schedule may add to s.wg once Wait has begun
	s.mu.Unlock()
	s.wg.Wait()
	s.sessionMu.Lock()
	if s.session != nil {
		_ = s.session.Close()
	}
	s.sessionMu.Unlock()
	s.closeConns()
	return s.mysql.Close()
}

// activeIn returns the active recoverable detections of a cluster, oldest first.
func (s *Service) activeIn(cluster string) []*analyzerv1.Detection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*analyzerv1.Detection
	for _, d := range s.active {
		if d.GetCluster() == cluster {
			out = append(out, d)
		}
	}
	sortByDetectedAt(out)
	return out
}

// reconsider schedules every cluster with an active recoverable detection,
// after something that may lift a gate (an acknowledgement, the global
// switch turned on).
func (s *Service) reconsider() {
	s.mu.Lock()
	clusters := make(map[string]bool)
	for _, d := range s.active {
		clusters[d.GetCluster()] = true
	}
	s.mu.Unlock()
	for c := range clusters {
		s.schedule(c)
	}
}

func (s *Service) closeConns() {
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
	if s.discovery != nil {
		s.discovery.close()
	}
}

// markDone records that a recovery ran for a detection.
func (s *Service) markDone(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[id] = true
}

func (s *Service) isDone(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done[id]
}
