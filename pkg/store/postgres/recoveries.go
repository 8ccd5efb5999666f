package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
)

// GetGlobalRecoveries implements store.Store.
func (s *Store) GetGlobalRecoveries(ctx context.Context) (store.GlobalRecoveries, error) {
	var g store.GlobalRecoveries
	err := s.pool.QueryRow(ctx, `SELECT enabled, updated_by, updated_at FROM global_recoveries`).
		Scan(&g.Enabled, &g.UpdatedBy, &g.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.GlobalRecoveries{Enabled: true}, nil
	}
	if err != nil {
		return store.GlobalRecoveries{}, fmt.Errorf("get global recoveries: %w", err)
	}
	g.UpdatedAt = g.UpdatedAt.UTC()
	return g, nil
}

// SetGlobalRecoveries implements store.Store.
func (s *Store) SetGlobalRecoveries(ctx context.Context, g store.GlobalRecoveries) error {
	if g.UpdatedAt.IsZero() {
		g.UpdatedAt = rules.Now()
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO global_recoveries (enabled, updated_by, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (id) DO UPDATE SET
			enabled = excluded.enabled, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		g.Enabled, g.UpdatedBy, rules.Time(g.UpdatedAt))
	if err != nil {
		return fmt.Errorf("set global recoveries: %w", err)
	}
	return nil
}
