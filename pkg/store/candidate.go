package store

import (
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Candidate is a promotion rule an operator registered on an instance, in
// force until ExpiresAt.
type Candidate struct {
	Key topology.InstanceKey
	// Rule is a defined promotion rule other than UNSPECIFIED.
	Rule topologyv1.PromotionRule
	// By is who registered it, at most MaxCandidateBy characters.
	By           string
	RegisteredAt time.Time
	// ExpiresAt is after RegisteredAt.
	ExpiresAt time.Time
}

// MaxCandidateBy is the longest Candidate.By, in characters.
const MaxCandidateBy = 200
