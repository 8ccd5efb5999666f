package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
)

// RegisterInstances implements store.Store with one INSERT for the batch.
func (s *Store) RegisterInstances(ctx context.Context, keys []topology.InstanceKey) error {
	if err := rules.ValidKeys(keys); err != nil {
		return fmt.Errorf("register instances: %w", err)
	}
	if len(keys) == 0 {
		return nil
	}
	hosts, ports := make([]string, len(keys)), make([]int32, len(keys))
	for i, k := range keys {
		hosts[i], ports[i] = k.Host, int32(k.Port)
	}
	_, err := s.pool.Exec(ctx, `
INSERT INTO known_instances (host, port, registered_at)
SELECT DISTINCT u.host, u.port, $3::timestamptz FROM unnest($1::text[], $2::integer[]) AS u (host, port)
ON CONFLICT (host, port) DO NOTHING`, hosts, ports, rules.Now())
	if err != nil {
		return fmt.Errorf("register %d instances: %w", len(keys), err)
	}
	return nil
}

// ListInstanceKeys implements store.Store.
func (s *Store) ListInstanceKeys(ctx context.Context) ([]topology.InstanceKey, error) {
	rows, err := s.pool.Query(ctx, `
SELECT host COLLATE "C", port FROM instances
UNION
SELECT host, port FROM known_instances
ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list instance keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (topology.InstanceKey, error) {
		var k topology.InstanceKey
		var port int32
		err := row.Scan(&k.Host, &port)
		k.Port = uint16(port)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list instance keys: %w", err)
	}
	return keys, nil
}
