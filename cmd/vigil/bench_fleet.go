package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/coord/backend"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/sandbox/simfleet"
	"github.com/vigil-db/vigil/pkg/shard"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
)

// fleetBench holds the settings of vigil bench fleet.
type fleetBench struct {
	sizes, members []int
	duration, ttl  time.Duration
	pgURL, etcd    string
	self           string // this executable, run for the simulator and the services
}

// runBenchFleet measures discovery and analysis at scale against a simulated
// fleet (pkg/sandbox/simfleet): every size with every member count, each
// service a process of its own so that its CPU and memory are its own.
func runBenchFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigil bench fleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizes := fs.String("sizes", "1000,5000,10000", "comma-separated fleet sizes (instances)")
	members := fs.String("members", "1,3", "comma-separated discovery member counts")
	b := fleetBench{}
	fs.DurationVar(&b.duration, "duration", 15*time.Second, "length of each measurement")
	fs.DurationVar(&b.ttl, "membership-ttl", 2*time.Second, "discovery members' lease time to live")
	fs.StringVar(&b.pgURL, "postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server `url`; a database of its own is created per run")
	fs.StringVar(&b.etcd, "etcd", "127.0.0.1:2379", "etcd `host:port` the members register on")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	var err error
	if b.sizes, err = intList(*sizes); err != nil {
		return fmt.Errorf("%w: --sizes: %w", errUsage, err)
	}
	if b.members, err = intList(*members); err != nil {
		return fmt.Errorf("%w: --members: %w", errUsage, err)
	}
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	// Every simulated server and every connection to it is a file.
	raiseOpenFiles(200000)

	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "instances\tmembers\tprobes/s per member\tCPU per probe\tmember CPU\tmember RSS per 1k inst\tanalyzer CPU per snapshot\tPG rows/s\tPG commits/s\tsettle after kill\t")
	for _, n := range b.sizes {
		fleet, stop, err := b.startFleet(ctx, n)
		if err != nil {
			return err
		}
		for _, m := range b.members {
			r, err := b.run(ctx, fleet, m)
			if err != nil {
				stop()
				return fmt.Errorf("%d instances, %d members: %w", n, m, err)
			}
			settle := "-"
			if m > 1 {
				settle = r.settle.Round(time.Millisecond).String()
			}
			fmt.Fprintf(tw, "%d\t%d\t%.0f\t%s\t%.0f%%\t%.1f MiB\t%s\t%.0f\t%.1f\t%s\t\n", n, m, r.probesPerMember,
				r.cpuPerProbe.Round(time.Microsecond/10), 100*r.memberCPU, r.rssPer1k, r.analyzerPerSnap.Round(time.Microsecond/10),
				r.pgRows, r.pgCommits, settle)
			tw.Flush()
		}
		stop()
	}
	return tw.Flush()
}

// runSimFleet serves a simulated fleet of --instances until ctx ends,
// printing every instance key and then "ready" on stdout.
func runSimFleet(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigil bench simfleet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("instances", 1000, "virtual instances")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	raiseOpenFiles(200000)
	f, err := simfleet.Start(simfleet.Trees(*n))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(stdout)
	for _, inst := range f.Instances {
		fmt.Fprintln(w, inst.Key())
	}
	fmt.Fprintln(w, "ready")
	if err := w.Flush(); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// simulated is a simulated fleet running in a process of its own.
type simulated struct {
	keys []topology.InstanceKey
}

func (b fleetBench) startFleet(ctx context.Context, n int) (*simulated, func(), error) {
	cmd := exec.CommandContext(ctx, b.self, "bench", "simfleet", "--instances", strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	sim := &simulated{}
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "ready" {
		k, err := topology.ParseInstanceKey(lines.Text())
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("simulated fleet said %q: %w", lines.Text(), err)
		}
		sim.keys = append(sim.keys, k)
	}
	if len(sim.keys) != n {
		stop()
		return nil, nil, fmt.Errorf("simulated fleet started %d of %d instances", len(sim.keys), n)
	}
	return sim, stop, nil
}

// fleetResult is what one run measured.
type fleetResult struct {
	probesPerMember float64
	cpuPerProbe     time.Duration
	memberCPU       float64 // cores per member
	rssPer1k        float64 // MiB
	analyzerPerSnap time.Duration
	pgRows          float64
	pgCommits       float64
	settle          time.Duration
}

// run measures one fleet with m members and one analyzer.
func (b fleetBench) run(ctx context.Context, sim *simulated, m int) (fleetResult, error) {
	var r fleetResult
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	name := "vigil_bench_" + hex.EncodeToString(id)
	dsn, err := databaseURL(b.pgURL, name)
	if err != nil {
		return r, err
	}
	defer dropDatabase(b.pgURL, name)
	coordinator := "etcd://" + b.etcd + "/" + name
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return r, err
	}
	err = st.RegisterInstances(ctx, sim.keys)
	st.Close()
	if err != nil {
		return r, err
	}

	dir, err := os.MkdirTemp("", "vigil-bench-fleet-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGKILL)
			_ = p.Wait()
		}
	}()
	start := func(name, yaml string) (*exec.Cmd, error) {
		path := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, b.self, "--config", path)
		cmd.Env = append(os.Environ(), "VIGIL_MYSQL_USER=bench", "VIGIL_MYSQL_PASSWORD=bench")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, cmd)
		return cmd, nil
	}
	var members []*exec.Cmd
	for i := range m {
		p, err := start(fmt.Sprintf("m%d", i+1), fmt.Sprintf(`store: %q
coordinator: %q
log_level: warn
services: [discovery]
discovery:
  listen: 127.0.0.1:0
  member_id: m%d
  domain: dc%d
  poll_interval: 1s
  workers: 128
  membership_ttl: %s
`, dsn, coordinator, i+1, i+1, b.ttl))
		if err != nil {
			return r, err
		}
		members = append(members, p)
	}
	view, closeView, err := followMembers(ctx, coordinator)
	if err != nil {
		return r, err
	}
	defer closeView()
	owned, err := waitOwned(ctx, view, m, len(sim.keys), 2*time.Minute)
	if err != nil {
		return r, err
	}
	// Discovery alone first, then with the analyzer.
	snapshots, stopCount := countSnapshots(ctx, owned)
	defer stopCount()
	time.Sleep(3 * time.Second) // past the first probes and crawl
	cpu0, snaps0, t0 := cpuOf(members), snapshots.Load(), time.Now()
	pg0, err := pgStats(ctx, dsn)
	if err != nil {
		return r, err
	}
	time.Sleep(b.duration)
	cpu1, snaps1, t1 := cpuOf(members), snapshots.Load(), time.Now()
	pg1, err := pgStats(ctx, dsn)
	if err != nil {
		return r, err
	}
	secs := t1.Sub(t0).Seconds()
	probes := float64(snaps1 - snaps0)
	r.probesPerMember = probes / secs / float64(m)
	r.cpuPerProbe = time.Duration(float64(cpu1-cpu0) / probes)
	r.memberCPU = (cpu1 - cpu0).Seconds() / secs / float64(m)
	r.pgRows = float64(pg1.rows-pg0.rows) / secs
	r.pgCommits = float64(pg1.commits-pg0.commits) / secs
	var rss float64
	for _, p := range members {
		rss += rssMiB(p.Process.Pid)
	}
	r.rssPer1k = rss / (float64(len(sim.keys)) / 1000)

	analyzer, err := start("analyzer", fmt.Sprintf(`store: %q
coordinator: %q
log_level: warn
services: [analyzer]
analyzer:
  listen: 127.0.0.1:0
  discovery_addrs: []
`, dsn, coordinator))
	if err != nil {
		return r, err
	}
	time.Sleep(5 * time.Second) // synced and past the first analysis of everything
	a0, s0 := cpuOf([]*exec.Cmd{analyzer}), snapshots.Load()
	time.Sleep(b.duration)
	a1, s1 := cpuOf([]*exec.Cmd{analyzer}), snapshots.Load()
	r.analyzerPerSnap = time.Duration(float64(a1-a0) / float64(s1-s0))

	if m > 1 {
		killed := time.Now()
		_ = members[0].Process.Signal(syscall.SIGKILL)
		if _, err := waitOwned(ctx, view, m-1, len(sim.keys), time.Minute); err != nil {
			return r, fmt.Errorf("after a member was killed: %w", err)
		}
		r.settle = time.Since(killed)
	}
	return r, nil
}

// followMembers follows the members registered on the coordinator.
func followMembers(ctx context.Context, url string) (*shard.Members, func(), error) {
	c, err := backend.Open(url)
	if err != nil {
		return nil, nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	return shard.Follow(fctx, c), func() { cancel(); c.Close() }, nil
}

// waitOwned waits until m members are registered and together own n
// instances (each reporting its own count), and returns their addresses.
func waitOwned(ctx context.Context, view *shard.Members, m, n int, within time.Duration) ([]string, error) {
	deadline := time.Now().Add(within)
	for {
		var addrs []string
		total := 0
		list := view.List()
		for _, reg := range list {
			resp, err := listMembers(ctx, reg.Addr)
			if err != nil {
				continue
			}
			for _, mem := range resp.GetMembers() {
				if mem.GetMemberId() == resp.GetAnsweredBy() {
					total += int(mem.GetOwnedInstances())
				}
			}
			addrs = append(addrs, reg.Addr)
		}
		if len(list) == m && len(addrs) == m && total == n {
			return addrs, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d members own %d instances after %s, want %d owning %d", len(addrs), total, within, m, n)
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func listMembers(ctx context.Context, addr string) (*discoveryv1.ListMembersResponse, error) {
	conn, err := grpcx.Dial(addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return discoveryv1.NewDiscoveryServiceClient(conn).ListMembers(ctx, &discoveryv1.ListMembersRequest{})
}

// countSnapshots follows the snapshot stream of every member and counts
// the live snapshots.
func countSnapshots(ctx context.Context, addrs []string) (*atomic.Int64, func()) {
	var n atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	for _, addr := range addrs {
		go func() {
			conn, err := grpcx.Dial(addr)
			if err != nil {
				return
			}
			defer conn.Close()
			stream, err := discoveryv1.NewDiscoveryServiceClient(conn).StreamSnapshots(ctx, &discoveryv1.StreamSnapshotsRequest{Subscriber: "bench"})
			if err != nil {
				return
			}
			synced := false
			for {
				msg, err := stream.Recv()
				if err != nil {
					return
				}
				switch msg.GetEvent().(type) {
				case *discoveryv1.StreamSnapshotsResponse_Synced:
					synced = true
				case *discoveryv1.StreamSnapshotsResponse_Snapshot:
					if synced {
						n.Add(1)
					}
				}
			}
		}()
	}
	return &n, cancel
}

// cpuOf returns the CPU time the processes used so far.
func cpuOf(procs []*exec.Cmd) time.Duration {
	var total time.Duration
	for _, p := range procs {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Process.Pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which ends with ')'.
		fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(utime+stime) * (time.Second / 100) // USER_HZ
	}
	return total
}

// rssMiB returns a process's resident memory.
func rssMiB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

type pgCounters struct{ rows, commits int64 }

// pgStats reads the rows written and transactions committed in the
// database so far.
func pgStats(ctx context.Context, dsn string) (pgCounters, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return pgCounters{}, err
	}
	defer conn.Close(ctx)
	var c pgCounters
	err = conn.QueryRow(ctx, `SELECT tup_inserted + tup_updated + tup_deleted, xact_commit
FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.rows, &c.commits)
	return c, err
}

// databaseURL is server with its database replaced by name.
func databaseURL(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("--postgres: %q is not a postgres:// URL", server)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func dropDatabase(server, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return
	}
	defer conn.Close(ctx)
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// raiseOpenFiles raises this process's open files limit to n where it can;
// child processes inherit it.
func raiseOpenFiles(n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= n {
		return
	}
	want := syscall.Rlimit{Cur: n, Max: max(lim.Max, n)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) != nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}
