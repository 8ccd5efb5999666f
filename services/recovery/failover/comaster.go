package failover

import (
	"context"
	"fmt"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
)

// DeadCoMaster is a co-master that died: the other member of its ring, and
// its other direct replicas.
type DeadCoMaster struct {
	Key      topology.InstanceKey
	CoMaster topology.InstanceKey
	Replicas []topology.InstanceKey
}

// RecoverDeadCoMaster makes the surviving co-master the only master, as
// orchestrator does: fence the dead one as far as it answers, stop the IO
// threads of its replicas and of the survivor so that nothing more comes
// from it, let relay logs apply, promote the survivor and move the dead
// co-master's replicas under it by GTID. A replica that cannot follow (one
// ahead of the survivor refuses to) is detached and listed as lost.
func (r *Run) RecoverDeadCoMaster(ctx context.Context, dead DeadCoMaster) (Result, error) {
	res := Result{Successor: dead.CoMaster, OldMasterFenced: r.fenceOldMaster(ctx, dead.Key)}
	all := append([]topology.InstanceKey{dead.CoMaster}, dead.Replicas...)
	r.Phase("fence")
	errs := parallel(all, func(k topology.InstanceKey) error {
		return r.Change(ctx, "stop-replication-io", k, func(ctx context.Context) error { return r.MySQL.StopReplicationIO(ctx, k) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	r.Phase("relay-logs")
	errs = parallel(all, func(k topology.InstanceKey) error {
		return r.change(ctx, "apply-relay-log", k, r.Bounds.RelayLog, func(ctx context.Context) error {
			return r.MySQL.WaitRelayLogApplied(ctx, k, pollInterval)
		})
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	r.Phase("promote")
	if err := r.Change(ctx, "promote", dead.CoMaster, func(ctx context.Context) error {
		return r.MySQL.Promote(ctx, dead.CoMaster)
	}); err != nil {
		return res, fmt.Errorf("promote %s: %w", dead.CoMaster, err)
	}
	r.Phase("repoint")
	errs = parallel(dead.Replicas, func(k topology.InstanceKey) error {
		return r.Change(ctx, "repoint", k, func(ctx context.Context) error { return r.MySQL.ReplicateFrom(ctx, k, dead.CoMaster) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	var lost []topology.InstanceKey
	for _, k := range dead.Replicas {
		if err := errs[k]; err != nil {
			res.Lost = append(res.Lost, candidate.Verdict{Key: k, Rule: "repoint-failed", Reason: err.Error()})
			lost = append(lost, k)
		}
	}
	errs = parallel(lost, func(k topology.InstanceKey) error {
		return r.Change(ctx, "detach-lost-replica", k, func(ctx context.Context) error { return r.MySQL.StopReplication(ctx, k) })
	})
	return res, fenced(errs)
}
