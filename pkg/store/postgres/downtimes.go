package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	_, err = s.pool.Exec(ctx, `
		INSERT INTO downtimes (host, port, owner, reason, started_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (host, port) DO UPDATE SET
			owner = excluded.owner, reason = excluded.reason,
			started_at = excluded.started_at, ends_at = excluded.ends_at`,
		d.Key.Host, int32(d.Key.Port), d.Owner, d.Reason, d.StartedAt, d.EndsAt)
	if err != nil {
		return fmt.Errorf("begin downtime of %s: %w", d.Key, err)
	}
	return nil
}

// EndDowntime implements store.Store: it deletes the row, expired or not.
func (s *Store) EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error {
	if err := rules.DowntimeKey(key); err != nil {
		return fmt.Errorf("end downtime: %w", err)
	}
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return fmt.Errorf("end downtime of %s: %w", key, err)
	}
	var inForce bool
	err = s.pool.QueryRow(ctx, `DELETE FROM downtimes WHERE host = $1 AND port = $2 RETURNING ends_at > $3`,
		key.Host, int32(key.Port), now).Scan(&inForce)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("end downtime of %s: %w", key, err)
	}
	if !inForce {
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
	rows, err := s.pool.Query(ctx, `
		SELECT host, port, owner, reason, started_at, ends_at FROM downtimes
		WHERE ends_at > $1 ORDER BY host, port`, now)
	if err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Downtime, error) {
		var (
			d    store.Downtime
			port int32
		)
		if err := row.Scan(&d.Key.Host, &port, &d.Owner, &d.Reason, &d.StartedAt, &d.EndsAt); err != nil {
			return store.Downtime{}, err
		}
		d.Key.Port = uint16(port)
		d.StartedAt, d.EndsAt = d.StartedAt.UTC(), d.EndsAt.UTC()
		return d, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	return list, nil
}
