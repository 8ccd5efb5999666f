package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name    string
		args    []string
		wantErr string
		usage   bool
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined", usage: true},
		{name: "stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`, usage: true},
		{name: "missing config file", args: []string{"--config=/nonexistent/vigil.yaml"}, wantErr: "read config"},
		{name: "unknown key", args: []string{"--config=" + writeConfig(t, "gateway:\n  analyser_addr: a:1\n")}, wantErr: "analyser_addr"},
		{name: "bad log level", args: []string{"--config=" + writeConfig(t, "log_level: loud\n")}, wantErr: `log_level: "loud"`},
		{name: "bad backend address", args: []string{"--analyzer=analyzer"}, wantErr: "gateway.analyzer_addr"},
		{name: "address in use", args: []string{"--listen=" + busy.Addr().String()}, wantErr: "gateway.listen: listen tcp " + busy.Addr().String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tt.args, func(string) string { return "" }, &bytes.Buffer{}, nil)
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

// TestRunServesUntilCancelled serves on a free port with the config file
// from VIGIL_CONFIG, answers /healthz, then stops cleanly when asked.
func TestRunServesUntilCancelled(t *testing.T) {
	path := writeConfig(t, `store: postgres://ignored@127.0.0.1:1/x
log_level: warn
gateway:
  listen: 127.0.0.1:7070
  shutdown_timeout: 2s
recovery:
  not_the_gateways_business: true
`)
	getenv := func(k string) string {
		if k == "VIGIL_CONFIG" {
			return path
		}
		return ""
	}
	run := func(ctx context.Context, ready func(string)) error {
		return run(ctx, []string{"--listen=127.0.0.1:0", "--discovery=127.0.0.1:1"}, getenv, &bytes.Buffer{}, ready)
	}
	processtest.ServeThenStop(t, run, func(t testing.TB, addr string) {
		client := &http.Client{Timeout: 5 * time.Second}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz = %d %q, want 200", resp.StatusCode, body)
		}
	})
}
