package analyzer

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/analyzer/analysis"
)

// emergencyTimeout bounds one emergency read or restart.
const emergencyTimeout = 5 * time.Second

// reprobeCodes are the problems on which the failed instance and its
// replicas are read again at once instead of at their next poll: a master
// or intermediate master whose probe failed, and replicas that cannot reach
// a master that answers.
var reprobeCodes = map[string]bool{
	analysis.CodeUnreachableMaster:                                true,
	analysis.CodeUnreachableMasterWithLaggingReplicas:             true,
	analysis.CodeUnreachableIntermediateMaster:                    true,
	analysis.CodeUnreachableIntermediateMasterWithLaggingReplicas: true,
	analysis.CodeUnreachableCoMaster:                              true,
	analysis.CodeDeadMasterAndReplicas:                            true,
	analysis.CodeDeadIntermediateMasterAndReplicas:                true,
	analysis.CodeAllMasterReplicasNotReplicating:                  true,
	analysis.CodeAllMasterReplicasNotReplicatingOrDead:            true,
	analysis.CodeFirstTierReplicaFailingToConnectToMaster:         true,
}

// emergency starts, in the background, the reads and restarts the problems
// call for, each throttled per instance.
func (s *Service) emergency(ctx context.Context, problems []analysis.Problem, now time.Time) {
	for _, p := range problems {
		if reprobeCodes[p.Code] && s.throttle.allow("probe", p.Instance, now, s.cfg.EmergencyProbeInterval) {
			keys := append([]topology.InstanceKey{p.Instance}, p.Related...)
			go s.probeNow(ctx, keys)
		}
		if p.Action == analyzerv1.Action_ACTION_RESTART_REPLICATION &&
			s.throttle.allow("restart", p.Instance, now, s.cfg.RestartReplicationInterval) {
			go s.restartReplication(ctx, p.Instance, p.Replicas)
		}
	}
}

// probeNow asks every discovery member to probe keys now; the snapshots come
// back over the streams like any other.
func (s *Service) probeNow(ctx context.Context, keys []topology.InstanceKey) {
	ctx, cancel := context.WithTimeout(ctx, emergencyTimeout)
	defer cancel()
	req := &discoveryv1.ProbeNowRequest{Instances: protoKeys(keys)}
	for _, c := range s.discovery {
		if _, err := c.ProbeNow(ctx, req); err != nil && ctx.Err() == nil {
			s.log.Warn("emergency read failed", "instance", keys[0].String(), "err", err)
		}
	}
}

// restartReplication restarts the IO thread of the replicas of an
// unreachable master whose replicas all lag: a replica that then cannot
// reconnect says so, and the verdict follows.
func (s *Service) restartReplication(ctx context.Context, master topology.InstanceKey, replicas []topology.InstanceKey) {
	ctx, cancel := context.WithTimeout(ctx, emergencyTimeout)
	defer cancel()
	req := &discoveryv1.RestartReplicationIORequest{Instances: protoKeys(replicas)}
	for _, c := range s.discovery {
		resp, err := c.RestartReplicationIO(ctx, req)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("restarting replication failed", "instance", master.String(), "err", err)
			}
			continue
		}
		for _, r := range resp.GetResults() {
			if r.GetError() != "" {
				s.log.Warn("restarting replication failed", "instance", keyText(r.GetInstance()), "err", r.GetError())
			}
		}
		break // one member restarting is enough
	}
	s.log.Info("restarted replication to force a verdict", "instance", master.String(), "replicas", len(replicas))
	s.probeNow(ctx, append([]topology.InstanceKey{master}, replicas...))
}

func protoKeys(keys []topology.InstanceKey) []*topologyv1.InstanceKey {
	out := make([]*topologyv1.InstanceKey, len(keys))
	for i, k := range keys {
		out[i] = k.Proto()
	}
	return out
}

// throttle remembers when an action last ran per instance.
type throttle struct {
	mu   sync.Mutex
	last map[string]time.Time
}

func newThrottle() *throttle { return &throttle{last: make(map[string]time.Time)} }

// allow reports whether the action may run on key now, and if so records it.
func (t *throttle) allow(action string, key topology.InstanceKey, now time.Time, every time.Duration) bool {
	k := action + "/" + key.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[k]; ok && now.Sub(last) < every {
		return false
	}
	t.last[k] = now
	return true
}
