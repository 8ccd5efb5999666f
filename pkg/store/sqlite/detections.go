package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// SaveDetections implements store.Store in one transaction. A detection
// already stored keeps its identity (rules.KeepIdentity).
func (s *Store) SaveDetections(ctx context.Context, ds []*analyzerv1.Detection) error {
	rows, err := rules.Detections(ds)
	if err != nil {
		return fmt.Errorf("save detections: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	now := micros(rules.Now())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, row := range rows {
			d := row.Msg
			var blob []byte
			err := tx.QueryRowContext(ctx, `SELECT detection FROM detections WHERE id = ?`, d.GetId()).Scan(&blob)
			switch {
			case err == nil:
				first := new(analyzerv1.Detection)
				if err := proto.Unmarshal(blob, first); err != nil {
					return fmt.Errorf("unmarshal detection %q: %w", d.GetId(), err)
				}
				d = rules.KeepIdentity(d, first)
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if blob, err = proto.Marshal(d); err != nil {
				return fmt.Errorf("marshal detection %q: %w", d.GetId(), err)
			}
			_, err = tx.ExecContext(ctx, `
				INSERT INTO detections (id, code, cluster, cluster_alias, host, port, detected_at, cleared_at, detection, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (id) DO UPDATE SET
					cleared_at = excluded.cleared_at, detection = excluded.detection, updated_at = excluded.updated_at`,
				d.GetId(), d.GetCode(), d.GetCluster(), d.GetClusterAlias(), row.Key.Host, row.Key.Port,
				micros(row.DetectedAt), nullMicros(row.ClearedAt), blob, now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %d detections: %w", len(rows), err)
	}
	return nil
}

// ListDetections implements store.Store with keyset pagination on
// (detected_at, id), reading one more row than the page to know whether
// another follows.
func (s *Store) ListDetections(ctx context.Context, f store.DetectionFilter) ([]*analyzerv1.Detection, string, error) {
	size, after, paged, err := rules.DetectionPage(f)
	if err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	q := newListQuery()
	query := "SELECT id, detected_at, detection FROM detections" + q.Detections(f, size, after, paged)
	rows, err := s.db.QueryContext(ctx, query, q.Args...)
	if err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	defer rows.Close()
	var (
		out  []*analyzerv1.Detection
		last rules.Cursor
	)
	for rows.Next() {
		if len(out) == size {
			return out, last.Token(), nil // the first of the next page follows
		}
		var (
			id   string
			at   int64
			blob []byte
		)
		if err := rows.Scan(&id, &at, &blob); err != nil {
			return nil, "", fmt.Errorf("list detections: %w", err)
		}
		d := new(analyzerv1.Detection)
		if err := proto.Unmarshal(blob, d); err != nil {
			return nil, "", fmt.Errorf("list detections: unmarshal detection %q: %w", id, err)
		}
		out = append(out, d)
		last = rules.Cursor{At: fromMicros(at), ID: id}
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	return out, "", nil
}
