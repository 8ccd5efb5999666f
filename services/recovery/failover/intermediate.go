package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
)

// DeadIntermediateMaster is an intermediate master that died, its direct
// replicas, and where they go (the caller chose, ARCHITECTURE §6.2): under
// Master, a sibling or its own master; or, when Leader is one of the
// replicas, Leader under Master and the others under Leader.
type DeadIntermediateMaster struct {
	Key      topology.InstanceKey
	Master   topology.InstanceKey
	Leader   topology.InstanceKey
	Replicas []topology.InstanceKey
}

// RecoverDeadIntermediateMaster moves the replicas of a dead intermediate
// master by GTID. Replicas that cannot move are listed as lost.
func (r *Run) RecoverDeadIntermediateMaster(ctx context.Context, dead DeadIntermediateMaster) (Result, error) {
	res := Result{Successor: dead.Master}
	r.Phase("check-new-source")
	if s := r.MySQL.Probe(ctx, dead.Master); !topology.IsGood(s) {
		r.Note(ctx, "check-new-source", dead.Master, false, "the intermediate master's master does not answer: "+s.GetError())
		return res, fmt.Errorf("new source %s does not answer", dead.Master)
	}
	r.Phase("repoint")
	replicas, source := dead.Replicas, dead.Master
	if !dead.Leader.IsZero() {
		if err := r.Change(ctx, "repoint", dead.Leader, func(ctx context.Context) error {
			return r.MySQL.ReplicateFrom(ctx, dead.Leader, dead.Master)
		}); err != nil {
			return res, fmt.Errorf("regroup leader %s: %w", dead.Leader, err)
		}
		res.Successor, source = dead.Leader, dead.Leader
		replicas = slices.DeleteFunc(slices.Clone(replicas), func(k topology.InstanceKey) bool { return k == dead.Leader })
	}
	errs := parallel(replicas, func(k topology.InstanceKey) error {
		return r.Change(ctx, "repoint", k, func(ctx context.Context) error { return r.MySQL.ReplicateFrom(ctx, k, source) })
	})
	if err := fenced(errs); err != nil {
		return res, err
	}
	var failed []error
	for _, k := range replicas {
		if err := errs[k]; err != nil {
			res.Lost = append(res.Lost, candidate.Verdict{Key: k, Rule: "repoint-failed", Reason: err.Error()})
			failed = append(failed, err)
		}
	}
	if len(failed) == len(replicas) && len(failed) > 0 {
		return res, fmt.Errorf("no replica could move: %w", errors.Join(failed...))
	}
	return res, nil
}
