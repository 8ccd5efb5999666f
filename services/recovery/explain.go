package recovery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/store"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// explainDetections is how many of a cluster's newest detections Explain
// covers when no detection is named.
const explainDetections = 20

// Explain says, for a cluster's newest detections or the one named by
// detectionID, why a recovery ran, was skipped, blocked, vetoed or failed
// (ARCHITECTURE §6.4), with the cluster's readiness when the analyzers still
// know the cluster (a failover renames it after its new master).
func (s *Service) Explain(ctx context.Context, cluster, detectionID string) (*recoveryv1.ExplainClusterResponse, error) {
	resp := &recoveryv1.ExplainClusterResponse{}
	switch ref, err := s.resolveCluster(ctx, cluster); {
	case err == nil:
		resp.Readiness = s.readinessOf(ctx, ref)
	case !errors.Is(err, ErrUnknown):
		return nil, err
	}
	detections, err := s.detectionsOf(ctx, cluster, detectionID)
	if err != nil {
		return nil, err
	}
	if detectionID != "" && len(detections) == 0 {
		return nil, fmt.Errorf("detection %q of cluster %q: %w", detectionID, cluster, ErrUnknown)
	}
	if resp.Readiness == nil && len(detections) == 0 {
		return nil, fmt.Errorf("cluster %q: %w", cluster, ErrUnknown)
	}
	for _, d := range detections {
		e, err := s.explain(ctx, d)
		if err != nil {
			return nil, err
		}
		resp.Explanations = append(resp.Explanations, e)
	}
	return resp, nil
}

// detectionsOf returns the newest detections of a cluster, or the one with
// the given id, from the first analyzer that answers.
func (s *Service) detectionsOf(ctx context.Context, cluster, id string) ([]*analyzerv1.Detection, error) {
	var errs []error
	for i, c := range s.analyzers {
		var out []*analyzerv1.Detection
		req := &analyzerv1.ListDetectionsRequest{Cluster: cluster, PageSize: explainDetections}
		if id != "" {
			req.PageSize = 1000
		}
		for page := 0; page < 10; page++ {
			resp, err := c.ListDetections(ctx, req)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.cfg.AnalyzerAddrs[i], err))
				out = nil
				break
			}
			for _, d := range resp.GetDetections() {
				if id == "" || d.GetId() == id {
					out = append(out, d)
				}
			}
			if id == "" || len(out) > 0 || resp.GetNextPageToken() == "" {
				return out, nil
			}
			req.PageToken = resp.GetNextPageToken()
		}
		if out != nil {
			return out, nil
		}
	}
	if len(errs) == 0 {
		return nil, nil
	}
	return nil, fmt.Errorf("no analyzer answered: %w", errors.Join(errs...))
}

// explain explains one detection from its recovery records: the newest
// decides.
func (s *Service) explain(ctx context.Context, d *analyzerv1.Detection) (*recoveryv1.Explanation, error) {
	e := &recoveryv1.Explanation{
		DetectionId: d.GetId(), Analysis: d.GetCode(), Instance: d.GetInstance(),
		DetectedAt: d.GetDetectedAt(), Active: d.GetClearedAt() == nil,
	}
	if !recoverable(d) {
		e.Verdict = recoveryv1.Verdict_VERDICT_NOT_RECOVERABLE
		e.Reason = fmt.Sprintf("%s is detect-only: Vigil reports it and never recovers it by itself (%s)", d.GetCode(), d.GetDescription())
		return e, nil
	}
	recs, _, err := s.store.ListRecoveries(ctx, store.RecoveryFilter{DetectionID: d.GetId()})
	if err != nil {
		return nil, fmt.Errorf("recoveries of detection %s: %w", d.GetId(), err)
	}
	for _, r := range recs {
		e.RecoveryIds = append(e.RecoveryIds, r.GetId())
	}
	if len(recs) == 0 {
		e.Verdict = recoveryv1.Verdict_VERDICT_PENDING
		e.Reason = "no recovery process has acted on it yet"
		if !e.GetActive() {
			e.Reason = "it cleared before any recovery process acted on it"
		}
		return e, nil
	}
	full, err := s.store.GetRecovery(ctx, recs[0].GetId())
	if err != nil {
		return nil, fmt.Errorf("recovery %s: %w", recs[0].GetId(), err)
	}
	explainRecovery(e, full)
	return e, nil
}

// explainRecovery fills an explanation from the recovery that decided it.
func explainRecovery(e *recoveryv1.Explanation, r *recoveryv1.Recovery) {
	e.Reason = r.GetReason()
	switch r.GetOutcome() {
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED:
		e.Verdict = recoveryv1.Verdict_VERDICT_RECOVERED
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_FAILED:
		e.Verdict = recoveryv1.Verdict_VERDICT_FAILED
		e.Step = firstFailedStep(r)
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_ABORTED:
		e.Verdict = recoveryv1.Verdict_VERDICT_ABORTED
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_DRY_RUN:
		e.Verdict = recoveryv1.Verdict_VERDICT_DRY_RUN
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING:
		e.Verdict = recoveryv1.Verdict_VERDICT_RUNNING
	case recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SKIPPED:
		e.Verdict, e.Gate = recoveryv1.Verdict_VERDICT_SKIPPED, r.GetGate()
		switch r.GetGate() {
		case GateBlocked:
			e.Verdict = recoveryv1.Verdict_VERDICT_BLOCKED
		case GateHookVeto:
			e.Verdict = recoveryv1.Verdict_VERDICT_VETOED
			e.Hook = vetoingHook(r)
		case GateNoCandidate:
			e.Rule = GateNoCandidate
		}
	}
}

// firstFailedStep names the first step of a recovery that failed.
func firstFailedStep(r *recoveryv1.Recovery) string {
	for _, st := range r.GetSteps() {
		if !st.GetOk() {
			return st.GetName()
		}
	}
	return ""
}

// vetoingHook returns the command of the hook that vetoed a recovery, read
// from its step (`hook "argv0": exit status 1`).
func vetoingHook(r *recoveryv1.Recovery) string {
	for _, st := range r.GetSteps() {
		if !strings.HasPrefix(st.GetName(), "hook-pre-") || st.GetOk() {
			continue
		}
		_, rest, _ := strings.Cut(st.GetMessage(), "hook ")
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			cmd, _ := strconv.Unquote(q)
			return cmd
		}
		return st.GetMessage()
	}
	return ""
}

func (h *server) ExplainCluster(ctx context.Context, req *recoveryv1.ExplainClusterRequest) (*recoveryv1.ExplainClusterResponse, error) {
	cluster, _, err := clusterAndCaller(req.GetCluster(), "")
	if err != nil {
		return nil, err
	}
	resp, err := h.svc.Explain(ctx, cluster, strings.TrimSpace(req.GetDetectionId()))
	if err != nil {
		if errors.Is(err, ErrUnknown) {
			return nil, status.Error(codes.NotFound, err.Error())
		}
		return nil, operationError(err)
	}
	return resp, nil
}
