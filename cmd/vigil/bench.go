package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/sandbox"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
)

// runBench measures probing against a sandbox topology and prints numbers.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "detect" {
		return runBenchDetect(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "failover" {
		return runBenchFailover(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "takeover" {
		return runBenchTakeover(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "fleet" {
		return runBenchFleet(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "simfleet" {
		return runSimFleet(ctx, args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "probe" {
		return fmt.Errorf("%w: vigil bench probe|detect|failover|takeover|fleet [flags]", errUsage)
	}
	fs := flag.NewFlagSet("vigil bench probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	replicas := fs.Int("replicas", 3, "replicas under the sandbox master")
	workers := fs.Int("workers", 8, "concurrent probes in the throughput phase")
	duration := fs.Duration("duration", 5*time.Second, "length of each phase")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	topo, remove, err := startTempSandbox(ctx, sandbox.MasterWithReplicas(*replicas))
	if err != nil {
		return err
	}
	defer remove()
	creds := sandboxCreds
	var keys []topology.InstanceKey
	for _, inst := range topo.Instances() {
		k, err := topology.ParseInstanceKey(inst.Key)
		if err != nil {
			return err
		}
		keys = append(keys, k)
	}

	if err := benchThroughput(ctx, stdout, creds, keys, *workers, *duration); err != nil {
		return err
	}
	return benchStreamLatency(ctx, stdout, creds, topo.Master().Key, *duration)
}

// benchThroughput probes the instances back to back from several workers and
// reports probes per second, process CPU time per probe and probe latency.
func benchThroughput(ctx context.Context, w io.Writer, creds mysql.Credentials, keys []topology.InstanceKey, workers int, d time.Duration) error {
	prober, err := mysql.NewProber(mysql.ProberConfig{Credentials: creds, ObserverID: "bench"})
	if err != nil {
		return err
	}
	defer prober.Close()
	for _, k := range keys { // open the pools outside the measurement
		prober.Probe(ctx, k)
	}

	var (
		count    atomic.Int64
		failed   atomic.Int64
		mu       sync.Mutex
		latency  []time.Duration
		wg       sync.WaitGroup
		deadline = time.Now().Add(d)
	)
	cpuBefore := cpuTime()
	start := time.Now()
	for i := range workers {
		wg.Go(func() {
			var local []time.Duration
			for n := i; time.Now().Before(deadline) && ctx.Err() == nil; n++ {
				t0 := time.Now()
				snap := prober.Probe(ctx, keys[n%len(keys)])
				local = append(local, time.Since(t0))
				count.Add(1)
				if !snap.GetReachable() {
					failed.Add(1)
				}
			}
			mu.Lock()
			latency = append(latency, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpuBefore

	n := count.Load()
	if n == 0 {
		return fmt.Errorf("no probe completed")
	}
	slices.Sort(latency)
	perProbe := cpu / time.Duration(n)
	fmt.Fprintf(w, "probe throughput: %d probes of %d instances in %s with %d workers (%d failed)\n", n, len(keys), elapsed.Round(time.Millisecond), workers, failed.Load())
	fmt.Fprintf(w, "  probes/s        %.0f\n", float64(n)/elapsed.Seconds())
	fmt.Fprintf(w, "  CPU per probe   %s (vigil process, user+system)\n", perProbe)
	fmt.Fprintf(w, "  probe latency   p50 %s  p99 %s  max %s\n", pct(latency, 50), pct(latency, 99), latency[len(latency)-1])
	fmt.Fprintf(w, "  => 5,000 instances at a 1s interval would need %.2f cores\n", (5000 * perProbe).Seconds())
	return nil
}

// benchStreamLatency runs discovery on the sandbox and measures, for every
// snapshot a gRPC stream subscriber receives, the time from the end of the
// probe to its arrival: the path a snapshot takes to the analyzer.
func benchStreamLatency(ctx context.Context, w io.Writer, creds mysql.Credentials, seed string, d time.Duration) error {
	cfg := app.DefaultConfig()
	cfg.Services = []string{app.Discovery}
	cfg.Store = app.MemoryStore
	cfg.Discovery.ListenAddr = "127.0.0.1:0"
	cfg.Discovery.Seeds = []string{seed}
	a, stop, err := startServices(ctx, cfg, creds, newLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	defer stop()

	conn, err := grpcx.Dial(a.Addr(app.Discovery))
	if err != nil {
		return err
	}
	defer conn.Close()
	streamCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	stream, err := discoveryv1.NewDiscoveryServiceClient(conn).StreamSnapshots(streamCtx, &discoveryv1.StreamSnapshotsRequest{Subscriber: "bench"})
	if err != nil {
		return err
	}
	var lat []time.Duration
	live := false
	for {
		msg, err := stream.Recv()
		if err != nil {
			break
		}
		switch e := msg.GetEvent().(type) {
		case *discoveryv1.StreamSnapshotsResponse_Synced:
			live = true
		case *discoveryv1.StreamSnapshotsResponse_Snapshot:
			if live {
				lat = append(lat, time.Since(e.Snapshot.GetProbeFinished().AsTime()))
			}
		}
	}
	if len(lat) == 0 {
		return fmt.Errorf("no live snapshot received in %s", d)
	}
	slices.Sort(lat)
	fmt.Fprintf(w, "probe end -> snapshot received over the gRPC stream: %d snapshots\n", len(lat))
	fmt.Fprintf(w, "  latency         p50 %s  p99 %s  max %s\n", pct(lat, 50), pct(lat, 99), lat[len(lat)-1])
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100]
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
