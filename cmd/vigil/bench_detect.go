package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// runBenchDetect measures how long Vigil takes from a master failure to the
// DeadMaster event on the failure stream, over many runs against a sandbox.
func runBenchDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigil bench detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 20, "failures to measure")
	failure := fs.String("failure", "kill", "how the master fails: kill (kill -9) or stop (SIGSTOP)")
	poll := fs.Duration("poll-interval", time.Second, "discovery poll interval")
	watch := fs.Bool("liveness-watch", true, "keep discovery's liveness watch on the master")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *failure != "kill" && *failure != "stop" {
		return fmt.Errorf("%w: --failure must be kill or stop, not %q", errUsage, *failure)
	}

	topo, remove, err := startTempSandbox(ctx, sandbox.MasterWithReplicas(2))
	if err != nil {
		return err
	}
	defer remove()
	master := topo.Master()

	cfg := app.DefaultConfig()
	cfg.Services = []string{app.Discovery, app.Analyzer}
	cfg.Store = app.MemoryStore
	cfg.Discovery.ListenAddr, cfg.Analyzer.ListenAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Discovery.PollInterval = *poll
	cfg.Discovery.LivenessWatch = *watch
	cfg.Discovery.Seeds = []string{master.Key}
	a, stop, err := startServices(ctx, cfg, sandboxCreds, newLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	defer stop()
	if _, err := waitForTopology(ctx, a.Addr(app.Analyzer), master.Key, len(topo.Instances())); err != nil {
		return err
	}

	conn, err := grpcx.Dial(a.Addr(app.Analyzer))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := analyzerv1.NewAnalyzerServiceClient(conn)
	deadMaster, err := followDeadMaster(ctx, client, master.Key)
	if err != nil {
		return err
	}

	var latencies []time.Duration
	for i := range *runs {
		if err := waitHealthy(ctx, topo, client); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		// Fail at a random point of the poll cycle.
		time.Sleep(time.Duration(rand.Int64N(int64(*poll))))
		drain(deadMaster)
		failed := time.Now()
		if *failure == "kill" {
			err = master.Kill()
		} else {
			err = master.Freeze()
		}
		if err != nil {
			return err
		}
		select {
		case at := <-deadMaster:
			latencies = append(latencies, at.Sub(failed))
			fmt.Fprintf(stdout, "run %2d: DeadMaster after %s\n", i+1, at.Sub(failed).Round(time.Millisecond))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("run %d: no DeadMaster within 30s", i+1)
		case <-ctx.Done():
			return ctx.Err()
		}
		if *failure == "kill" {
			err = master.StartAgain(ctx)
		} else {
			err = master.Thaw()
		}
		if err != nil {
			return err
		}
	}
	slices.Sort(latencies)
	fmt.Fprintf(stdout, "detection latency, %s of the master -> DeadMaster event (%d runs, poll interval %s, liveness watch %v):\n", *failure, len(latencies), *poll, *watch)
	fmt.Fprintf(stdout, "  p50 %s  p90 %s  max %s\n", pct(latencies, 50).Round(time.Millisecond),
		pct(latencies, 90).Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond))
	return nil
}

// followDeadMaster sends the arrival time of every DeadMaster that starts on
// master.
func followDeadMaster(ctx context.Context, client analyzerv1.AnalyzerServiceClient, master string) (<-chan time.Time, error) {
	stream, err := client.StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: "bench"})
	if err != nil {
		return nil, err
	}
	out := make(chan time.Time, 16)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				return
			}
			d := msg.GetDetection()
			k := d.GetInstance()
			if d.GetCode() == "DeadMaster" && d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_STARTED &&
				fmt.Sprintf("%s:%d", k.GetHost(), k.GetPort()) == master {
				out <- time.Now()
			}
		}
	}()
	return out, nil
}

// waitHealthy waits until the master accepts writes, every replica
// replicates from it again, and the analyzer sees no problem left.
func waitHealthy(ctx context.Context, topo *sandbox.Topology, client analyzerv1.AnalyzerServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := topo.Master().Exec(ctx, "SET GLOBAL read_only=0"); err != nil {
		return err
	}
	if err := topo.WaitReplicating(ctx); err != nil {
		return err
	}
	for {
		resp, err := client.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{})
		if err == nil && len(resp.GetDetections()) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("analyzer still reports %v: %w", resp.GetDetections(), ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func drain(c <-chan time.Time) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
