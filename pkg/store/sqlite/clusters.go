package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
)

// ReplaceClusters implements store.Store in one transaction.
func (s *Store) ReplaceClusters(ctx context.Context, clusters []store.Cluster) error {
	assigned, err := rules.Assignments(clusters)
	if err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM clusters`); err != nil {
			return err
		}
		for _, c := range clusters {
			if _, err := tx.ExecContext(ctx, `INSERT INTO clusters (name, alias, domain, master_host, master_port) VALUES (?, ?, ?, ?, ?)`,
				c.Name, c.Alias, c.Domain, c.Master.Host, c.Master.Port); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET cluster = '' WHERE cluster <> ''`); err != nil {
			return err
		}
		for key, cluster := range assigned {
			if _, err := tx.ExecContext(ctx, `UPDATE instances SET cluster = ? WHERE host = ? AND port = ?`,
				cluster, key.Host, key.Port); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replace clusters: %w", err)
	}
	return nil
}

// ListClusters implements store.Store.
func (s *Store) ListClusters(ctx context.Context) ([]store.Cluster, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT c.name, c.alias, c.domain, c.master_host, c.master_port, i.host, i.port
		FROM clusters AS c LEFT JOIN instances AS i ON i.cluster = c.name
		ORDER BY c.name, i.host, i.port`)
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	defer rows.Close()
	var out []store.Cluster
	for rows.Next() {
		var (
			c    store.Cluster
			host sql.NullString
			port sql.NullInt64
		)
		if err := rows.Scan(&c.Name, &c.Alias, &c.Domain, &c.Master.Host, &c.Master.Port, &host, &port); err != nil {
			return nil, fmt.Errorf("list clusters: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != c.Name {
			out = append(out, c)
		}
		if host.Valid {
			last := &out[len(out)-1]
			last.Members = append(last.Members, topology.InstanceKey{Host: host.String, Port: uint16(port.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	return out, nil
}

// GetGlobalRecoveries implements store.Store.
func (s *Store) GetGlobalRecoveries(ctx context.Context) (store.GlobalRecoveries, error) {
	var (
		g  store.GlobalRecoveries
		at int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT enabled, updated_by, updated_at FROM global_recoveries`).Scan(&g.Enabled, &g.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return store.GlobalRecoveries{Enabled: true}, nil
	}
	if err != nil {
		return store.GlobalRecoveries{}, fmt.Errorf("get global recoveries: %w", err)
	}
	g.UpdatedAt = fromMicros(at)
	return g, nil
}

// SetGlobalRecoveries implements store.Store.
func (s *Store) SetGlobalRecoveries(ctx context.Context, g store.GlobalRecoveries) error {
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = rules.Now()
	}
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO global_recoveries (id, enabled, updated_by, updated_at) VALUES (1, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		g.Enabled, g.UpdatedBy, micros(rules.Time(g.UpdatedAt)))
	if err != nil {
		return fmt.Errorf("set global recoveries: %w", err)
	}
	return nil
}
