package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/sandbox"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

// benchRows is how many rows each run writes before the failure; every one
// must be on the new master afterwards.
const benchRows = 50

// failoverRun is what one failover measured.
type failoverRun struct {
	detected, writable, repointed time.Duration
	// wokenWritable is how long a frozen master stayed writable after it
	// resumed (--failure stop only).
	wokenWritable time.Duration
}

// runBenchFailover measures, over many runs on fresh sandboxes, the time
// from a master failure to the DeadMaster event, to the new master
// writable and to every replica repointed, and checks the data each time.
func runBenchFailover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigil bench failover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 20, "failovers to measure")
	failure := fs.String("failure", "kill", "how the master fails: kill (kill -9) or stop (SIGSTOP, then SIGCONT after the failover)")
	poll := fs.Duration("poll-interval", time.Second, "discovery poll interval")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *failure != "kill" && *failure != "stop" {
		return fmt.Errorf("%w: --failure must be kill or stop, not %q", errUsage, *failure)
	}
	var results []failoverRun
	for i := range *runs {
		r, err := benchOneFailover(ctx, *failure, *poll)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		results = append(results, r)
		fmt.Fprintf(stdout, "run %2d: DeadMaster %s, new master writable %s, replicas repointed %s", i+1,
			r.detected.Round(time.Millisecond), r.writable.Round(time.Millisecond), r.repointed.Round(time.Millisecond))
		if *failure == "stop" {
			fmt.Fprintf(stdout, ", woken master writable for %s", r.wokenWritable.Round(time.Millisecond))
		}
		fmt.Fprintf(stdout, "; all %d rows on the new master, every replica follows it\n", benchRows)
	}
	fmt.Fprintf(stdout, "failover, %s of the master (%d runs, poll interval %s):\n", *failure, len(results), *poll)
	summary := []struct {
		name string
		get  func(failoverRun) time.Duration
	}{
		{"DeadMaster event", func(r failoverRun) time.Duration { return r.detected }},
		{"new master writable", func(r failoverRun) time.Duration { return r.writable }},
		{"all replicas repointed", func(r failoverRun) time.Duration { return r.repointed }},
	}
	if *failure == "stop" {
		summary = append(summary, struct {
			name string
			get  func(failoverRun) time.Duration
		}{"woken master writable for", func(r failoverRun) time.Duration { return r.wokenWritable }})
	}
	for _, s := range summary {
		var d []time.Duration
		for _, r := range results {
			d = append(d, s.get(r))
		}
		slices.Sort(d)
		fmt.Fprintf(stdout, "  %-26s p50 %s  p90 %s  max %s\n", s.name, pct(d, 50).Round(time.Millisecond),
			pct(d, 90).Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	return nil
}

// benchOneFailover fails the master of a fresh sandbox once and measures
// the recovery from the recovery's own audit.
func benchOneFailover(ctx context.Context, failure string, poll time.Duration) (failoverRun, error) {
	var res failoverRun
	topo, remove, err := startTempSandbox(ctx, sandbox.MasterWithReplicas(3))
	if err != nil {
		return res, err
	}
	defer remove()
	master := topo.Master()
	if err := master.Exec(ctx, "CREATE DATABASE bench; CREATE TABLE bench.t (id INT PRIMARY KEY)"); err != nil {
		return res, err
	}
	for i := range benchRows {
		if err := master.Exec(ctx, fmt.Sprintf("INSERT INTO bench.t VALUES (%d)", i)); err != nil {
			return res, err
		}
	}
	if err := topo.WaitReplicating(ctx); err != nil {
		return res, err
	}

	cfg := app.DefaultConfig()
	cfg.Services = []string{app.Discovery, app.Analyzer, app.Recovery}
	cfg.Store = app.MemoryStore
	cfg.Discovery.ListenAddr, cfg.Analyzer.ListenAddr, cfg.Recovery.ListenAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Discovery.PollInterval = poll
	cfg.Discovery.Seeds = []string{master.Key}
	a, stop, err := startServices(ctx, cfg, sandboxCreds, newLogger(io.Discard, "error"))
	if err != nil {
		return res, err
	}
	defer stop()
	if _, err := waitForTopology(ctx, a.Addr(app.Analyzer), master.Key, len(topo.Instances())); err != nil {
		return res, err
	}
	aconn, err := grpcx.Dial(a.Addr(app.Analyzer))
	if err != nil {
		return res, err
	}
	defer aconn.Close()
	deadMaster, err := followDeadMaster(ctx, analyzerv1.NewAnalyzerServiceClient(aconn), master.Key)
	if err != nil {
		return res, err
	}
	rconn, err := grpcx.Dial(a.Addr(app.Recovery))
	if err != nil {
		return res, err
	}
	defer rconn.Close()
	recoveries := recoveryv1.NewRecoveryServiceClient(rconn)

	// A connection opened before the freeze answers as soon as the master
	// resumes: it measures how long the woken master stays writable.
	var watch *sql.Conn
	if failure == "stop" {
		if watch, err = master.AdminDB().Conn(ctx); err != nil {
			return res, err
		}
		defer watch.Close()
	}

	time.Sleep(time.Duration(rand.Int64N(int64(poll))))
	failed := time.Now()
	if failure == "kill" {
		err = master.Kill()
	} else {
		err = master.Freeze()
		defer master.Thaw()
	}
	if err != nil {
		return res, err
	}
	select {
	case at := <-deadMaster:
		res.detected = at.Sub(failed)
	case <-time.After(30 * time.Second):
		return res, fmt.Errorf("no DeadMaster within 30s")
	}
	rec, err := waitRecovered(ctx, recoveries, master.Key)
	if err != nil {
		return res, err
	}
	for _, st := range rec.GetSteps() {
		end := st.GetAt().AsTime().Add(st.GetTook().AsDuration()).Sub(failed)
		switch st.GetName() {
		case "promote":
			res.writable = end
		case "repoint":
			res.repointed = max(res.repointed, end)
		}
	}
	succ := rec.GetSuccessor()
	newMaster := topo.InstanceAt(fmt.Sprintf("%s:%d", succ.GetHost(), succ.GetPort()))
	if newMaster == nil {
		return res, fmt.Errorf("successor %v is not a sandbox instance", succ)
	}
	if err := checkFailoverData(ctx, topo, master, newMaster); err != nil {
		return res, err
	}
	if failure == "stop" {
		if res.wokenWritable, err = wokenWritable(ctx, master, watch); err != nil {
			return res, err
		}
	}
	return res, nil
}

// waitRecovered waits for the recovery of failed to end, and returns it
// with its steps; anything but success is an error.
func waitRecovered(ctx context.Context, client recoveryv1.RecoveryServiceClient, failed string) (*recoveryv1.Recovery, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		list, err := client.ListRecoveries(ctx, &recoveryv1.ListRecoveriesRequest{})
		if err != nil {
			return nil, err
		}
		for _, r := range list.GetRecoveries() {
			k := r.GetFailedInstance()
			if fmt.Sprintf("%s:%d", k.GetHost(), k.GetPort()) != failed || r.GetOutcome() == recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_RUNNING {
				continue
			}
			if r.GetOutcome() != recoveryv1.RecoveryOutcome_RECOVERY_OUTCOME_SUCCEEDED {
				return nil, fmt.Errorf("recovery %s: %s (%s)", r.GetId(), r.GetOutcome(), r.GetReason())
			}
			got, err := client.GetRecovery(ctx, &recoveryv1.GetRecoveryRequest{Id: r.GetId()})
			return got.GetRecovery(), err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("no recovery of %s ended within 30s", failed)
}

// checkFailoverData checks that the new master has every row and accepts
// writes, and that every other replica follows it.
func checkFailoverData(ctx context.Context, topo *sandbox.Topology, old, newMaster *sandbox.Instance) error {
	var n int
	if err := newMaster.AdminDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM bench.t").Scan(&n); err != nil {
		return err
	}
	if n != benchRows {
		return fmt.Errorf("new master %s has %d rows, want %d", newMaster, n, benchRows)
	}
	if err := newMaster.Exec(ctx, "INSERT INTO bench.t VALUES (1000)"); err != nil {
		return fmt.Errorf("write on the new master: %w", err)
	}
	for _, r := range topo.Instances() {
		if r == old || r == newMaster {
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := r.ReplicaStatus(ctx)
			if err == nil && st["Master_Port"] == strconv.Itoa(newMaster.Port) && st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s does not follow the new master: %v %v", r, st, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// wokenWritable resumes a frozen master and measures, on a connection opened
// before the freeze, how long it stays writable.
func wokenWritable(ctx context.Context, master *sandbox.Instance, conn *sql.Conn) (time.Duration, error) {
	if err := master.Thaw(); err != nil {
		return 0, err
	}
	woke := time.Now()
	for time.Since(woke) < 10*time.Second {
		var ro int
		if err := conn.QueryRowContext(ctx, "SELECT @@read_only").Scan(&ro); err != nil {
			return 0, err
		}
		if ro == 1 {
			return time.Since(woke), nil
		}
	}
	return 0, fmt.Errorf("woken master still writable after 10s")
}
