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
	creds := map[string]string{"VIGIL_MYSQL_USER": "vigil", "VIGIL_STORE_URL": "memory"}
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
		{name: "unknown key", args: []string{"--config=" + writeConfig(t, "discovery:\n  poll_intervall: 1s\n")}, env: creds, wantErr: "poll_intervall"},
		{name: "bad log level", args: []string{"--config=" + writeConfig(t, "log_level: loud\n")}, env: creds, wantErr: `log_level: "loud"`},
		{name: "no store", env: map[string]string{"VIGIL_MYSQL_USER": "vigil"}, wantErr: "store: not set"},
		{name: "bad seed", args: []string{"--seed=db1"}, env: creds, wantErr: "discovery.seeds[0]"},
		{name: "no credentials", env: map[string]string{"VIGIL_STORE_URL": "memory"}, wantErr: "VIGIL_MYSQL_USER is not set"},
		{
			name:    "unreachable PostgreSQL",
			env:     map[string]string{"VIGIL_MYSQL_USER": "vigil", "VIGIL_STORE_URL": "postgres://postgres@127.0.0.1:1/x"},
			wantErr: "127.0.0.1:1",
		},
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
discovery:
  listen: 127.0.0.1:7101
  member_id: test
analyzer:
  not_discoverys_business: true
`)
	env := map[string]string{"VIGIL_STORE_URL": "memory", "VIGIL_MYSQL_USER": "vigil"}
	run := func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"--config", path, "--listen", "127.0.0.1:0"}, func(k string) string { return env[k] }, &bytes.Buffer{}, ready)
	}
	processtest.ServeThenStop(t, run, processtest.WaitServing)
}
