// Package memory is a Store kept in process memory: for unit tests and for
// running Vigil without a database (vigil --store=memory). Nothing survives
// the process.
package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Store is an in-memory store.Store. Values go in and come out as deep
// copies, so callers never share state with the store.
type Store struct {
	mu         sync.Mutex
	instances  map[topology.InstanceKey]store.Instance
	clusters   map[string]store.Cluster // Members unused: they follow from instances
	recoveries *store.GlobalRecoveries  // nil until set
	detections map[string]*analyzerv1.Detection
	downtimes  map[topology.InstanceKey]store.Downtime
	candidates map[topology.InstanceKey]store.Candidate
	// registered holds the instances registered by key alone.
	registered map[topology.InstanceKey]bool
	// recoveryRows holds the recovery audit; recoveries is the global switch.
	recoveryRows map[string]*recoveryv1.Recovery
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		instances:    make(map[topology.InstanceKey]store.Instance),
		clusters:     make(map[string]store.Cluster),
		detections:   make(map[string]*analyzerv1.Detection),
		downtimes:    make(map[topology.InstanceKey]store.Downtime),
		candidates:   make(map[topology.InstanceKey]store.Candidate),
		registered:   make(map[topology.InstanceKey]bool),
		recoveryRows: make(map[string]*recoveryv1.Recovery),
	}
}

// SaveSnapshots implements store.Store.
func (s *Store) SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error {
	rows, err := rules.LatestSnapshots(snaps)
	if err != nil {
		return fmt.Errorf("save snapshots: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save snapshots: %w", err)
	}
	now := rules.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, row := range rows {
		inst, ok := s.instances[row.Key]
		if !ok {
			inst = store.Instance{Key: row.Key, FirstSeen: row.Finished}
		}
		if !ok || !row.Finished.Before(rules.Time(inst.Snapshot.GetProbeFinished().AsTime())) {
			inst.Snapshot = proto.CloneOf(row.Latest)
			inst.UpdatedAt = now
		}
		if row.LastGood != nil && (inst.LastGood == nil || !row.LastGoodAt.Before(inst.LastSeen)) {
			inst.LastGood, inst.LastSeen = proto.CloneOf(row.LastGood), row.LastGoodAt
		}
		s.instances[row.Key] = inst
	}
	return nil
}

// ListInstances implements store.Store.
func (s *Store) ListInstances(ctx context.Context) ([]store.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]store.Instance, 0, len(s.instances))
	for _, inst := range s.instances {
		out = append(out, copyInstance(inst))
	}
	slices.SortFunc(out, func(a, b store.Instance) int { return rules.CompareKeys(a.Key, b.Key) })
	return out, nil
}

// GetInstance implements store.Store.
func (s *Store) GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error) {
	if err := ctx.Err(); err != nil {
		return store.Instance{}, fmt.Errorf("get instance %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.instances[key]
	if !ok {
		return store.Instance{}, fmt.Errorf("get instance %s: %w", key, store.ErrNotFound)
	}
	return copyInstance(inst), nil
}

// DeleteInstance implements store.Store.
func (s *Store) DeleteInstance(ctx context.Context, key topology.InstanceKey) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete instance %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, stored := s.instances[key]
	if !stored && !s.registered[key] {
		return fmt.Errorf("delete instance %s: %w", key, store.ErrNotFound)
	}
	delete(s.instances, key)
	delete(s.registered, key)
	return nil
}

// ReplaceClusters implements store.Store.
func (s *Store) ReplaceClusters(ctx context.Context, clusters []store.Cluster) error {
	assigned, err := rules.Assignments(clusters)
	if err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters = make(map[string]store.Cluster, len(clusters))
	for _, c := range clusters {
		c.Members = nil
		s.clusters[c.Name] = c
	}
	for key, inst := range s.instances {
		inst.Cluster = assigned[key]
		s.instances[key] = inst
	}
	return nil
}

// ListClusters implements store.Store.
func (s *Store) ListClusters(ctx context.Context) ([]store.Cluster, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	members := make(map[string][]topology.InstanceKey)
	for key, inst := range s.instances {
		if inst.Cluster != "" {
			members[inst.Cluster] = append(members[inst.Cluster], key)
		}
	}
	out := make([]store.Cluster, 0, len(s.clusters))
	for name, c := range s.clusters {
		c.Members = members[name]
		slices.SortFunc(c.Members, rules.CompareKeys)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b store.Cluster) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GetGlobalRecoveries implements store.Store.
func (s *Store) GetGlobalRecoveries(ctx context.Context) (store.GlobalRecoveries, error) {
	if err := ctx.Err(); err != nil {
		return store.GlobalRecoveries{}, fmt.Errorf("get global recoveries: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recoveries == nil {
		return store.GlobalRecoveries{Enabled: true}, nil
	}
	return *s.recoveries, nil
}

// SetGlobalRecoveries implements store.Store.
func (s *Store) SetGlobalRecoveries(ctx context.Context, g store.GlobalRecoveries) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("set global recoveries: %w", err)
	}
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = rules.Now()
	}
	g.UpdatedAt = rules.Time(g.UpdatedAt)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recoveries = &g
	return nil
}

// Close implements store.Store; it does nothing.
func (s *Store) Close() {}

func copyInstance(inst store.Instance) store.Instance {
	inst.Snapshot = proto.CloneOf(inst.Snapshot)
	inst.LastGood = proto.CloneOf(inst.LastGood)
	return inst
}
