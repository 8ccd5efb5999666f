package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// narrateFailovers prints, until ctx ends, every failure the analyzer
// detects and every recovery as it ends: what was promoted and repointed,
// what was lost, how long each phase took, and the tree afterwards.
func narrateFailovers(ctx context.Context, w io.Writer, a *app.App) error {
	aconn, err := grpcx.Dial(a.Addr(app.Analyzer))
	if err != nil {
		return err
	}
	defer aconn.Close()
	rconn, err := grpcx.Dial(a.Addr(app.Recovery))
	if err != nil {
		return err
	}
	defer rconn.Close()
	topo := topologyv1.NewTopologyServiceClient(aconn)
	recoveries := recoveryv1.NewRecoveryServiceClient(rconn)

	stream, err := analyzerv1.NewAnalyzerServiceClient(aconn).StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: "demo"})
	if err != nil {
		return err
	}
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				return
			}
			if d := msg.GetDetection(); d != nil && d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_STARTED {
				fmt.Fprintf(w, "\n%s detected %s on %s: %s\n", clock(), d.GetCode(), keyText(d.GetInstance()), d.GetDescription())
			}
		}
	}()

	told := make(map[string]bool)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		list, err := recoveries.ListRecoveries(ctx, &recoveryv1.ListRecoveriesRequest{PageSize: 20})
		if err != nil {
			continue
		}
		for _, r := range list.GetRecoveries() {
			if told[r.GetId()] || r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING {
				continue
			}
			told[r.GetId()] = true
			full, err := recoveries.GetRecovery(ctx, &recoveryv1.GetRecoveryRequest{Id: r.GetId()})
			if err != nil {
				continue
			}
			writeRecoveryStory(w, full.GetRecovery())
			if succ := r.GetSuccessor(); r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED && succ != nil {
				if t, err := topo.GetClusterTopology(ctx, &topologyv1.GetClusterTopologyRequest{Cluster: keyText(succ)}); err == nil {
					fmt.Fprintf(w, "\nthe tree now:\n%s\n", t.GetText())
				}
			}
		}
	}
}

// writeRecoveryStory prints one recovery for people.
func writeRecoveryStory(w io.Writer, r *recoveryv1.Recovery) {
	outcome := strings.ToLower(strings.TrimPrefix(r.GetOutcome().String(), "RECOVERY_OUTCOME_"))
	fmt.Fprintf(w, "%s recovery of %s %s: %s\n", clock(), keyText(r.GetFailedInstance()), outcome, r.GetReason())
	for _, st := range r.GetSteps() {
		switch st.GetName() {
		case "promote", "repoint", "detach-lost-replica", "publish-master", "fence-woken-master":
			ok := "done"
			if !st.GetOk() {
				ok = "FAILED: " + st.GetMessage()
			}
			fmt.Fprintf(w, "  %-20s %-22s %s in %s\n", st.GetName(), keyText(st.GetInstance()), ok, st.GetTook().AsDuration().Round(time.Millisecond))
		}
	}
	for _, l := range r.GetLostReplicas() {
		fmt.Fprintf(w, "  lost %s: %s\n", keyText(l.GetInstance()), l.GetReason())
	}
	var phases []string
	for _, p := range r.GetPhases() {
		phases = append(phases, fmt.Sprintf("%s %s", p.GetName(), p.GetTook().AsDuration().Round(time.Millisecond)))
	}
	fmt.Fprintf(w, "  phases: %s\n", strings.Join(phases, ", "))
}

func keyText(k *topologyv1.InstanceKey) string {
	if k == nil {
		return "-"
	}
	return fmt.Sprintf("%s:%d", k.GetHost(), k.GetPort())
}

func clock() string { return time.Now().Format("15:04:05.000") }
