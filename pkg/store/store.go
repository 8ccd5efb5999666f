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
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// ErrNotFound is wrapped by errors about an instance, setting or downtime
// that is not stored.
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
	// LastGood (and LastSeen, its probe_finished) moves only for good
	// snapshots (topology.IsGood), and only forwards: to the latest good
	// snapshot saved, even one that lost to a newer unreachable snapshot. An empty batch is a no-op. Every
	// snapshot needs a valid key and a probe_finished, or the whole batch is
	// refused with ErrInvalidArgument.
	SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error

	// ListInstances returns every stored instance, ordered by host, then port.
	ListInstances(ctx context.Context) ([]Instance, error)

	// GetInstance returns one instance, or an error wrapping ErrNotFound.
	GetInstance(ctx context.Context, key topology.InstanceKey) (Instance, error)

	// DeleteInstance forgets one instance, stored or only registered, or
	// returns an error wrapping ErrNotFound when it is neither.
	DeleteInstance(ctx context.Context, key topology.InstanceKey) error

	// RegisterInstances records instances discovery learned of, whether or
	// not they were probed yet, so that the discovery member that owns
	// each finds it. Registering a known instance changes nothing. An
	// invalid key refuses the whole batch with ErrInvalidArgument.
	RegisterInstances(ctx context.Context, keys []topology.InstanceKey) error

	// ListInstanceKeys returns the key of every known instance, stored or
	// only registered, ordered by host, then port.
	ListInstanceKeys(ctx context.Context) ([]topology.InstanceKey, error)

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

	// SaveDetections upserts detections by id in one batch (one
	// transaction). A detection's identity (code, cluster, cluster_alias,
	// instance, detected_at) is the one it was first saved with: later saves
	// update only state, changed_at, cleared_at, suggested_action,
	// description, evidence and downtimed, and their identity fields are
	// ignored. For duplicate ids in one batch the later in the slice wins,
	// with the identity of the first. The detection is stored as given,
	// nanoseconds included. An empty batch is a no-op. Every detection needs
	// an id, a code, a valid instance and a detected_at, its times must be
	// valid and its id, code, cluster and cluster_alias valid UTF-8 without
	// NUL, or the whole batch is refused with ErrInvalidArgument.
	SaveDetections(ctx context.Context, ds []*analyzerv1.Detection) error

	// ListDetections returns one page of the detections f selects, newest
	// first (detected_at at microsecond precision descending, then id
	// descending, bytewise), and the token of the next page, "" after the
	// last. A page token that no
	// ListDetections returned, a negative page size or an invalid instance
	// is refused with ErrInvalidArgument. Pages are read by keyset, so
	// detections saved between two calls do not shift later pages.
	ListDetections(ctx context.Context, f DetectionFilter) ([]*analyzerv1.Detection, string, error)

	// BeginDowntime records a downtime, replacing any the instance has, even
	// one in force. Its times are kept in UTC to the microsecond. The key must
	// be valid, StartedAt set, EndsAt after StartedAt at that precision, and
	// Owner and Reason valid UTF-8 without NUL and no longer than their
	// limits, or it is refused with ErrInvalidArgument.
	BeginDowntime(ctx context.Context, d Downtime) error

	// EndDowntime forgets the downtime of key. It returns an error wrapping
	// ErrNotFound when none is in force at now (EndsAt > now); an expired
	// one is forgotten all the same. The store keeps no history of
	// downtimes. An invalid key or a zero now is refused with
	// ErrInvalidArgument.
	EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error

	// ListDowntimes returns the downtimes in force at now (EndsAt > now),
	// ordered by key; a downtime that has not started yet is in force. A zero
	// now is refused with ErrInvalidArgument.
	ListDowntimes(ctx context.Context, now time.Time) ([]Downtime, error)

	// SaveRecovery upserts a recovery, with its steps, by id. Its id,
	// detection_id, cluster and cluster_alias must be valid UTF-8 without
	// NUL, the id and started_at set, or it is refused with
	// ErrInvalidArgument. The acknowledgement fields are kept as stored:
	// only AcknowledgeRecoveries changes them.
	SaveRecovery(ctx context.Context, r *recoveryv1.Recovery) error

	// GetRecovery returns one recovery with its steps, or an error
	// wrapping ErrNotFound.
	GetRecovery(ctx context.Context, id string) (*recoveryv1.Recovery, error)

	// ListRecoveries returns one page of the recoveries f selects, without
	// their steps, newest first (started_at at microsecond precision
	// descending, then id descending, bytewise), and the token of the next
	// page, "" after the last. Bad page tokens and negative sizes are
	// refused with ErrInvalidArgument.
	ListRecoveries(ctx context.Context, f RecoveryFilter) ([]*recoveryv1.Recovery, string, error)

	// AcknowledgeRecoveries sets the acknowledgement on every recovery of
	// a.Cluster (name or alias) and with a.ID (every recovery when both are
	// empty) not yet acknowledged, and returns how many it set. By and Comment must be
	// valid UTF-8 without NUL and At set, or it is refused with
	// ErrInvalidArgument.
	AcknowledgeRecoveries(ctx context.Context, a Acknowledgement) (int, error)

	// RegisterCandidate sets an instance's promotion rule registration,
	// replacing any earlier one, expired or not. Its times are kept in UTC
	// to the microsecond. A bad key, an undefined or UNSPECIFIED rule, By
	// over MaxCandidateBy characters or not valid UTF-8 without NUL, a
	// missing time or ExpiresAt not after RegisteredAt at that precision is
	// refused with ErrInvalidArgument and changes nothing.
	RegisterCandidate(ctx context.Context, c Candidate) error

	// ListCandidates returns the registrations in force at now (ExpiresAt
	// after now), ordered by host bytewise, then port. A zero now is
	// refused with ErrInvalidArgument.
	ListCandidates(ctx context.Context, now time.Time) ([]Candidate, error)

	// Close releases the store's resources. The store is unusable afterwards.
	Close()
}
