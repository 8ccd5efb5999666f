package rules

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Candidate checks the input of RegisterCandidate and returns it with its
// times as stores keep them.
func Candidate(c store.Candidate) (store.Candidate, error) {
	if err := c.Key.Validate(); err != nil {
		return store.Candidate{}, fmt.Errorf("%w: key: %w", store.ErrInvalidArgument, err)
	}
	if _, known := topologyv1.PromotionRule_name[int32(c.Rule)]; !known || c.Rule == topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: promotion rule %d is not one of must, prefer, neutral, prefer_not, must_not",
			store.ErrInvalidArgument, c.Key, c.Rule)
	}
	if err := Text(c.By); err != nil {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: by %w", store.ErrInvalidArgument, c.Key, err)
	}
	if n := utf8.RuneCountInString(c.By); n > store.MaxCandidateBy {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: by is %d characters long, more than %d", store.ErrInvalidArgument, c.Key, n, store.MaxCandidateBy)
	}
	if c.RegisteredAt.IsZero() {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: registered_at is missing", store.ErrInvalidArgument, c.Key)
	}
	if err := timestamppb.New(c.RegisteredAt).CheckValid(); err != nil {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: registered_at: %w", store.ErrInvalidArgument, c.Key, err)
	}
	if err := timestamppb.New(c.ExpiresAt).CheckValid(); err != nil {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: expires_at: %w", store.ErrInvalidArgument, c.Key, err)
	}
	c.RegisteredAt, c.ExpiresAt = Time(c.RegisteredAt), Time(c.ExpiresAt)
	if !c.ExpiresAt.After(c.RegisteredAt) {
		return store.Candidate{}, fmt.Errorf("%w: candidate %s: expires_at %v is not after registered_at %v",
			store.ErrInvalidArgument, c.Key, c.ExpiresAt, c.RegisteredAt)
	}
	return c, nil
}
