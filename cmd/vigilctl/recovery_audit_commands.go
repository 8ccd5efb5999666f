package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

func runAuditRecovery(ctx context.Context, inv *invocation) error {
	if inv.opts.limit <= 0 {
		return usagef("--limit %d: must be positive", inv.opts.limit)
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	recoveries, err := firstN(inv.opts.limit, func(token string, pageSize int32) ([]*recoveryv1.Recovery, string, error) {
		resp, err := client.ListRecoveries(ctx, &recoveryv1.ListRecoveriesRequest{
			Cluster: inv.opts.cluster, PageSize: pageSize, PageToken: token,
		})
		return resp.GetRecoveries(), resp.GetNextPageToken(), err
	})
	if err != nil {
		return err
	}
	resp := &recoveryv1.ListRecoveriesResponse{Recoveries: recoveries}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, r := range recoveries {
			writeRecoveryLine(w, r)
		}
	})
}

func runRecoverySteps(ctx context.Context, inv *invocation) error {
	if inv.opts.id == "" {
		return usagef("%s: --id is required, as audit-recovery prints it", inv.cmd.name)
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.GetRecovery(ctx, &recoveryv1.GetRecoveryRequest{Id: inv.opts.id})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		r := resp.GetRecovery()
		writeRecoveryLine(w, r)
		for _, p := range r.GetPhases() {
			fmt.Fprintf(w, "  phase %s %s\n", p.GetName(), p.GetTook().AsDuration())
		}
		for _, st := range r.GetSteps() {
			ok := "ok"
			if !st.GetOk() {
				ok = "FAILED"
			}
			fmt.Fprintf(w, "  step %s %s %s %s: %s\n", timeString(st.GetAt()), st.GetName(), instanceString(st.GetInstance()), ok, st.GetMessage())
			if st.GetOutput() != "" {
				fmt.Fprintf(w, "    output: %s\n", strings.ReplaceAll(st.GetOutput(), "\n", "\n    "))
			}
		}
		for _, l := range r.GetLostReplicas() {
			fmt.Fprintf(w, "  lost %s: %s\n", instanceString(l.GetInstance()), l.GetReason())
		}
	})
}

func runBlockedRecoveries(ctx context.Context, inv *invocation) error {
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ListBlockedRecoveries(ctx, &recoveryv1.ListBlockedRecoveriesRequest{})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, c := range resp.GetClusters() {
			fmt.Fprintf(w, "%s blocked until %s by recovery %s\n", c.GetCluster(), timeString(c.GetBlockedUntil()), c.GetRecoveryId())
		}
	})
}

func runAckClusterRecoveries(ctx context.Context, inv *invocation) error {
	if inv.opts.cluster == "" {
		return usagef("%s: --cluster is required", inv.cmd.name)
	}
	return acknowledge(ctx, inv, &recoveryv1.AcknowledgeRecoveriesRequest{Cluster: inv.opts.cluster})
}

func runAckAllRecoveries(ctx context.Context, inv *invocation) error {
	return acknowledge(ctx, inv, &recoveryv1.AcknowledgeRecoveriesRequest{All: true})
}

func acknowledge(ctx context.Context, inv *invocation, req *recoveryv1.AcknowledgeRecoveriesRequest) error {
	if inv.opts.reason == "" {
		return usagef("%s: --reason is required: say why the recoveries are acknowledged", inv.cmd.name)
	}
	req.Comment, req.RequestedBy = inv.opts.reason, inv.opts.caller
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.AcknowledgeRecoveries(ctx, req)
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { fmt.Fprintf(w, "%d acknowledged\n", resp.GetAcknowledged()) })
}

// writeRecoveryLine writes "started_at id analysis failed -> successor
// OUTCOME [gate] reason".
func writeRecoveryLine(w *bytes.Buffer, r *recoveryv1.Recovery) {
	outcome := strings.TrimPrefix(r.GetOutcome().String(), "RECOVERY_OUTCOME_")
	fmt.Fprintf(w, "%s %s %s %s -> %s %s", timeString(r.GetStartedAt()), r.GetId(), r.GetAnalysis(),
		instanceString(r.GetFailedInstance()), instanceString(r.GetSuccessor()), outcome)
	if r.GetGate() != "" {
		fmt.Fprintf(w, " [%s]", r.GetGate())
	}
	if r.GetReason() != "" {
		fmt.Fprintf(w, ": %s", r.GetReason())
	}
	w.WriteByte('\n')
}
