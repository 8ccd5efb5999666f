package topology

import (
	"testing"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestIsGood(t *testing.T) {
	tests := []struct {
		name string
		snap *topologyv1.Snapshot
		want bool
	}{
		{"complete", &topologyv1.Snapshot{Reachable: true}, true},
		{"unreachable", &topologyv1.Snapshot{ErrorClass: topologyv1.ErrorClass_ERROR_CLASS_REFUSED}, false},
		{"access denied", &topologyv1.Snapshot{ErrorClass: topologyv1.ErrorClass_ERROR_CLASS_AUTH}, false},
		{"missing privilege", &topologyv1.Snapshot{Reachable: true, Partial: true, ErrorClass: topologyv1.ErrorClass_ERROR_CLASS_PRIVILEGE}, false},
		{"partial for another reason", &topologyv1.Snapshot{Reachable: true, Partial: true, ErrorClass: topologyv1.ErrorClass_ERROR_CLASS_OTHER}, true},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsGood(tt.snap); got != tt.want {
				t.Errorf("IsGood = %v, want %v", got, tt.want)
			}
		})
	}
}
