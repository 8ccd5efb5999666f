package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// BeginDowntime implements store.Store.
func (s *Store) BeginDowntime(ctx context.Context, d store.Downtime) error {
	d, err := rules.Downtime(d)
	if err != nil {
		return fmt.Errorf("begin downtime: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO downtimes (host, port, owner, reason, started_at, ends_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (host, port) DO UPDATE SET
			owner = excluded.owner, reason = excluded.reason,
			started_at = excluded.started_at, ends_at = excluded.ends_at`,
		d.Key.Host, d.Key.Port, d.Owner, d.Reason, micros(d.StartedAt), micros(d.EndsAt))
	if err != nil {
		return fmt.Errorf("begin downtime of %s: %w", d.Key, err)
	}
	return nil
}

// EndDowntime implements store.Store: it deletes the row, expired or not,
// and reports ErrNotFound unless the downtime was in force.
func (s *Store) EndDowntime(ctx context.Context, key topology.InstanceKey, now time.Time) error {
	if err := rules.DowntimeKey(key); err != nil {
		return fmt.Errorf("end downtime: %w", err)
	}
	now, err := rules.DowntimeNow(now)
	if err != nil {
		return fmt.Errorf("end downtime of %s: %w", key, err)
	}
	var inForce bool
	err = s.db.QueryRowContext(ctx, `DELETE FROM downtimes WHERE host = ? AND port = ? RETURNING ends_at > ?`,
		key.Host, key.Port, micros(now)).Scan(&inForce)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
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
	rows, err := s.db.QueryContext(ctx, `
		SELECT host, port, owner, reason, started_at, ends_at FROM downtimes
		WHERE ends_at > ? ORDER BY host, port`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	defer rows.Close()
	var out []store.Downtime
	for rows.Next() {
		var (
			d           store.Downtime
			start, ends int64
		)
		if err := rows.Scan(&d.Key.Host, &d.Key.Port, &d.Owner, &d.Reason, &start, &ends); err != nil {
			return nil, fmt.Errorf("list downtimes: %w", err)
		}
		d.StartedAt, d.EndsAt = fromMicros(start), fromMicros(ends)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list downtimes: %w", err)
	}
	return out, nil
}

// RegisterCandidate implements store.Store.
func (s *Store) RegisterCandidate(ctx context.Context, c store.Candidate) error {
	c, err := rules.Candidate(c)
	if err != nil {
		return fmt.Errorf("register candidate: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO candidates (host, port, rule, registered_by, registered_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (host, port) DO UPDATE SET
			rule = excluded.rule, registered_by = excluded.registered_by,
			registered_at = excluded.registered_at, expires_at = excluded.expires_at`,
		c.Key.Host, c.Key.Port, int32(c.Rule), c.By, micros(c.RegisteredAt), micros(c.ExpiresAt))
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
	rows, err := s.db.QueryContext(ctx, `
		SELECT host, port, rule, registered_by, registered_at, expires_at FROM candidates
		WHERE expires_at > ? ORDER BY host, port`, micros(now))
	if err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	defer rows.Close()
	var out []store.Candidate
	for rows.Next() {
		var (
			c                 store.Candidate
			rule              int32
			registered, until int64
		)
		if err := rows.Scan(&c.Key.Host, &c.Key.Port, &rule, &c.By, &registered, &until); err != nil {
			return nil, fmt.Errorf("list candidates: %w", err)
		}
		c.Rule = topologyv1.PromotionRule(rule)
		c.RegisteredAt, c.ExpiresAt = fromMicros(registered), fromMicros(until)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list candidates: %w", err)
	}
	return out, nil
}
