package analyzer

import (
	"context"
	"slices"
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

// While an instance's own probe fails (the Unreachable family), it and its
// replicas are re-read at every chance, throttled, so the verdict follows
// the replicas the moment they notice.
var reprobeWhileCodes = map[string]bool{
	analysis.CodeUnreachableMaster:                                true,
	analysis.CodeUnreachableMasterWithLaggingReplicas:             true,
	analysis.CodeUnreachableIntermediateMaster:                    true,
	analysis.CodeUnreachableIntermediateMasterWithLaggingReplicas: true,
	analysis.CodeUnreachableCoMaster:                              true,
	analysis.CodeDeadMasterAndReplicas:                            true,
	analysis.CodeDeadIntermediateMasterAndReplicas:                true,
}

// Problems Vigil can see clearly but whose evidence is worth a second look
// (a master that answers while its replicas say they cannot reach it) are
// re-read once when they start or change.
var reprobeOnceCodes = map[string]bool{
	analysis.CodeAllMasterReplicasNotReplicating:          true,
	analysis.CodeAllMasterReplicasNotReplicatingOrDead:    true,
	analysis.CodeFirstTierReplicaFailingToConnectToMaster: true,
}

// emergency starts, in the background, the reads and restarts the problems
// call for, each throttled per instance. changed holds the detections that
// just started or changed.
func (s *Service) emergency(ctx context.Context, problems []analysis.Problem, changed []*analyzerv1.Detection, now time.Time) {
	fresh := map[string]bool{}
	for _, d := range changed {
		if d.GetState() != analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
			fresh[d.GetCode()+"/"+keyText(d.GetInstance())] = true
		}
	}
	for _, p := range problems {
		again := reprobeWhileCodes[p.Code] || (reprobeOnceCodes[p.Code] && fresh[p.Code+"/"+p.Instance.String()])
		if again && s.throttle.allow("probe", p.Instance, now, s.cfg.EmergencyProbeInterval) {
			keys := append([]topology.InstanceKey{p.Instance}, p.Related...)
			s.background.Go(func() { s.probeNow(ctx, keys) })
		}
		if p.Action == analyzerv1.Action_ACTION_RESTART_REPLICATION &&
			s.throttle.allow("restart", p.Instance, now, s.cfg.RestartReplicationInterval) {
			s.background.Go(func() { s.restartReplication(ctx, p.Instance, p.Replicas) })
		}
	}
}

// probeNow asks the discovery members that own keys to probe them now; the
// snapshots come back over the streams like any other.
func (s *Service) probeNow(ctx context.Context, keys []topology.InstanceKey) {
	ctx, cancel := context.WithTimeout(ctx, emergencyTimeout)
	defer cancel()
	for addr, owned := range s.sources.route(keys) {
		c, ok := s.sources.client(addr)
		if !ok {
			continue
		}
		if _, err := c.ProbeNow(ctx, &discoveryv1.ProbeNowRequest{Instances: protoKeys(owned)}); err != nil && ctx.Err() == nil {
			s.log.Warn("emergency read failed", "instance", keys[0].String(), "source", addr, "err", err)
		}
	}
}

// restartReplication restarts the IO thread of the replicas of an
// unreachable master whose replicas all lag: a replica that then cannot
// reconnect says so, and the verdict follows. One member restarts each
// replica: its first owner, or the first member that can.
func (s *Service) restartReplication(ctx context.Context, master topology.InstanceKey, replicas []topology.InstanceKey) {
	ctx, cancel := context.WithTimeout(ctx, emergencyTimeout)
	defer cancel()
	pending := slices.Clone(replicas)
	for addr, owned := range s.sources.route(replicas) {
		if len(pending) == 0 {
			break
		}
		owned = slices.DeleteFunc(slices.Clone(owned), func(k topology.InstanceKey) bool { return !slices.Contains(pending, k) })
		c, ok := s.sources.client(addr)
		if !ok || len(owned) == 0 {
			continue
		}
		resp, err := c.RestartReplicationIO(ctx, &discoveryv1.RestartReplicationIORequest{Instances: protoKeys(owned)})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("restarting replication failed", "instance", master.String(), "source", addr, "err", err)
			}
			continue
		}
		for _, r := range resp.GetResults() {
			if r.GetError() != "" {
				s.log.Warn("restarting replication failed", "instance", keyText(r.GetInstance()), "err", r.GetError())
			}
		}
		pending = slices.DeleteFunc(pending, func(k topology.InstanceKey) bool { return slices.Contains(owned, k) })
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
