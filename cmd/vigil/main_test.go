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
		{name: "unreachable PostgreSQL", args: []string{"--services=recovery", "--store=postgres://postgres@127.0.0.1:1/vigil?connect_timeout=2"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"}, wantErr: "127.0.0.1:1"},
		{name: "MySQL store", args: []string{"--services=recovery", "--store=mysql://root@127.0.0.1:3306/vigil"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"}, wantErr: `scheme "mysql" is not supported; give a PostgreSQL URL (postgres:// or postgresql://), an embedded store`},
		{name: "recovery alone needs credentials", args: []string{"--services=recovery", "--store=memory"}, wantErr: "MySQL credentials"},
		{name: "missing config file", args: []string{"--config=/nonexistent/vigil.yaml"}, wantErr: "read config"},
		{name: "embedded store with some services", args: []string{"--services=recovery", "--store=sqlite:///tmp/vigil-never-created.db"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"},
			wantErr: "serves one process that runs discovery, analyzer and recovery together; this one runs recovery"},
		{name: "data directory is a file", args: []string{"--data-dir=main_test.go"}, env: map[string]string{"VIGIL_MYSQL_USER": "u"}, wantErr: "data directory"},
		{name: "bad sandbox command", args: []string{"sandbox", "sideways"}, wantErr: "unknown sandbox command", usage: true},
		{name: "bad bench", args: []string{"bench"}, wantErr: "vigil bench probe|detect|failover|takeover|fleet", usage: true},
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

func TestHelpListsServeFlags(t *testing.T) {
	flags := []string{"-config file", "-services list", "-store url", "-seed list", "-log-level level", "demo", "sandbox", "bench"}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}} {
		t.Run(args[0], func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), args, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("run(%v) = %v", args, err)
			}
			for _, want := range flags {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("help lacks %q:\n%s", want, stdout.String())
				}
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

// TestRunRefusesADamagedStoreUntouched: a file in the data directory that
// is not a SQLite database stops vigil at start with an error naming it,
// and the file is left as it was.
func TestRunRefusesADamagedStoreUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.db")
	garbage := bytes.Repeat([]byte("not a database "), 512)
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return map[string]string{"VIGIL_MYSQL_USER": "u"}[k] }
	err := run(ctx, []string{"--data-dir", dir}, &stdout, &stderr, getenv)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "not a readable SQLite database") {
		t.Fatalf("run = %v, want an error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, garbage) {
		t.Error("the damaged store was changed")
	}
}
