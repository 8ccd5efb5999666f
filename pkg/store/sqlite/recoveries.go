package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// SaveRecovery implements store.Store. The acknowledgement lives in columns
// of its own, so that saving a recovery never undoes one.
func (s *Store) SaveRecovery(ctx context.Context, r *recoveryv1.Recovery) error {
	if err := rules.Recovery(r); err != nil {
		return fmt.Errorf("save recovery: %w", err)
	}
	r = proto.CloneOf(r)
	r.AcknowledgedAt, r.AcknowledgedBy, r.AcknowledgeComment = nil, "", ""
	blob, err := proto.Marshal(r)
	if err != nil {
		return fmt.Errorf("save recovery %q: %w", r.GetId(), err)
	}
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO recoveries (id, detection_id, cluster, cluster_alias, started_at, recovery, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			detection_id = excluded.detection_id, cluster = excluded.cluster,
			cluster_alias = excluded.cluster_alias, started_at = excluded.started_at,
			recovery = excluded.recovery, updated_at = excluded.updated_at`,
		r.GetId(), r.GetDetectionId(), r.GetCluster(), r.GetClusterAlias(),
		micros(rules.Time(r.GetStartedAt().AsTime())), blob, micros(rules.Now()))
	if err != nil {
		return fmt.Errorf("save recovery %q: %w", r.GetId(), err)
	}
	return nil
}

// recoveryColumns are read by scanRecovery, in order.
const recoveryColumns = "id, started_at, recovery, acknowledged_at, acknowledged_by, acknowledge_comment"

// scanRecovery reads one row of recoveryColumns.
func scanRecovery(row scanner) (*recoveryv1.Recovery, time.Time, error) {
	var (
		id, by, comment string
		started         int64
		acked           sql.NullInt64
		blob            []byte
	)
	if err := row.Scan(&id, &started, &blob, &acked, &by, &comment); err != nil {
		return nil, time.Time{}, err
	}
	r := new(recoveryv1.Recovery)
	if err := proto.Unmarshal(blob, r); err != nil {
		return nil, time.Time{}, fmt.Errorf("unmarshal recovery %q: %w", id, err)
	}
	if acked.Valid {
		r.AcknowledgedAt = timestamppb.New(fromMicros(acked.Int64))
		r.AcknowledgedBy, r.AcknowledgeComment = by, comment
	}
	return r, fromMicros(started), nil
}

// GetRecovery implements store.Store.
func (s *Store) GetRecovery(ctx context.Context, id string) (*recoveryv1.Recovery, error) {
	r, _, err := scanRecovery(s.db.QueryRowContext(ctx, "SELECT "+recoveryColumns+" FROM recoveries WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("recovery %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get recovery %q: %w", id, err)
	}
	return r, nil
}

// ListRecoveries implements store.Store with keyset pagination on
// (started_at, id), reading one more row than the page.
func (s *Store) ListRecoveries(ctx context.Context, f store.RecoveryFilter) ([]*recoveryv1.Recovery, string, error) {
	size, after, paged, err := rules.RecoveryPage(f)
	if err != nil {
		return nil, "", fmt.Errorf("list recoveries: %w", err)
	}
	q := newListQuery()
	query := "SELECT " + recoveryColumns + " FROM recoveries" + q.Recoveries(f, size, after, paged)
	rows, err := s.db.QueryContext(ctx, query, q.Args...)
	if err != nil {
		return nil, "", fmt.Errorf("list recoveries: %w", err)
	}
	defer rows.Close()
	var (
		out  []*recoveryv1.Recovery
		last rules.Cursor
	)
	for rows.Next() {
		if len(out) == size {
			return out, last.Token(), nil
		}
		r, started, err := scanRecovery(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list recoveries: %w", err)
		}
		r.Steps = nil
		out = append(out, r)
		last = rules.Cursor{At: started, ID: r.GetId()}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list recoveries: %w", err)
	}
	return out, "", nil
}

// AcknowledgeRecoveries implements store.Store.
func (s *Store) AcknowledgeRecoveries(ctx context.Context, a store.Acknowledgement) (int, error) {
	if err := rules.Acknowledgement(a); err != nil {
		return 0, fmt.Errorf("acknowledge recoveries: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `
		UPDATE recoveries SET acknowledged_at = ?, acknowledged_by = ?, acknowledge_comment = ?
		WHERE acknowledged_at IS NULL AND (?4 = '' OR cluster = ?4 OR cluster_alias = ?4) AND (?5 = '' OR id = ?5)`,
		micros(rules.Time(a.At)), a.By, a.Comment, a.Cluster, a.ID)
	if err != nil {
		return 0, fmt.Errorf("acknowledge recoveries: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("acknowledge recoveries: %w", err)
	}
	return int(n), nil
}
