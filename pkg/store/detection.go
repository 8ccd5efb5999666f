package store

import "github.com/vigil-db/vigil/pkg/topology"

// DetectionFilter selects detections for ListDetections; zero values select
// everything.
type DetectionFilter struct {
	// Cluster matches a detection's cluster or its cluster_alias.
	Cluster string
	// Instance is the instance a detection is about; zero for any.
	Instance topology.InstanceKey
	// ActiveOnly selects only detections without cleared_at.
	ActiveOnly bool
	// PageSize is the most detections returned: 0 for DefaultPageSize,
	// anything above MaxPageSize for MaxPageSize.
	PageSize int
	// PageToken continues a previous ListDetections; "" for the first page.
	PageToken string
}

// Page sizes of ListDetections.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)
