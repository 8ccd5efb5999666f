package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// destinationKey returns the instance given with -d, or nil when it is
// optional and missing.
func (inv *invocation) destinationKey(required bool) (*topologyv1.InstanceKey, error) {
	if inv.opts.destination == "" {
		if required {
			return nil, usagef("%s: -d host:port is required: the replica to promote", inv.cmd.name)
		}
		return nil, nil
	}
	k, err := topology.ParseInstanceKey(inv.opts.destination)
	if err != nil {
		return nil, usagef("-d: %v", err)
	}
	return k.Proto(), nil
}

// operationCluster returns the cluster of a planned operation: --cluster,
// or the cluster of -i. Arguments are checked before anything is asked.
func (inv *invocation) operationCluster(ctx context.Context) (string, error) {
	if _, _, err := inv.clusterOrInstance(); err != nil {
		return "", err
	}
	client, err := inv.topology()
	if err != nil {
		return "", err
	}
	return inv.clusterName(ctx, client)
}

func runGracefulMasterTakeover(ctx context.Context, inv *invocation) error {
	return gracefulMasterTakeover(ctx, inv, true)
}

func runGracefulMasterTakeoverAuto(ctx context.Context, inv *invocation) error {
	return gracefulMasterTakeover(ctx, inv, false)
}

func gracefulMasterTakeover(ctx context.Context, inv *invocation, designatedRequired bool) error {
	designated, err := inv.destinationKey(designatedRequired)
	if err != nil {
		return err
	}
	cluster, err := inv.operationCluster(ctx)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.GracefulMasterTakeover(ctx, &recoveryv1.GracefulMasterTakeoverRequest{
		Cluster: cluster, Designated: designated, RequestedBy: inv.opts.caller})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetRecovery().GetSuccessor()) })
}

func runForceMasterFailover(ctx context.Context, inv *invocation) error {
	cluster, err := inv.operationCluster(ctx)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ForceMasterFailover(ctx, &recoveryv1.ForceMasterFailoverRequest{Cluster: cluster, RequestedBy: inv.opts.caller})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetRecovery().GetSuccessor()) })
}

func runForceMasterTakeover(ctx context.Context, inv *invocation) error {
	designated, err := inv.destinationKey(true)
	if err != nil {
		return err
	}
	cluster, err := inv.operationCluster(ctx)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ForceMasterTakeover(ctx, &recoveryv1.ForceMasterTakeoverRequest{
		Cluster: cluster, Designated: designated, RequestedBy: inv.opts.caller})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetRecovery().GetSuccessor()) })
}

func runRecover(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	candidate, err := inv.destinationKey(false)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.RecoverInstance(ctx, &recoveryv1.RecoverInstanceRequest{Instance: key, Candidate: candidate, RequestedBy: inv.opts.caller})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, resp.GetRecovery().GetSuccessor()) })
}

// promotionRules are the names --promotion-rule accepts.
var promotionRules = map[string]topologyv1.PromotionRule{
	"must": topologyv1.PromotionRule_PROMOTION_RULE_MUST, "prefer": topologyv1.PromotionRule_PROMOTION_RULE_PREFER,
	"neutral": topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL, "prefer_not": topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT,
	"must_not": topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT,
}

func runRegisterCandidate(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	rule, ok := promotionRules[strings.ReplaceAll(strings.ToLower(inv.opts.promotionRule), "-", "_")]
	if !ok {
		return usagef("%s: --promotion-rule %q: want must, prefer, neutral, prefer_not or must_not", inv.cmd.name, inv.opts.promotionRule)
	}
	req := &recoveryv1.RegisterCandidateRequest{Instance: key, PromotionRule: rule, RequestedBy: inv.opts.caller}
	if inv.opts.duration != "" {
		d, err := time.ParseDuration(inv.opts.duration)
		if err != nil || d <= 0 {
			return usagef("--duration %q: not a positive duration such as 90m or 24h", inv.opts.duration)
		}
		req.Duration = durationpb.New(d)
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.RegisterCandidate(ctx, req)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, key) })
}

func runCandidates(ctx context.Context, inv *invocation) error {
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ListCandidates(ctx, &recoveryv1.ListCandidatesRequest{})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, c := range resp.GetRegistrations() {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", keyString(c.GetInstance()), ruleName(c.GetPromotionRule()), timeString(c.GetExpiresAt()), c.GetRequestedBy())
		}
	})
}

func runReadiness(ctx context.Context, inv *invocation) error {
	cluster, err := inv.operationCluster(ctx)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.GetFailoverReadiness(ctx, &recoveryv1.GetFailoverReadinessRequest{Cluster: cluster})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeReadiness(w, resp.GetReadiness()) })
}

func runExplain(ctx context.Context, inv *invocation) error {
	cluster, err := inv.operationCluster(ctx)
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ExplainCluster(ctx, &recoveryv1.ExplainClusterRequest{Cluster: cluster, DetectionId: inv.opts.detection})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		if resp.GetReadiness() != nil {
			writeReadiness(w, resp.GetReadiness())
		}
		for _, e := range resp.GetExplanations() {
			writeExplanation(w, e)
		}
	})
}

// writeReadiness writes what a recovery of the master would do now.
func writeReadiness(w *bytes.Buffer, r *recoveryv1.FailoverReadiness) {
	promote := "none"
	if r.GetWouldPromote() != nil {
		promote = keyString(r.GetWouldPromote())
	}
	fmt.Fprintf(w, "cluster %s, master %s\n", r.GetCluster(), instanceString(r.GetMaster()))
	fmt.Fprintf(w, "if the master died now: promote %s\n", promote)
	for _, v := range r.GetRefused() {
		fmt.Fprintf(w, "  refused %s: %s (%s)\n", keyString(v.GetInstance()), v.GetRule(), v.GetReason())
	}
	for _, v := range r.GetWouldLose() {
		fmt.Fprintf(w, "  would lose %s: %s\n", keyString(v.GetInstance()), v.GetReason())
	}
	gate := "none"
	if r.GetGate() != "" {
		gate = r.GetGate() + ": " + r.GetGateReason()
	}
	fmt.Fprintf(w, "gate: %s\n", gate)
	ready := "no"
	if r.GetReady() {
		ready = "yes"
	}
	fmt.Fprintf(w, "ready: %s\n", ready)
}

// writeExplanation writes why one detection was or was not recovered.
func writeExplanation(w *bytes.Buffer, e *recoveryv1.Explanation) {
	state := "cleared"
	if e.GetActive() {
		state = "active"
	}
	verdict := strings.ToLower(strings.TrimPrefix(e.GetVerdict().String(), "VERDICT_"))
	fmt.Fprintf(w, "\ndetection %s %s %s at %s (%s): %s\n", e.GetDetectionId(), e.GetAnalysis(), instanceString(e.GetInstance()),
		timeString(e.GetDetectedAt()), state, verdict)
	for _, f := range []struct{ name, value string }{{"gate", e.GetGate()}, {"rule", e.GetRule()}, {"hook", e.GetHook()}, {"step", e.GetStep()}} {
		if f.value != "" {
			fmt.Fprintf(w, "  %s: %s\n", f.name, f.value)
		}
	}
	if e.GetReason() != "" {
		fmt.Fprintf(w, "  %s\n", e.GetReason())
	}
	if len(e.GetRecoveryIds()) > 0 {
		fmt.Fprintf(w, "  recoveries: %s\n", strings.Join(e.GetRecoveryIds(), " "))
	}
}

// ruleName is a promotion rule as configured: must, prefer, neutral,
// prefer_not, must_not.
func ruleName(r topologyv1.PromotionRule) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "PROMOTION_RULE_"))
}
