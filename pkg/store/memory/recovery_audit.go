package memory

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// SaveRecovery implements store.Store.
func (s *Store) SaveRecovery(ctx context.Context, r *recoveryv1.Recovery) error {
	if err := rules.Recovery(r); err != nil {
		return fmt.Errorf("save recovery: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save recovery %q: %w", r.GetId(), err)
	}
	r = proto.CloneOf(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.recoveryRows[r.GetId()]
	r.AcknowledgedAt, r.AcknowledgedBy, r.AcknowledgeComment = old.GetAcknowledgedAt(), old.GetAcknowledgedBy(), old.GetAcknowledgeComment()
	s.recoveryRows[r.GetId()] = r
	return nil
}

// GetRecovery implements store.Store.
func (s *Store) GetRecovery(ctx context.Context, id string) (*recoveryv1.Recovery, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get recovery %q: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.recoveryRows[id]
	if !ok {
		return nil, fmt.Errorf("recovery %q: %w", id, store.ErrNotFound)
	}
	return proto.CloneOf(r), nil
}

// ListRecoveries implements store.Store.
func (s *Store) ListRecoveries(ctx context.Context, f store.RecoveryFilter) ([]*recoveryv1.Recovery, string, error) {
	size, after, paged, err := rules.RecoveryPage(f)
	if err != nil {
		return nil, "", fmt.Errorf("list recoveries: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("list recoveries: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*recoveryv1.Recovery
	for _, r := range s.recoveryRows {
		if f.Cluster != "" && r.GetCluster() != f.Cluster && r.GetClusterAlias() != f.Cluster {
			continue
		}
		if f.DetectionID != "" && r.GetDetectionId() != f.DetectionID {
			continue
		}
		if paged && !after.AfterRecovery(r) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, rules.CompareRecoveries)
	next := ""
	if len(out) > size {
		out = out[:size]
		next = rules.RecoveryCursorOf(out[size-1]).Token()
	}
	for i, r := range out {
		r = proto.CloneOf(r)
		r.Steps = nil
		out[i] = r
	}
	return out, next, nil
}

// AcknowledgeRecoveries implements store.Store.
func (s *Store) AcknowledgeRecoveries(ctx context.Context, a store.Acknowledgement) (int, error) {
	if err := rules.Acknowledgement(a); err != nil {
		return 0, fmt.Errorf("acknowledge recoveries: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("acknowledge recoveries: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.recoveryRows {
		if r.GetAcknowledgedAt() != nil || (a.Cluster != "" && r.GetCluster() != a.Cluster && r.GetClusterAlias() != a.Cluster) ||
			(a.ID != "" && r.GetId() != a.ID) {
			continue
		}
		r.AcknowledgedAt = timestamppb.New(rules.Time(a.At))
		r.AcknowledgedBy, r.AcknowledgeComment = a.By, a.Comment
		n++
	}
	return n, nil
}
