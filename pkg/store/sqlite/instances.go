package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// SaveSnapshots implements store.Store in one transaction: for each
// instance, what is stored decides what the batch replaces.
func (s *Store) SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error {
	rows, err := rules.LatestSnapshots(snaps)
	if err != nil {
		return fmt.Errorf("save snapshots: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	now := rules.Now()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, row := range rows {
			if err := saveSnapshot(ctx, tx, row, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %d snapshots: %w", len(rows), err)
	}
	return nil
}

// saveSnapshot stores one instance's part of a batch: the latest snapshot
// unless an older one, the last good one only forwards.
func saveSnapshot(ctx context.Context, tx *sql.Tx, row rules.Snapshot, now time.Time) error {
	var (
		finished int64
		lastSeen sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `SELECT probe_finished, last_seen FROM instances WHERE host = ? AND port = ?`,
		row.Key.Host, row.Key.Port).Scan(&finished, &lastSeen)
	stored := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	replace := !stored || micros(row.Finished) >= finished
	moveGood := row.LastGood != nil && (!lastSeen.Valid || micros(row.LastGoodAt) >= lastSeen.Int64)
	if !replace && !moveGood {
		return nil
	}
	blob, err := proto.Marshal(row.Latest)
	if err != nil {
		return fmt.Errorf("marshal snapshot of %s: %w", row.Key, err)
	}
	var (
		good     []byte
		goodSeen sql.NullInt64
	)
	if moveGood {
		goodSeen = sql.NullInt64{Int64: micros(row.LastGoodAt), Valid: true}
		if good, err = proto.Marshal(row.LastGood); err != nil {
			return fmt.Errorf("marshal last good snapshot of %s: %w", row.Key, err)
		}
	}
	if !stored {
		_, err = tx.ExecContext(ctx, `INSERT INTO instances
			(host, port, snapshot, reachable, probe_finished, first_seen, last_good, last_seen, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.Key.Host, row.Key.Port, blob, row.Reachable, micros(row.Finished), micros(row.Finished),
			good, goodSeen, micros(now))
		return err
	}
	if replace {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET snapshot = ?, reachable = ?, probe_finished = ?, updated_at = ?
			WHERE host = ? AND port = ?`, blob, row.Reachable, micros(row.Finished), micros(now), row.Key.Host, row.Key.Port); err != nil {
			return err
		}
	}
	if moveGood {
		if _, err := tx.ExecContext(ctx, `UPDATE instances SET last_good = ?, last_seen = ? WHERE host = ? AND port = ?`,
			good, micros(row.LastGoodAt), row.Key.Host, row.Key.Port); err != nil {
			return err
		}
	}
	return nil
}

const selectInstances = `
SELECT host, port, cluster, snapshot, last_good, first_seen, last_seen, updated_at FROM instances`

// ListInstances implements store.Store.
func (s *Store) ListInstances(ctx context.Context) ([]store.Instance, error) {
	rows, err := s.db.QueryContext(ctx, selectInstances+` ORDER BY host, port`)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	var out []store.Instance
	for rows.Next() {
		inst, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		out = append(out, inst)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return out, nil
}

// GetInstance implements store.Store.
func (s *Store) GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error) {
	inst, err := scanInstance(s.db.QueryRowContext(ctx, selectInstances+` WHERE host = ? AND port = ?`, key.Host, key.Port))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Instance{}, fmt.Errorf("get instance %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return store.Instance{}, fmt.Errorf("get instance %s: %w", key, err)
	}
	return inst, nil
}

// DeleteInstance implements store.Store.
func (s *Store) DeleteInstance(ctx context.Context, key topology.InstanceKey) error {
	var deleted int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, table := range []string{"instances", "known_instances"} {
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE host = ? AND port = ?`, key.Host, key.Port)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			deleted += n
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete instance %s: %w", key, err)
	}
	if deleted == 0 {
		return fmt.Errorf("delete instance %s: %w", key, store.ErrNotFound)
	}
	return nil
}

// RegisterInstances implements store.Store.
func (s *Store) RegisterInstances(ctx context.Context, keys []topology.InstanceKey) error {
	if err := rules.ValidKeys(keys); err != nil {
		return fmt.Errorf("register instances: %w", err)
	}
	now := micros(rules.Now())
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `INSERT INTO known_instances (host, port, registered_at) VALUES (?, ?, ?)
				ON CONFLICT (host, port) DO NOTHING`, k.Host, k.Port, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("register %d instances: %w", len(keys), err)
	}
	return nil
}

// ListInstanceKeys implements store.Store.
func (s *Store) ListInstanceKeys(ctx context.Context) ([]topology.InstanceKey, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT host, port FROM instances UNION SELECT host, port FROM known_instances ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("list instance keys: %w", err)
	}
	defer rows.Close()
	var keys []topology.InstanceKey
	for rows.Next() {
		var k topology.InstanceKey
		if err := rows.Scan(&k.Host, &k.Port); err != nil {
			return nil, fmt.Errorf("list instance keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list instance keys: %w", err)
	}
	return keys, nil
}

// scanner is a row of a query.
type scanner interface{ Scan(dest ...any) error }

// scanInstance reads a row of selectInstances.
func scanInstance(row scanner) (store.Instance, error) {
	var (
		inst                 store.Instance
		blob, goodBlob       []byte
		firstSeen, updatedAt int64
		lastSeen             sql.NullInt64
	)
	if err := row.Scan(&inst.Key.Host, &inst.Key.Port, &inst.Cluster, &blob, &goodBlob, &firstSeen, &lastSeen, &updatedAt); err != nil {
		return store.Instance{}, err
	}
	inst.Snapshot = new(topologyv1.Snapshot)
	if err := proto.Unmarshal(blob, inst.Snapshot); err != nil {
		return store.Instance{}, fmt.Errorf("unmarshal snapshot of %s: %w", inst.Key, err)
	}
	if goodBlob != nil {
		inst.LastGood = new(topologyv1.Snapshot)
		if err := proto.Unmarshal(goodBlob, inst.LastGood); err != nil {
			return store.Instance{}, fmt.Errorf("unmarshal last good snapshot of %s: %w", inst.Key, err)
		}
	}
	inst.FirstSeen, inst.UpdatedAt = fromMicros(firstSeen), fromMicros(updatedAt)
	if lastSeen.Valid {
		inst.LastSeen = fromMicros(lastSeen.Int64)
	}
	return inst, nil
}
