package rules

import (
	"cmp"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// Recovery checks a recovery for SaveRecovery.
func Recovery(r *recoveryv1.Recovery) error {
	if r.GetId() == "" {
		return fmt.Errorf("%w: recovery: id is empty", store.ErrInvalidArgument)
	}
	for name, v := range map[string]string{"id": r.GetId(), "detection_id": r.GetDetectionId(), "cluster": r.GetCluster(), "cluster_alias": r.GetClusterAlias()} {
		if err := Text(v); err != nil {
			return fmt.Errorf("%w: recovery %q: %s %w", store.ErrInvalidArgument, r.GetId(), name, err)
		}
	}
	if err := r.GetStartedAt().CheckValid(); err != nil {
		return fmt.Errorf("%w: recovery %q: started_at: %w", store.ErrInvalidArgument, r.GetId(), err)
	}
	return nil
}

// Acknowledgement checks an acknowledgement for AcknowledgeRecoveries.
func Acknowledgement(a store.Acknowledgement) error {
	for name, v := range map[string]string{"cluster": a.Cluster, "id": a.ID, "by": a.By, "comment": a.Comment} {
		if err := Text(v); err != nil {
			return fmt.Errorf("%w: acknowledgement: %s %w", store.ErrInvalidArgument, name, err)
		}
	}
	if a.At.IsZero() {
		return fmt.Errorf("%w: acknowledgement: time is zero", store.ErrInvalidArgument)
	}
	return nil
}

// CompareRecoveries orders recoveries as ListRecoveries returns them:
// newest started_at first, then the greater id (bytewise).
func CompareRecoveries(a, b *recoveryv1.Recovery) int {
	return cmp.Or(
		Time(b.GetStartedAt().AsTime()).Compare(Time(a.GetStartedAt().AsTime())),
		strings.Compare(b.GetId(), a.GetId()),
	)
}

// RecoveryCursorOf returns the cursor of the page that follows r.
func RecoveryCursorOf(r *recoveryv1.Recovery) Cursor {
	return Cursor{At: Time(r.GetStartedAt().AsTime()), ID: r.GetId()}
}

// AfterRecovery reports whether r comes after c in ListRecoveries order.
func (c Cursor) AfterRecovery(r *recoveryv1.Recovery) bool {
	return CompareRecoveries(&recoveryv1.Recovery{Id: c.ID, StartedAt: timestamppb.New(c.At)}, r) < 0
}

// RecoveryPage checks a filter for ListRecoveries and returns its page size
// and the cursor its page token names (ok is false for the first page).
func RecoveryPage(f store.RecoveryFilter) (size int, c Cursor, ok bool, err error) {
	return DetectionPage(store.DetectionFilter{PageSize: f.PageSize, PageToken: f.PageToken})
}
