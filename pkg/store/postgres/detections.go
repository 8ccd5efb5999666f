package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// saveDetections upserts a whole batch in one statement. The identity
// columns of a stored detection are left as they are; SaveDetections has
// already given the new detection blob the stored identity.
const saveDetections = `
INSERT INTO detections AS d (id, code, cluster, cluster_alias, host, port, detected_at, cleared_at, detection, updated_at)
SELECT u.id, u.code, u.cluster, u.cluster_alias, u.host, u.port, u.detected_at, u.cleared_at, u.detection, $10
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::timestamptz[], $8::timestamptz[], $9::bytea[])
    AS u (id, code, cluster, cluster_alias, host, port, detected_at, cleared_at, detection)
ON CONFLICT (id) DO UPDATE SET
    cleared_at = excluded.cleared_at,
    detection  = excluded.detection,
    updated_at = excluded.updated_at`

// SaveDetections implements store.Store in one transaction: it reads the
// identity of the detections already stored, then upserts the batch in one
// statement.
func (s *Store) SaveDetections(ctx context.Context, ds []*analyzerv1.Detection) error {
	rows, err := rules.Detections(ds)
	if err != nil {
		return fmt.Errorf("save detections: %w", err)
	}
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	var (
		ids, codes, clusters = make([]string, n), make([]string, n), make([]string, n)
		aliases, hosts       = make([]string, n), make([]string, n)
		ports                = make([]int32, n)
		detectedAt           = make([]time.Time, n)
		clearedAt            = make([]pgtype.Timestamptz, n)
		blobs                = make([][]byte, n)
		index                = make(map[string]int, n)
	)
	for i, row := range rows {
		d := row.Msg
		blob, err := proto.Marshal(d)
		if err != nil {
			return fmt.Errorf("save detections: marshal detection %q: %w", d.GetId(), err)
		}
		ids[i], codes[i], clusters[i], aliases[i] = d.GetId(), d.GetCode(), d.GetCluster(), d.GetClusterAlias()
		hosts[i], ports[i], detectedAt[i] = row.Key.Host, int32(row.Key.Port), row.DetectedAt
		clearedAt[i] = pgtype.Timestamptz{Time: row.ClearedAt, Valid: !row.ClearedAt.IsZero()}
		blobs[i] = blob
		index[d.GetId()] = i
	}

	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialise with other SaveDetections, so that no detection is first
		// inserted by another batch between reading identities and writing.
		// Readers are not blocked.
		if _, err := tx.Exec(ctx, `LOCK TABLE detections IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock detections: %w", err)
		}
		stored, err := tx.Query(ctx, `SELECT id, detection FROM detections WHERE id = ANY($1::text[])`, ids)
		if err != nil {
			return fmt.Errorf("read stored detections: %w", err)
		}
		var (
			id   string
			blob []byte
		)
		_, err = pgx.ForEachRow(stored, []any{&id, &blob}, func() error {
			first := new(analyzerv1.Detection)
			if err := proto.Unmarshal(blob, first); err != nil {
				return fmt.Errorf("unmarshal detection %q: %w", id, err)
			}
			i := index[id]
			d := rules.KeepIdentity(rows[i].Msg, first)
			if d == rows[i].Msg {
				return nil
			}
			if blobs[i], err = proto.Marshal(d); err != nil {
				return fmt.Errorf("marshal detection %q: %w", id, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read stored detections: %w", err)
		}
		if _, err := tx.Exec(ctx, saveDetections,
			ids, codes, clusters, aliases, hosts, ports, detectedAt, clearedAt, blobs, rules.Now()); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %d detections: %w", n, err)
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
	sql := "SELECT id, detected_at, detection FROM detections" + q.Detections(f, size, after, paged)
	rows, err := s.pool.Query(ctx, sql, q.Args...)
	if err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	var (
		out  []*analyzerv1.Detection
		more bool
		last rules.Cursor
		id   string
		at   time.Time
		blob []byte
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &at, &blob}, func() error {
		if len(out) == size {
			more = true // the first of the next page
			return nil
		}
		d := new(analyzerv1.Detection)
		if err := proto.Unmarshal(blob, d); err != nil {
			return fmt.Errorf("unmarshal detection %q: %w", id, err)
		}
		out = append(out, d)
		last = rules.Cursor{At: at.UTC(), ID: id}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	next := ""
	if more {
		next = last.Token()
	}
	return out, next, nil
}
