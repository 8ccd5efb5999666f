package store

import (
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
)

// Downtime is a period in which recoveries skip an instance.
type Downtime struct {
	Key topology.InstanceKey
	// Owner is who asked for the downtime, at most MaxDowntimeOwner characters.
	Owner string
	// Reason says why, at most MaxDowntimeReason characters.
	Reason    string
	StartedAt time.Time
	// EndsAt is when the downtime ends by itself; after StartedAt.
	EndsAt time.Time
}

// Longest Downtime.Owner and Downtime.Reason, in characters.
const (
	MaxDowntimeOwner  = 200
	MaxDowntimeReason = 1000
)
