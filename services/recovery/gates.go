package recovery

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// gate returns the first gate that stops an automated recovery of d, and
// why; "" when none does. Gates are checked in this order: the global
// switch, the cluster filters, the failed instance's downtime, the
// anti-flapping block.
func (s *Service) gate(ctx context.Context, d *analyzerv1.Detection, failed topology.InstanceKey) (gate, reason string) {
	g, err := s.store.GetGlobalRecoveries(ctx)
	if err != nil {
		return GateGlobalDisabled, "global recovery switch unreadable: " + err.Error()
	}
	if !g.Enabled {
		return GateGlobalDisabled, fmt.Sprintf("automated recoveries are disabled (by %s at %s)", g.UpdatedBy, g.UpdatedAt.Format(time.RFC3339))
	}
	if !s.covers(d.GetCluster(), d.GetClusterAlias()) {
		return GateFiltered, "cluster " + d.GetCluster() + " matches none of recovery.clusters"
	}
	downtimes, err := s.store.ListDowntimes(ctx, time.Now())
	if err != nil {
		return GateDowntimed, "downtimes unreadable: " + err.Error()
	}
	for _, dt := range downtimes {
		if dt.Key == failed && !dt.StartedAt.After(time.Now()) {
			return GateDowntimed, fmt.Sprintf("%s is downtimed until %s by %s: %s", failed, dt.EndsAt.Format(time.RFC3339), dt.Owner, dt.Reason)
		}
	}
	blocking, until, err := s.blockingRecovery(ctx, d)
	if err != nil {
		return GateBlocked, "recovery history unreadable: " + err.Error()
	}
	if blocking != nil {
		return GateBlocked, fmt.Sprintf("recovery %s of this cluster at %s is not acknowledged; automated recovery is blocked until %s",
			blocking.GetId(), blocking.GetStartedAt().AsTime().Format(time.RFC3339), until.Format(time.RFC3339))
	}
	return "", ""
}

// covers reports whether the cluster filters let automated recovery act on
// a cluster.
func (s *Service) covers(cluster, alias string) bool {
	if len(s.filters) == 0 {
		return true
	}
	for _, re := range s.filters {
		if re.MatchString(cluster) || (alias != "" && re.MatchString(alias)) {
			return true
		}
	}
	return false
}

// blockingRecovery returns the newest recovery of an earlier failure that
// blocks the automated recovery of d, and when the block ends: one that
// changed servers (succeeded, failed or aborted), within the block period,
// not acknowledged, in the same cluster. A cluster is named after its
// master, so a recovery blocks the cluster it started in and the one named
// after its successor. A recovery of d itself that was cut short does not
// block the one that completes it.
func (s *Service) blockingRecovery(ctx context.Context, d *analyzerv1.Detection) (*recoveryv1.Recovery, time.Time, error) {
	since := time.Now().Add(-s.cfg.BlockPeriod)
	var found *recoveryv1.Recovery
	err := s.eachRecovery(ctx, func(r *recoveryv1.Recovery) bool {
		if r.GetStartedAt().AsTime().Before(since) {
			return false
		}
		if blocks(r) && r.GetDetectionId() != d.GetId() && sameCluster(r, d.GetCluster(), d.GetClusterAlias()) {
			found = r
			return false
		}
		return true
	})
	if err != nil || found == nil {
		return nil, time.Time{}, err
	}
	return found, found.GetStartedAt().AsTime().Add(s.cfg.BlockPeriod), nil
}

// blocks reports whether a recovery holds the anti-flapping block. A
// planned operation does not: nothing failed.
func blocks(r *recoveryv1.Recovery) bool {
	if r.GetAcknowledgedAt() != nil || r.GetPlanned() {
		return false
	}
	switch r.GetOutcome() {
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED, recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_FAILED,
		recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED:
		return true
	}
	return false
}

// sameCluster reports whether r concerns the cluster named cluster (or
// alias), before or after its master changed.
func sameCluster(r *recoveryv1.Recovery, cluster, alias string) bool {
	if r.GetCluster() == cluster || (alias != "" && r.GetClusterAlias() == alias) {
		return true
	}
	succ, err := topology.KeyFromProto(r.GetSuccessor())
	return err == nil && succ.String() == cluster
}
