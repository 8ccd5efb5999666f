// Package rules holds the input checks and batch rules that every Store
// implementation applies, so that they behave alike.
package rules

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Snapshot is the part of a batch that concerns one instance.
type Snapshot struct {
	Key topology.InstanceKey
	// Latest is the snapshot to store, Finished its probe_finished and
	// Reachable whether it reached the instance.
	Latest    *topologyv1.Snapshot
	Finished  time.Time
	Reachable bool
	// LastGood is the instance's latest good snapshot in the batch
	// (topology.IsGood), which may be older than Latest; nil if none.
	// LastGoodAt is its probe_finished.
	LastGood   *topologyv1.Snapshot
	LastGoodAt time.Time
}

// Time returns t in UTC truncated to microseconds, the precision every Store keeps.
func Time(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// Now returns the current time as Time returns it.
func Now() time.Time { return Time(time.Now()) }

// LatestSnapshots checks a batch for SaveSnapshots and reduces it to one
// entry per instance: the latest snapshot by probe_finished (the later in the
// batch on a tie) and the latest good one. Entries are ordered by key
// so that concurrent batches lock rows in the same order.
func LatestSnapshots(snaps []*topologyv1.Snapshot) ([]Snapshot, error) {
	latest := make(map[topology.InstanceKey]Snapshot, len(snaps))
	for i, s := range snaps {
		if s == nil {
			return nil, fmt.Errorf("%w: snapshot %d is nil", store.ErrInvalidArgument, i)
		}
		key, err := topology.KeyFromProto(s.GetKey())
		if err != nil {
			return nil, fmt.Errorf("%w: snapshot %d: key: %w", store.ErrInvalidArgument, i, err)
		}
		if s.GetProbeFinished() == nil {
			return nil, fmt.Errorf("%w: snapshot %d of %s: probe_finished is missing", store.ErrInvalidArgument, i, key)
		}
		if err := s.GetProbeFinished().CheckValid(); err != nil {
			return nil, fmt.Errorf("%w: snapshot %d of %s: probe_finished: %w", store.ErrInvalidArgument, i, key, err)
		}
		finished := Time(s.GetProbeFinished().AsTime())
		row, seen := latest[key]
		if !seen || !finished.Before(row.Finished) {
			row.Key, row.Latest, row.Finished, row.Reachable = key, s, finished, s.GetReachable()
		}
		if topology.IsGood(s) && (row.LastGood == nil || !finished.Before(row.LastGoodAt)) {
			row.LastGood, row.LastGoodAt = s, finished
		}
		latest[key] = row
	}
	rows := make([]Snapshot, 0, len(latest))
	for _, row := range latest {
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Snapshot) int { return CompareKeys(a.Key, b.Key) })
	return rows, nil
}

// CompareKeys orders keys by host (bytewise, as PostgreSQL's "C" collation
// does), then port.
func CompareKeys(a, b topology.InstanceKey) int {
	return cmp.Or(cmp.Compare(a.Host, b.Host), cmp.Compare(a.Port, b.Port))
}

// Assignments checks the input of ReplaceClusters (names unique and not
// empty, master and member keys valid, every member in one cluster only) and
// returns the cluster of each member.
func Assignments(clusters []store.Cluster) (map[topology.InstanceKey]string, error) {
	names := make(map[string]bool, len(clusters))
	memberOf := make(map[topology.InstanceKey]string)
	for i, c := range clusters {
		if c.Name == "" {
			return nil, fmt.Errorf("%w: cluster %d: name is empty", store.ErrInvalidArgument, i)
		}
		if names[c.Name] {
			return nil, fmt.Errorf("%w: cluster %q is listed twice", store.ErrInvalidArgument, c.Name)
		}
		names[c.Name] = true
		if !c.Master.IsZero() {
			if err := c.Master.Validate(); err != nil {
				return nil, fmt.Errorf("%w: cluster %q: master: %w", store.ErrInvalidArgument, c.Name, err)
			}
		}
		for _, m := range c.Members {
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("%w: cluster %q: member: %w", store.ErrInvalidArgument, c.Name, err)
			}
			if other, ok := memberOf[m]; ok && other != c.Name {
				return nil, fmt.Errorf("%w: instance %s is a member of clusters %q and %q", store.ErrInvalidArgument, m, other, c.Name)
			}
			memberOf[m] = c.Name
		}
	}
	return memberOf, nil
}

// ValidKeys checks the keys given to RegisterInstances.
func ValidKeys(keys []topology.InstanceKey) error {
	for i, k := range keys {
		if err := k.Validate(); err != nil {
			return fmt.Errorf("%w: keys[%d]: %w", store.ErrInvalidArgument, i, err)
		}
	}
	return nil
}
