package memory

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// SaveDetections implements store.Store.
func (s *Store) SaveDetections(ctx context.Context, ds []*analyzerv1.Detection) error {
	rows, err := rules.Detections(ds)
	if err != nil {
		return fmt.Errorf("save detections: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save detections: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, row := range rows {
		d := row.Msg
		if stored, ok := s.detections[d.GetId()]; ok {
			d = rules.KeepIdentity(d, stored)
		}
		s.detections[d.GetId()] = proto.CloneOf(d)
	}
	return nil
}

// ListDetections implements store.Store. It sorts every match on each
// call, which is fine for the few thousand detections a test or a
// database-less Vigil holds.
func (s *Store) ListDetections(ctx context.Context, f store.DetectionFilter) ([]*analyzerv1.Detection, string, error) {
	size, after, paged, err := rules.DetectionPage(f)
	if err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("list detections: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*analyzerv1.Detection
	for _, d := range s.detections {
		if selects(f, d) && (!paged || after.After(d)) {
			match = append(match, d)
		}
	}
	slices.SortFunc(match, rules.CompareDetections)
	next := ""
	if len(match) > size {
		match = match[:size]
		next = rules.CursorOf(match[size-1]).Token()
	}
	out := make([]*analyzerv1.Detection, len(match))
	for i, d := range match {
		out[i] = proto.CloneOf(d)
	}
	return out, next, nil
}

// selects reports whether f selects d, leaving pages aside.
func selects(f store.DetectionFilter, d *analyzerv1.Detection) bool {
	switch {
	case f.Cluster != "" && d.GetCluster() != f.Cluster && d.GetClusterAlias() != f.Cluster:
		return false
	case !f.Instance.IsZero() && (d.GetInstance().GetHost() != f.Instance.Host || d.GetInstance().GetPort() != uint32(f.Instance.Port)):
		return false
	case f.ActiveOnly && d.GetClearedAt() != nil:
		return false
	}
	return true
}
