package failover

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-db/vigil/pkg/topology"
	"github.com/vigil-db/vigil/services/recovery/candidate"
)

// DeadIntermediateMaster is an intermediate master that died, its direct
// replicas, and where they go: a sibling, or the master it replicated from.
type DeadIntermediateMaster struct {
	Key      topology.InstanceKey
	Master   topology.InstanceKey
	Replicas []topology.InstanceKey
}

// RecoverDeadIntermediateMaster moves the replicas of a dead intermediate
// master under dead.Master by GTID (the caller chose it, ARCHITECTURE
// §6.2). Replicas that cannot move are detached and listed as lost.
func (r *Run) RecoverDeadIntermediateMaster(ctx context.Context, dead DeadIntermediateMaster) (Result, error) {
	res := Result{Successor: dead.Master}
	r.Phase("check-new-source")
	if s := r.MySQL.Probe(ctx, dead.Master); !topology.IsGood(s) {
		r.Note(ctx, "check-new-source", dead.Master, false, "the intermediate master's master does not answer: "+s.GetError())
		return res, fmt.Errorf("new source %s does not answer", dead.Master)
	}
	r.Phase("repoint")
	errs := parallel(dead.Replicas, func(k topology.InstanceKey) error {
		return r.Change(ctx, "repoint", k, func(ctx context.Context) error { return r.MySQL.ReplicateFrom(ctx, k, dead.Master) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	var failed []error
	for _, k := range dead.Replicas {
		if err := errs[k]; err != nil {
			res.Lost = append(res.Lost, candidate.Verdict{Key: k, Rule: "repoint-failed", Reason: err.Error()})
			failed = append(failed, err)
		}
	}
	if len(failed) == len(dead.Replicas) && len(failed) > 0 {
		return res, fmt.Errorf("no replica could move: %w", errors.Join(failed...))
	}
	return res, nil
}
