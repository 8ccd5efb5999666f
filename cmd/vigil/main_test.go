package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

func TestRunRejectsBadInvocations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		usage   bool
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined", usage: true},
		{name: "stray argument", args: []string{"serve"}, wantErr: "unexpected argument", usage: true},
		{name: "unknown service", args: []string{"--services=discovery,nope", "--store=memory"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"}, wantErr: `"nope" is not one of`},
		{name: "bad seed", args: []string{"--store=memory", "--seed=db1"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"}, wantErr: "discovery.seeds[0]"},
		{name: "missing credentials", args: []string{"--store=memory"}, wantErr: "MySQL credentials"},
		{name: "unreachable PostgreSQL", args: []string{"--services=recovery", "--store=postgres://postgres@127.0.0.1:1/vigil?connect_timeout=2"}, wantErr: "127.0.0.1:1"},
		{name: "missing config file", args: []string{"--config=/nonexistent/vigil.yaml"}, wantErr: "read config"},
		{name: "bad sandbox command", args: []string{"sandbox", "sideways"}, wantErr: "unknown sandbox command", usage: true},
		{name: "bad bench", args: []string{"bench"}, wantErr: "vigil bench probe|detect", usage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			err := run(ctx, tt.args, &stdout, &stderr, getenv)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("run(%v) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			if errors.Is(err, errUsage) != tt.usage {
				t.Errorf("usage error = %v, want %v", errors.Is(err, errUsage), tt.usage)
			}
		})
	}
}

// TestDemo runs the main job end to end: a sandbox topology, every service,
// the printed tree and addresses.
func TestDemo(t *testing.T) {
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := run(ctx, []string{"demo", "--exit", "--base-port=0", "--store=memory"}, &stdout, &stderr, noEnv)
	if err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	// Six instances in the tree: the master line, five indented lines.
	if n := strings.Count(out, "+ 127.0.0.1:"); n != 5 {
		t.Errorf("tree has %d replica lines, want 5:\n%s", n, out)
	}
	for _, want := range []string{"  + 127.0.0.1:", ",rw,", ",ro,", "REST     http://127.0.0.1:", "gRPC     discovery 127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}
