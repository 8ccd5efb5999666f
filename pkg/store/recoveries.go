package store

import "time"

// GlobalRecoveries is the switch that allows or forbids automated recoveries
// in every cluster, and who last flipped it.
type GlobalRecoveries struct {
	Enabled   bool
	UpdatedBy string
	UpdatedAt time.Time
}
