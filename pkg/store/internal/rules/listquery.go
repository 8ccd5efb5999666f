package rules

import (
	"strings"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
)

// ListQuery builds the filter, order and limit of the list queries that
// SQL stores share, in the dialect of one driver: how it writes the n-th
// placeholder and how it keeps a time.
type ListQuery struct {
	Placeholder func(n int) string
	Time        func(time.Time) any
	// Args are the values of the placeholders, in order.
	Args  []any
	conds []string
}

func (q *ListQuery) arg(v any) string {
	q.Args = append(q.Args, v)
	return q.Placeholder(len(q.Args))
}

// tail returns the WHERE clause, then the order and a limit of limit rows.
func (q *ListQuery) tail(order string, limit int) string {
	var b strings.Builder
	if len(q.conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(q.conds, " AND "))
	}
	b.WriteString(" ORDER BY " + order + " LIMIT " + q.arg(limit))
	return b.String()
}

// Detections returns what follows "SELECT ... FROM detections" for a page
// of ListDetections: size rows, and one more to know whether another page
// follows.
func (q *ListQuery) Detections(f store.DetectionFilter, size int, after Cursor, paged bool) string {
	if f.Cluster != "" {
		p := q.arg(f.Cluster)
		q.conds = append(q.conds, "(cluster = "+p+" OR cluster_alias = "+p+")")
	}
	if !f.Instance.IsZero() {
		q.conds = append(q.conds, "host = "+q.arg(f.Instance.Host)+" AND port = "+q.arg(int32(f.Instance.Port)))
	}
	if f.ActiveOnly {
		q.conds = append(q.conds, "cleared_at IS NULL")
	}
	if paged {
		q.conds = append(q.conds, "(detected_at, id) < ("+q.arg(q.Time(after.At))+", "+q.arg(after.ID)+")")
	}
	return q.tail("detected_at DESC, id DESC", size+1)
}

// Recoveries returns what follows "SELECT ... FROM recoveries" for a page
// of ListRecoveries: size rows, and one more.
func (q *ListQuery) Recoveries(f store.RecoveryFilter, size int, after Cursor, paged bool) string {
	if f.Cluster != "" {
		p := q.arg(f.Cluster)
		q.conds = append(q.conds, "(cluster = "+p+" OR cluster_alias = "+p+")")
	}
	if f.DetectionID != "" {
		q.conds = append(q.conds, "detection_id = "+q.arg(f.DetectionID))
	}
	if paged {
		q.conds = append(q.conds, "(started_at, id) < ("+q.arg(q.Time(after.At))+", "+q.arg(after.ID)+")")
	}
	return q.tail("started_at DESC, id DESC", size+1)
}
