package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
)

// RegisterInstances implements store.Store.
func (s *Store) RegisterInstances(ctx context.Context, keys []topology.InstanceKey) error {
	if err := rules.ValidKeys(keys); err != nil {
		return fmt.Errorf("register instances: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("register instances: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.registered[k] = true
	}
	return nil
}

// ListInstanceKeys implements store.Store.
func (s *Store) ListInstanceKeys(ctx context.Context) ([]topology.InstanceKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list instance keys: %w", err)
	}
	s.mu.Lock()
	keys := make([]topology.InstanceKey, 0, len(s.instances)+len(s.registered))
	for k := range s.instances {
		keys = append(keys, k)
	}
	for k := range s.registered {
		if _, stored := s.instances[k]; !stored {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(keys, rules.CompareKeys)
	return keys, nil
}
