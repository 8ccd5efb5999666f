package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/grpcx"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// runDemo is the main job on one machine: start a sandbox topology, run every
// service against it, wait until the whole tree is discovered, print it with
// the addresses to try, and serve until interrupted.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("vigil demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	basePort := fs.Int("base-port", 24001, "port of the first sandbox instance; the others follow")
	storeURL := fs.String("store", "", "store URL: postgres://..., sqlite:///path/vigil.db or \"memory\" (default the embedded store in --data-dir)")
	dataDir := fs.String("data-dir", app.DefaultDataDir, "`directory` of the embedded store")
	exit := fs.Bool("exit", false, "exit once the topology is printed instead of serving until interrupted")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}

	fmt.Fprintln(stdout, "starting sandbox MariaDB topology...")
	topo, remove, err := startTempSandbox(ctx, demoSpec(*basePort))
	if err != nil {
		return err
	}
	defer remove()

	cfg := app.DefaultConfig()
	cfg.Store, cfg.DataDir = *storeURL, *dataDir
	if v := getenv("VIGIL_STORE_URL"); v != "" {
		cfg.Store = v
	}
	cfg.LogLevel = *logLevel
	cfg.Discovery.Seeds = []string{topo.Master().Key}
	cfg.Recovery.Replication = &sandboxReplication

	a, stop, err := startServices(ctx, cfg, sandboxCreds, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	text, err := waitForTopology(ctx, a.Addr(app.Analyzer), topo.Master().Key, len(topo.Instances()))
	if err != nil {
		stop()
		return err
	}
	fmt.Fprintf(stdout, "\n%s\n", text)
	printAddresses(stdout, a, topo.Master().Key)

	if !*exit {
		fmt.Fprintf(stdout, "  kill -9 %d    # the master, %s: watch Vigil fail over below\n", topo.Master().PID(), topo.Master().Key)
		fmt.Fprintln(stdout, "\nserving; press Ctrl-C to stop and remove the sandbox")
		if err := narrateFailovers(ctx, stdout, a); err != nil {
			fmt.Fprintf(stderr, "failovers will not be narrated: %v\n", err)
			<-ctx.Done()
		}
	}
	return stop()
}

// waitForTopology polls the analyzer until the cluster has every instance and
// each of them has been probed, then returns its text rendering.
func waitForTopology(ctx context.Context, analyzerAddr, cluster string, want int) (string, error) {
	conn, err := grpcx.Dial(analyzerAddr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	client := topologyv1.NewTopologyServiceClient(conn)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		resp, err := client.GetClusterTopology(ctx, &topologyv1.GetClusterTopologyRequest{Cluster: cluster})
		if err == nil && int(resp.GetCluster().GetInstanceCount()) == want && allProbed(resp.GetRoot()) {
			return resp.GetText(), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("topology of %s not discovered in time (last error: %v)", cluster, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func allProbed(n *topologyv1.TopologyNode) bool {
	if !n.GetInstance().GetReachable() {
		return false
	}
	for _, r := range n.GetReplicas() {
		if !allProbed(r) {
			return false
		}
	}
	return true
}

func printAddresses(w io.Writer, a *app.App, cluster string) {
	gw := a.Addr(app.Gateway)
	fmt.Fprintf(w, "REST     http://%s/api/v1/clusters  (OpenAPI: http://%s/openapi.json)\n", gw, gw)
	fmt.Fprintf(w, "gRPC     discovery %s, analyzer %s, recovery %s (reflection on)\n",
		a.Addr(app.Discovery), a.Addr(app.Analyzer), a.Addr(app.Recovery))
	fmt.Fprintln(w, "\ntry:")
	fmt.Fprintf(w, "  curl -s http://%s/api/v1/clusters/%s/topology\n", gw, cluster)
	fmt.Fprintf(w, "  go run ./cmd/vigilctl -c topology -alias %s\n", cluster)
	fmt.Fprintf(w, "  GOWORK=off go tool -modfile=tools/go.mod grpcurl -plaintext %s list\n", a.Addr(app.Analyzer))
}
