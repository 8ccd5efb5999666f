package recovery

import (
	"context"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	"github.com/vigil-db/vigil/services/recovery/failover"
	"github.com/vigil-db/vigil/services/recovery/hooks"
)

// GateHookVeto is the gate of a recovery a pre-failover hook vetoed.
const GateHookVeto = "hook-veto"

// runHooks runs the hooks of a point in order, recording each with its
// output, and returns the first failure. Hooks run whatever the outcome of
// the ones before, except that a veto (pre-failover, pre-graceful-takeover)
// stops the others.
func (s *Service) runHooks(ctx context.Context, run *failover.Run, point string) error {
	var first error
	for _, h := range s.cfg.Hooks.At(point) {
		start := time.Now()
		out, err := hooks.Run(ctx, h, hookContext(run.Record(), point))
		run.NoteOutput(ctx, "hook-"+point, err == nil, errText(err, h.Argv[0]+" exited 0"), out, start)
		if err != nil && first == nil {
			first = err
			if hooks.Vetoing(point) {
				return err
			}
		}
	}
	return first
}

// hookContext is what hooks are told about a recovery.
func hookContext(r *recoveryv1.Recovery, point string) hooks.Context {
	c := hooks.Context{
		Point: point, RecoveryID: r.GetId(), DetectionID: r.GetDetectionId(), FailureType: r.GetAnalysis(),
		Cluster: r.GetCluster(), ClusterAlias: r.GetClusterAlias(),
		FailedHost: r.GetFailedInstance().GetHost(), FailedPort: uint16(r.GetFailedInstance().GetPort()),
		SuccessorHost: r.GetSuccessor().GetHost(), SuccessorPort: uint16(r.GetSuccessor().GetPort()),
		FencingToken: r.GetFencingToken(),
	}
	if r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING {
		c.Outcome = r.GetOutcome().String()
	}
	for _, l := range r.GetLostReplicas() {
		if k, err := topology.KeyFromProto(l.GetInstance()); err == nil {
			c.LostReplicas = append(c.LostReplicas, k.String())
		}
	}
	return c
}
