package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// saveSnapshots upserts a whole batch in one statement. A row is replaced
// only by a snapshot at least as new; last_good and its last_seen only by a
// good snapshot at least as new; a row neither changes is left untouched.
// A good latest snapshot is sent once, with a NULL last_good standing for it.
const saveSnapshots = `
INSERT INTO instances AS i (host, port, snapshot, reachable, probe_finished, first_seen, last_good, last_seen, updated_at)
SELECT u.host, u.port, u.snapshot, u.reachable, u.probe_finished, u.probe_finished,
    CASE WHEN u.last_seen IS NULL THEN NULL ELSE coalesce(u.last_good, u.snapshot) END, u.last_seen, $8
FROM unnest($1::text[], $2::integer[], $3::bytea[], $4::boolean[], $5::timestamptz[], $6::bytea[], $7::timestamptz[])
    AS u (host, port, snapshot, reachable, probe_finished, last_good, last_seen)
ON CONFLICT (host, port) DO UPDATE SET
    snapshot       = CASE WHEN excluded.probe_finished >= i.probe_finished THEN excluded.snapshot ELSE i.snapshot END,
    reachable      = CASE WHEN excluded.probe_finished >= i.probe_finished THEN excluded.reachable ELSE i.reachable END,
    updated_at     = CASE WHEN excluded.probe_finished >= i.probe_finished THEN excluded.updated_at ELSE i.updated_at END,
    probe_finished = GREATEST(excluded.probe_finished, i.probe_finished),
    last_good      = CASE WHEN excluded.last_seen >= coalesce(i.last_seen, '-infinity') THEN excluded.last_good ELSE i.last_good END,
    last_seen      = GREATEST(excluded.last_seen, i.last_seen)
WHERE excluded.probe_finished >= i.probe_finished
   OR excluded.last_seen >= coalesce(i.last_seen, '-infinity')`

// SaveSnapshots implements store.Store with one INSERT ... ON CONFLICT for
// the whole batch.
func (s *Store) SaveSnapshots(ctx context.Context, snaps []*topologyv1.Snapshot) error {
	rows, err := rules.LatestSnapshots(snaps)
	if err != nil {
		return fmt.Errorf("save snapshots: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	var (
		hosts     = make([]string, len(rows))
		ports     = make([]int32, len(rows))
		blobs     = make([][]byte, len(rows))
		reachable = make([]bool, len(rows))
		finished  = make([]time.Time, len(rows))
		lastGood  = make([][]byte, len(rows))
		lastSeen  = make([]pgtype.Timestamptz, len(rows))
	)
	for i, row := range rows {
		blob, err := proto.Marshal(row.Latest)
		if err != nil {
			return fmt.Errorf("save snapshots: marshal snapshot of %s: %w", row.Key, err)
		}
		hosts[i], ports[i], blobs[i] = row.Key.Host, int32(row.Key.Port), blob
		reachable[i], finished[i] = row.Reachable, row.Finished
		if row.LastGood != nil && row.LastGood != row.Latest {
			if lastGood[i], err = proto.Marshal(row.LastGood); err != nil {
				return fmt.Errorf("save snapshots: marshal last good snapshot of %s: %w", row.Key, err)
			}
		}
		lastSeen[i] = pgtype.Timestamptz{Time: row.LastGoodAt, Valid: row.LastGood != nil}
	}
	if _, err := s.pool.Exec(ctx, saveSnapshots, hosts, ports, blobs, reachable, finished, lastGood, lastSeen, rules.Now()); err != nil {
		return fmt.Errorf("save %d snapshots: %w", len(rows), err)
	}
	return nil
}

const selectInstances = `
SELECT host, port, cluster, snapshot, last_good, first_seen, last_seen, updated_at FROM instances`

// ListInstances implements store.Store.
func (s *Store) ListInstances(ctx context.Context) ([]store.Instance, error) {
	rows, err := s.pool.Query(ctx, selectInstances+` ORDER BY host COLLATE "C", port`)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanInstance)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	return list, nil
}

// GetInstance implements store.Store.
func (s *Store) GetInstance(ctx context.Context, key topology.InstanceKey) (store.Instance, error) {
	rows, err := s.pool.Query(ctx, selectInstances+` WHERE host = $1 AND port = $2`, key.Host, int32(key.Port))
	if err != nil {
		return store.Instance{}, fmt.Errorf("get instance %s: %w", key, err)
	}
	inst, err := pgx.CollectExactlyOneRow(rows, scanInstance)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, table := range []string{"instances", "known_instances"} {
			tag, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE host = $1 AND port = $2`, key.Host, int32(key.Port))
			if err != nil {
				return err
			}
			deleted += tag.RowsAffected()
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

// scanInstance reads a row of selectInstances.
func scanInstance(row pgx.CollectableRow) (store.Instance, error) {
	var (
		inst     store.Instance
		port     int32
		blob     []byte
		goodBlob []byte
		lastSeen pgtype.Timestamptz
	)
	if err := row.Scan(&inst.Key.Host, &port, &inst.Cluster, &blob, &goodBlob, &inst.FirstSeen, &lastSeen, &inst.UpdatedAt); err != nil {
		return store.Instance{}, err
	}
	inst.Key.Port = uint16(port)
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
	inst.FirstSeen, inst.UpdatedAt = inst.FirstSeen.UTC(), inst.UpdatedAt.UTC()
	if lastSeen.Valid {
		inst.LastSeen = lastSeen.Time.UTC()
	}
	return inst, nil
}
