package store

import "time"

// GlobalRecoveries is the switch that allows or forbids automated recoveries
// in every cluster, and who last flipped it.
type GlobalRecoveries struct {
	Enabled   bool
	UpdatedBy string
	UpdatedAt time.Time
}

// RecoveryFilter selects recoveries for ListRecoveries; zero values select
// everything.
type RecoveryFilter struct {
	// Cluster matches a recovery's cluster or its cluster_alias.
	Cluster string
	// DetectionID matches the detection a recovery acted on.
	DetectionID string
	// PageSize is the most recoveries returned: 0 for DefaultPageSize,
	// anything above MaxPageSize for MaxPageSize.
	PageSize int
	// PageToken continues a previous ListRecoveries; "" for the first page.
	PageToken string
}

// Acknowledgement lifts the anti-flapping block of the recoveries it names.
type Acknowledgement struct {
	// Cluster is a cluster name or alias, ID one recovery; both ""
	// acknowledge every recovery.
	Cluster string
	ID      string
	By      string
	Comment string
	At      time.Time
}
