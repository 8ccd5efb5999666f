package discovery

import (
	"context"
	"errors"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// persistLoop writes the latest snapshots to the store in one batch per
// interval, and a last batch on shutdown.
func (s *Service) persistLoop(ctx context.Context) {
	tick := time.NewTicker(s.cfg.PersistInterval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.flush(ctx)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.flush(final)
			cancel()
			return
		}
	}
}

// flush writes what is pending. A failed batch is put back, unless a newer
// snapshot of the same instance arrived meanwhile.
func (s *Service) flush(ctx context.Context) {
	s.mu.Lock()
	if len(s.pending) == 0 {
		s.mu.Unlock()
		return
	}
	batch := make([]*topologyv1.Snapshot, 0, len(s.pending))
	for _, snap := range s.pending {
		batch = append(batch, snap)
	}
	clear(s.pending)
	s.mu.Unlock()

	if err := s.store.SaveSnapshots(ctx, batch); err != nil {
		s.log.Warn("saving snapshots failed, will retry", "count", len(batch), "err", err)
		s.mu.Lock()
		for _, snap := range batch {
			key := keyOf(snap)
			if _, newer := s.pending[key]; !newer && s.poller.Has(key) {
				s.pending[key] = snap
			}
		}
		s.mu.Unlock()
	}
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
