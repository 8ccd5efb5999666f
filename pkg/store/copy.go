package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// ErrNotEmpty is returned by Copy when the destination already holds state.
var ErrNotEmpty = errors.New("the destination store is not empty")

// copyBatch bounds how many rows one write of Copy carries.
const copyBatch = 1000

// Copied counts what Copy moved.
type Copied struct {
	Instances, Registered, Clusters, Detections, Recoveries, Downtimes, Candidates int
	GlobalSwitch                                                                   bool
}

// Copy copies the durable state of from into to, which must be empty:
// instances with their latest and last good snapshots, the registry of
// known instances, clusters, the global recovery switch, detections,
// recoveries with their steps and acknowledgements, and the downtimes and
// promotion rules in force at now. Expired downtimes and rules are left
// behind. Bookkeeping times (an instance's first_seen and updated_at) are
// those of the copy.
func Copy(ctx context.Context, from, to Store, now time.Time) (Copied, error) {
	var c Copied
	if err := checkEmpty(ctx, to); err != nil {
		return c, err
	}
	steps := []struct {
		what string
		run  func() error
	}{
		{"instances", func() error { return copyInstances(ctx, from, to, &c) }},
		{"clusters", func() error {
			clusters, err := from.ListClusters(ctx)
			c.Clusters = len(clusters)
			if err == nil {
				err = to.ReplaceClusters(ctx, clusters)
			}
			return err
		}},
		{"global recoveries", func() error {
			g, err := from.GetGlobalRecoveries(ctx)
			if err != nil || g.UpdatedAt.IsZero() {
				return err // never set: the default holds on both sides
			}
			c.GlobalSwitch = true
			return to.SetGlobalRecoveries(ctx, g)
		}},
		{"detections", func() error { return copyDetections(ctx, from, to, &c) }},
		{"recoveries", func() error { return copyRecoveries(ctx, from, to, &c) }},
		{"downtimes", func() error {
			ds, err := from.ListDowntimes(ctx, now)
			for _, d := range ds {
				if err == nil {
					err = to.BeginDowntime(ctx, d)
				}
			}
			c.Downtimes = len(ds)
			return err
		}},
		{"candidates", func() error {
			cs, err := from.ListCandidates(ctx, now)
			for _, cand := range cs {
				if err == nil {
					err = to.RegisterCandidate(ctx, cand)
				}
			}
			c.Candidates = len(cs)
			return err
		}},
	}
	for _, s := range steps {
		if err := s.run(); err != nil {
			return c, fmt.Errorf("copy %s: %w", s.what, err)
		}
	}
	return c, nil
}

// checkEmpty refuses a destination that holds instances, detections or
// recoveries: a copy never merges two histories.
func checkEmpty(ctx context.Context, to Store) error {
	keys, err := to.ListInstanceKeys(ctx)
	if err != nil {
		return err
	}
	ds, _, err := to.ListDetections(ctx, DetectionFilter{PageSize: 1})
	if err != nil {
		return err
	}
	rs, _, err := to.ListRecoveries(ctx, RecoveryFilter{PageSize: 1})
	if err != nil {
		return err
	}
	if len(keys)+len(ds)+len(rs) > 0 {
		return fmt.Errorf("%w: it holds %d instances and some detections or recoveries; copy into an empty store", ErrNotEmpty, len(keys))
	}
	return nil
}

func copyInstances(ctx context.Context, from, to Store, c *Copied) error {
	instances, err := from.ListInstances(ctx)
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(instances, copyBatch) {
		var snaps []*topologyv1.Snapshot
		for _, inst := range batch {
			if inst.LastGood != nil && inst.LastGood != inst.Snapshot {
				snaps = append(snaps, inst.LastGood)
			}
			snaps = append(snaps, inst.Snapshot)
		}
		if err := to.SaveSnapshots(ctx, snaps); err != nil {
			return err
		}
	}
	c.Instances = len(instances)
	keys, err := from.ListInstanceKeys(ctx)
	if err != nil {
		return err
	}
	for batch := range slices.Chunk(keys, copyBatch) {
		if err := to.RegisterInstances(ctx, batch); err != nil {
			return err
		}
	}
	c.Registered = len(keys) - len(instances)
	return nil
}

func copyDetections(ctx context.Context, from, to Store, c *Copied) error {
	f := DetectionFilter{PageSize: copyBatch}
	for {
		ds, next, err := from.ListDetections(ctx, f)
		if err != nil {
			return err
		}
		if err := to.SaveDetections(ctx, ds); err != nil {
			return err
		}
		c.Detections += len(ds)
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}

func copyRecoveries(ctx context.Context, from, to Store, c *Copied) error {
	f := RecoveryFilter{PageSize: copyBatch}
	for {
		rs, next, err := from.ListRecoveries(ctx, f)
		if err != nil {
			return err
		}
		for _, listed := range rs {
			r, err := from.GetRecovery(ctx, listed.GetId()) // with its steps
			if err != nil {
				return err
			}
			if err := to.SaveRecovery(ctx, r); err != nil {
				return err
			}
			if r.GetAcknowledgedAt() != nil {
				ack := Acknowledgement{ID: r.GetId(), By: r.GetAcknowledgedBy(), Comment: r.GetAcknowledgeComment(), At: r.GetAcknowledgedAt().AsTime()}
				if _, err := to.AcknowledgeRecoveries(ctx, ack); err != nil {
					return err
				}
			}
			c.Recoveries++
		}
		if next == "" {
			return nil
		}
		f.PageToken = next
	}
}
