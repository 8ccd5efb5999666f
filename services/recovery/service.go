// Package recovery is the recovery service: it acts on failures and answers
// for what it did. So far it holds the global switch for automated recoveries
// and instance downtimes.
package recovery

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// Store is the persistence the recovery service needs.
type Store interface {
	// GetInstance returns an error wrapping store.ErrNotFound for an
	// instance Vigil has never discovered.
	GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error)
	GetGlobalRecoveries(ctx context.Context) (store.GlobalRecoveries, error)
	SetGlobalRecoveries(ctx context.Context, g store.GlobalRecoveries) error
	BeginDowntime(ctx context.Context, d store.Downtime) error
	EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error
	ListDowntimes(ctx context.Context, now time.Time) ([]store.Downtime, error)
}

// Deps are the service's collaborators.
type Deps struct {
	Store  Store
	Logger *slog.Logger
}

// Service is one recovery process.
type Service struct {
	cfg   Config
	store Store
	log   *slog.Logger
}

// New returns a recovery service.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, store: deps.Store, log: deps.Logger.With("service", "recovery")}, nil
}

// Register registers the gRPC handlers.
func (s *Service) Register(srv *grpc.Server) {
	recoveryv1.RegisterRecoveryServiceServer(srv, &server{svc: s})
}

// Run waits until ctx is done; the service has no background work yet.
func (s *Service) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
