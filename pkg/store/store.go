// Package store is Vigil's persistence: the Store interface the services
// consume, its domain types, and the rules every implementation follows.
//
// Implementations live in sub-packages (memory, postgres) and are held to the
// same behaviour by the contract suite in storetest. Times are returned in UTC
// with microsecond precision, the precision PostgreSQL keeps.
package store

import (
	"context"
	"errors"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// ErrNotFound is wrapped by errors about an instance or setting that is not stored.
var ErrNotFound = errors.New("not found")

// ErrInvalidArgument is wrapped by errors about input a Store refuses, such as a
// snapshot without a key or a member listed in two clusters. The message names
// the offending field.
var ErrInvalidArgument = errors.New("invalid argument")

// Store persists what Vigil knows about instances and clusters. It is safe for
// concurrent use.
type Store interface {
	// SaveSnapshots upserts the latest snapshot of each instance in one batch
	// (one round trip / transaction, not one per row). For duplicate keys in
	// one batch the one with the later probe_finished wins (the later in the
	// slice on a tie). An older snapshot (by probe_finished) never overwrites
	// a newer one already stored; one with the same probe_finished does.
	// LastSeen moves only for reachable snapshots, and only forwards: to the
	// latest probe_finished of any reachable snapshot saved, even one that
	// lost to a newer unreachable snapshot. An empty batch is a no-op. Every
	// snapshot needs a valid key and a probe_finished, or the whole batch is
	// refused with ErrInvalidArgument.
	SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error

	// ListInstances returns every stored instance, ordered by host, then port.
	ListInstances(ctx context.Context) ([]Instance, error)

	// GetInstance returns one instance, or an error wrapping ErrNotFound.
	GetInstance(ctx context.Context, key topology.InstanceKey) (Instance, error)

	// DeleteInstance forgets one instance, or returns an error wrapping
	// ErrNotFound when it is not stored.
	DeleteInstance(ctx context.Context, key topology.InstanceKey) error

	// ReplaceClusters replaces the whole set of clusters and the instances'
	// cluster assignment in one transaction: stored instances listed as
	// members get that cluster, all others get "". Members that are not
	// stored instances are ignored. Cluster names must be unique and not
	// empty, and an instance may be a member of one cluster only
	// (ErrInvalidArgument).
	ReplaceClusters(ctx context.Context, clusters []Cluster) error

	// ListClusters returns the clusters ordered by name, each with the stored
	// instances assigned to it as Members, ordered by key.
	ListClusters(ctx context.Context) ([]Cluster, error)

	// GetGlobalRecoveries returns the global recovery switch; Enabled is true
	// when it was never set.
	GetGlobalRecoveries(ctx context.Context) (GlobalRecoveries, error)

	// SetGlobalRecoveries stores the global recovery switch. A zero UpdatedAt
	// is stored as the current time.
	SetGlobalRecoveries(ctx context.Context, g GlobalRecoveries) error

	// Close releases the store's resources. The store is unusable afterwards.
	Close()
}
