package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// runBenchTakeover measures the write unavailability of graceful master
// takeovers under a steady write load: from the first write refused or
// stalled by the old master to the first write accepted by the new one.
// The runs hand mastership back and forth between two servers of one
// sandbox, and check every time that no acknowledged write is missing.
func runBenchTakeover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigil bench takeover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 20, "takeovers to measure")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *runs < 1 {
		return fmt.Errorf("%w: --runs must be at least 1", errUsage)
	}
	topo, remove, err := startTempSandbox(ctx, sandbox.MasterWithReplicas(2))
	if err != nil {
		return err
	}
	defer remove()
	cfg := app.DefaultConfig()
	cfg.Services = []string{app.Discovery, app.Analyzer, app.Recovery}
	cfg.Store = app.MemoryStore
	cfg.Discovery.ListenAddr, cfg.Analyzer.ListenAddr, cfg.Recovery.ListenAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	cfg.Recovery.Replication = &sandboxReplication
	a, stop, err := startServices(ctx, cfg, sandboxCreds, newLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	defer stop()
	conn, err := grpcx.Dial(a.Addr(app.Recovery))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := recoveryv1.NewRecoveryServiceClient(conn)

	from, to := topo.Master(), topo.Instance("r1")
	var unavailable, recorded []time.Duration
	for i := range *runs {
		if _, err := waitForTopology(ctx, a.Addr(app.Analyzer), from.Key, len(topo.Instances())); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		gap, took, err := benchOneTakeover(ctx, client, from, to)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		unavailable, recorded = append(unavailable, gap), append(recorded, took)
		fmt.Fprintf(stdout, "run %2d: %s -> %s: writes unavailable %s (Vigil's own read-only to writable: %s); every acknowledged write on the new master\n",
			i+1, from.Name, to.Name, gap.Round(time.Millisecond), took.Round(time.Millisecond))
		from, to = to, from
	}
	fmt.Fprintf(stdout, "graceful master takeover under a write load (%d runs):\n", len(unavailable))
	for _, s := range []struct {
		name string
		d    []time.Duration
	}{{"writes unavailable", unavailable}, {"read-only to writable", recorded}} {
		slices.Sort(s.d)
		fmt.Fprintf(stdout, "  %-22s p50 %s  p90 %s  max %s\n", s.name, pct(s.d, 50).Round(time.Millisecond),
			pct(s.d, 90).Round(time.Millisecond), s.d[len(s.d)-1].Round(time.Millisecond))
	}
	return nil
}

// benchOneTakeover hands mastership from one server to another while a
// writer writes, and returns the longest stretch without an accepted write
// and the unavailability the takeover recorded itself.
func benchOneTakeover(ctx context.Context, client recoveryv1.RecoveryServiceClient, from, to *sandbox.Instance) (time.Duration, time.Duration, error) {
	w, err := sandbox.StartWriter(ctx, from, to)
	if err != nil {
		return 0, 0, err
	}
	acked := func(server string, n int) error {
		deadline := time.Now().Add(10 * time.Second)
		for w.AckedBy(server) < n {
			if time.Now().After(deadline) {
				return fmt.Errorf("%d writes on %s after 10s", w.AckedBy(server), server)
			}
			time.Sleep(5 * time.Millisecond)
		}
		return nil
	}
	if err := acked(from.Key, 50); err != nil {
		w.Stop()
		return 0, 0, err
	}
	k, err := topology.ParseInstanceKey(to.Key)
	if err != nil {
		w.Stop()
		return 0, 0, err
	}
	resp, err := client.GracefulMasterTakeover(ctx, &recoveryv1.GracefulMasterTakeoverRequest{Cluster: from.Key, Designated: k.Proto(), RequestedBy: "bench"})
	if err != nil {
		w.Stop()
		return 0, 0, err
	}
	err = acked(to.Key, 50)
	writes, gaps := w.Stop()
	if err != nil {
		return 0, 0, err
	}
	missing, err := sandbox.MissingWrites(ctx, to, writes)
	if err != nil {
		return 0, 0, err
	}
	if len(missing) > 0 {
		return 0, 0, fmt.Errorf("new master %s lacks acknowledged writes %v", to, missing)
	}
	var took time.Duration
	for _, p := range resp.GetRecovery().GetPhases() {
		if p.GetName() == "read-only" || p.GetName() == "catch-up" || p.GetName() == "promote" {
			took += p.GetTook().AsDuration()
		}
	}
	if len(gaps) == 0 {
		return 0, took, nil
	}
	return slices.Max(gaps), took, nil
}
