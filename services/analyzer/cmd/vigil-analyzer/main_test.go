package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/process"
	"github.com/vigil-db/vigil/pkg/process/processtest"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunRejectsBadInvocations(t *testing.T) {
	mem := map[string]string{"VIGIL_STORE_URL": "memory"}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		usage   bool
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined", usage: true},
		{name: "stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`, usage: true},
		{name: "missing config file", args: []string{"--config=/nonexistent/vigil.yaml"}, wantErr: "read config"},
		{name: "unknown key", args: []string{"--config=" + writeConfig(t, "analyzer:\n  discovery_adrs: [a:1]\n")}, env: mem, wantErr: "discovery_adrs"},
		{name: "bad log level", args: []string{"--config=" + writeConfig(t, "log_level: loud\n")}, env: mem, wantErr: `log_level: "loud"`},
		{name: "no store", wantErr: "store: not set"},
		{name: "empty discovery address", args: []string{"--discovery=a:1,"}, env: mem, wantErr: "analyzer.discovery_addrs[1]: empty"},
		{name: "unreachable PostgreSQL", env: map[string]string{"VIGIL_STORE_URL": "postgres://postgres@127.0.0.1:1/x"}, wantErr: "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			err := run(ctx, tt.args, func(k string) string { return tt.env[k] }, &stderr, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%v) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			if errors.Is(err, process.ErrUsage) != tt.usage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, process.ErrUsage), tt.usage)
			}
			msg := process.OneLine(err)
			if strings.Contains(msg, "\n") {
				t.Errorf("OneLine(err) = %q spans lines", msg)
			}
			t.Log(msg)
		})
	}
}

// TestRunServesUntilCancelled runs the binary's job against the memory store
// on a free port, checks health over gRPC, then asks it to stop.
func TestRunServesUntilCancelled(t *testing.T) {
	path := writeConfig(t, `store: postgres://ignored@127.0.0.1:1/x
log_level: warn
analyzer:
  listen: 127.0.0.1:7102
  reconnect_max: 100ms
discovery:
  not_the_analyzers_business: true
`)
	env := map[string]string{"VIGIL_STORE_URL": "memory"}
	run := func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"--config", path, "--listen", "127.0.0.1:0", "--discovery", "127.0.0.1:1"}, func(k string) string { return env[k] }, &bytes.Buffer{}, ready)
	}
	processtest.ServeThenStop(t, run, notReadyWithoutDiscovery)
}

// notReadyWithoutDiscovery checks that an analyzer whose discovery member
// never answers serves, but says it is not ready rather than answer.
func notReadyWithoutDiscovery(t testing.TB, addr string) {
	conn, err := grpcx.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "vigil.analyzer.v1.AnalyzerService"})
	if err != nil || health.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health = %v, %v; want NOT_SERVING", health.GetStatus(), err)
	}
	_, err = topologyv1.NewTopologyServiceClient(conn).ListClusters(ctx, &topologyv1.ListClustersRequest{})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "synced with 0 of 1 discovery members") {
		t.Errorf("ListClusters before sync = %v, want Unavailable naming the discovery members", err)
	}
}
