package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
)

// RegisterCandidate implements store.Store.
func (s *Store) RegisterCandidate(ctx context.Context, c store.Candidate) error {
	c, err := rules.Candidate(c)
	if err != nil {
		return fmt.Errorf("register candidate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("register candidate %s: %w", c.Key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.candidates[c.Key] = c
	return nil
}

// ListCandidates implements store.Store.
func (s *Store) ListCandidates(ctx context.Context, now time.Time) ([]store.Candidate, error) {
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []store.Candidate
	for _, c := range s.candidates {
		if c.ExpiresAt.After(now) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b store.Candidate) int { return rules.CompareKeys(a.Key, b.Key) })
	return out, nil
}
