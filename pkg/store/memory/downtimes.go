package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
)

// BeginDowntime implements store.Store.
func (s *Store) BeginDowntime(ctx context.Context, d store.Downtime) error {
	d, err := rules.Downtime(d)
	if err != nil {
		return fmt.Errorf("begin downtime: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin downtime of %s: %w", d.Key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downtimes[d.Key] = d
	return nil
}

// EndDowntime implements store.Store.
func (s *Store) EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error {
	if err := rules.DowntimeKey(key); err != nil {
		return fmt.Errorf("end downtime: %w", err)
	}
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return fmt.Errorf("end downtime of %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("end downtime of %s: %w", key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.downtimes[key]
	delete(s.downtimes, key)
	if !ok || !d.EndsAt.After(now) {
		return fmt.Errorf("end downtime of %s: %w", key, store.ErrNotFound)
	}
	return nil
}

// ListDowntimes implements store.Store.
func (s *Store) ListDowntimes(ctx context.Context, now time.Time) ([]store.Downtime, error) {
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Downtime
	for _, d := range s.downtimes {
		if d.EndsAt.After(now) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b store.Downtime) int { return rules.CompareKeys(a.Key, b.Key) })
	return out, nil
}
