package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// RegisterCandidate implements store.Store.
func (s *Store) RegisterCandidate(ctx context.Context, c store.Candidate) error {
	c, err := rules.Candidate(c)
	if err != nil {
		return fmt.Errorf("register candidate: %w", err)
	}
	_, err = s.pool.Exec(ctx, `
		INSERT INTO candidates (host, port, rule, registered_by, registered_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (host, port) DO UPDATE SET
			rule = excluded.rule, registered_by = excluded.registered_by,
			registered_at = excluded.registered_at, expires_at = excluded.expires_at`,
		c.Key.Host, int32(c.Key.Port), int32(c.Rule), c.By, c.RegisteredAt, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("register candidate %s: %w", c.Key, err)
	}
	return nil
}

// ListCandidates implements store.Store.
func (s *Store) ListCandidates(ctx context.Context, now time.Time) ([]store.Candidate, error) {
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT host, port, rule, registered_by, registered_at, expires_at FROM candidates
		WHERE expires_at > $1 ORDER BY host, port`, now)
	if err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Candidate, error) {
		var (
			c          store.Candidate
			port, rule int32
		)
		if err := row.Scan(&c.Key.Host, &port, &rule, &c.By, &c.RegisteredAt, &c.ExpiresAt); err != nil {
			return store.Candidate{}, err
		}
		c.Key.Port, c.Rule = uint16(port), topologyv1.PromotionRule(rule)
		c.RegisteredAt, c.ExpiresAt = c.RegisteredAt.UTC(), c.ExpiresAt.UTC()
		return c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	return list, nil
}
