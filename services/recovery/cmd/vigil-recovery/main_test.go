package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/process/processtest"

	"github.com/vigil-db/vigil/pkg/process"
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
	mem := map[string]string{"VIGIL_STORE_URL": "memory", "VIGIL_MYSQL_USER": "vigil"}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
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
		{name: "unknown key", args: []string{"--config=" + writeConfig(t, "recovery:\n  lsiten: 127.0.0.1:7103\n")}, env: mem, wantErr: "lsiten"},
		{name: "bad log level", args: []string{"--config=" + writeConfig(t, "log_level: loud\n")}, env: mem, wantErr: `log_level: "loud"`},
		{name: "no store", wantErr: "store: not set"},
		{name: "empty listen", args: []string{"--config=" + writeConfig(t, "recovery:\n  listen: \"\"\n")}, env: mem, wantErr: "recovery.listen: empty"},
		{name: "address in use", args: []string{"--listen=" + busy.Addr().String()}, env: mem, wantErr: "recovery.listen: listen tcp " + busy.Addr().String()},
		{name: "unreachable PostgreSQL", env: map[string]string{"VIGIL_STORE_URL": "postgres://postgres@127.0.0.1:1/x"}, wantErr: "127.0.0.1:1"},
		{name: "no credentials", env: map[string]string{"VIGIL_STORE_URL": "memory"}, wantErr: "VIGIL_MYSQL_USER is not set"},
		{name: "bad coordinator", env: map[string]string{"VIGIL_STORE_URL": "memory", "VIGIL_MYSQL_USER": "vigil", "VIGIL_COORDINATOR": "zookeeper://x"}, wantErr: `coordinator: "zookeeper://x"`},
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
recovery:
  listen: 127.0.0.1:7103
discovery:
  not_recoverys_business: true
`)
	env := map[string]string{"VIGIL_STORE_URL": "memory", "VIGIL_MYSQL_USER": "vigil"}
	run := func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"--config", path, "--listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, &bytes.Buffer{}, ready)
	}
	processtest.ServeThenStop(t, run, processtest.WaitServing)
}
