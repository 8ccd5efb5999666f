package recovery

import (
	"context"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/candidate"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// GateDryRun is the gate readiness reports when recoveries only go as far
// as choosing the candidate.
const GateDryRun = "dry-run"

// Readiness answers, for a cluster as the analyzer sees it now (ARCHITECTURE
// §6.4): if the master died now, which replica would be promoted, which
// replicas would be lost and why, and which gate would stop the recovery.
// The replicas are judged on their latest snapshots, before any relay log
// is applied; the rules are those of the recovery itself.
func (s *Service) Readiness(ctx context.Context, cluster string) (*recoveryv1.FailoverReadiness, error) {
	ref, err := s.resolveCluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	return s.readinessOf(ctx, ref), nil
}

func (s *Service) readinessOf(ctx context.Context, ref clusterRef) *recoveryv1.FailoverReadiness {
	r := &recoveryv1.FailoverReadiness{Cluster: ref.name, Master: ref.master.Proto(), EvaluatedAt: timestamppb.Now()}
	master := ref.seenMaster.GetSnapshot()
	live := ref.seenMaster.GetReachable() && topology.IsGood(master)
	if !live && ref.seenMaster.GetLastGoodSnapshot() != nil {
		master = ref.seenMaster.GetLastGoodSnapshot()
	}
	in := candidate.Input{Dead: master, Live: live}
	for i, inst := range ref.seenReplicas {
		snap := inst.GetSnapshot()
		in.Replicas = append(in.Replicas, candidate.Replica{
			Key: ref.replicas[i], Snapshot: snap, Valid: inst.GetReachable() && topology.IsGood(snap),
			Errant: candidate.Errant(snap, master), Rule: snap.GetClassification().GetPromotionRule(),
		})
	}
	choice, err := candidate.Choose(in)
	for _, v := range choice.Refused {
		r.Refused = append(r.Refused, verdictProto(v))
	}
	if err == nil {
		r.WouldPromote = choice.Promote.Proto()
		for _, v := range choice.Lost {
			r.WouldLose = append(r.WouldLose, verdictProto(v))
		}
	}
	if s.cfg.DryRun {
		r.Gate, r.GateReason = GateDryRun, "recovery.dry_run is set: a recovery would choose the candidate and change nothing"
	}
	d := &analyzerv1.Detection{Cluster: ref.name, ClusterAlias: ref.alias}
	if gate, reason := s.gate(ctx, d, ref.master); gate != "" {
		r.Gate, r.GateReason = gate, reason
	}
	r.Ready = err == nil && len(choice.Lost) == 0 && r.GetGate() == ""
	return r
}

func verdictProto(v candidate.Verdict) *recoveryv1.ReplicaVerdict {
	return &recoveryv1.ReplicaVerdict{Instance: v.Key.Proto(), Rule: v.Rule, Reason: v.Reason}
}

func (h *server) GetFailoverReadiness(ctx context.Context, req *recoveryv1.GetFailoverReadinessRequest) (*recoveryv1.GetFailoverReadinessResponse, error) {
	cluster, _, err := clusterAndCaller(req.GetCluster(), "")
	if err != nil {
		return nil, err
	}
	r, err := h.svc.Readiness(ctx, cluster)
	if err != nil {
		return nil, operationError(err)
	}
	return &recoveryv1.GetFailoverReadinessResponse{Readiness: r}, nil
}
