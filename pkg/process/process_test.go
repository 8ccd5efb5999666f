package process

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/process/processtest"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantErr  string
		wantCode int
	}{
		{name: "ok", args: []string{"--listen", "a:1"}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "usage: flag provided but not defined: -nope", wantCode: 2},
		{name: "bad value", args: []string{"--n=x"}, wantErr: `usage: invalid value "x" for flag -n`, wantCode: 2},
		{name: "stray argument", args: []string{"serve"}, wantErr: `usage: unexpected argument "serve"`, wantCode: 2},
		{name: "help", args: []string{"-h"}, wantErr: "usage: flag: help requested", wantCode: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("vigil-test", flag.ContinueOnError)
			fs.SetOutput(&bytes.Buffer{})
			fs.String("listen", "", "")
			fs.Int("n", 0, "")
			err := ParseFlags(fs, tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseFlags(%q) = %v, want nil", tt.args, err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Fatalf("ParseFlags(%q) = %v, want error starting %q", tt.args, err, tt.wantErr)
			}
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exitCode(%v) = %d, want %d", err, got, tt.wantCode)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "nil", err: nil, want: 0},
		{name: "help", err: flag.ErrHelp, want: 0},
		{name: "usage", err: fmt.Errorf("%w: unexpected argument %q", ErrUsage, "x"), want: 2},
		{name: "failure", err: errors.New("store: unreachable"), want: 1},
		{name: "joined failure", err: errors.Join(errors.New("a"), errors.New("b")), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// TestExit runs Exit in a child process (this test binary again) and checks
// its status and what it printed.
func TestExit(t *testing.T) {
	if kind := os.Getenv("PROCESS_TEST_EXIT"); kind != "" {
		errs := map[string]error{
			"nil":     nil,
			"usage":   fmt.Errorf("%w: unexpected argument %q", ErrUsage, "x"),
			"failure": errors.Join(errors.New("config:\n  line 1: bad"), errors.New("store: not set")),
		}
		Exit("vigil-test", errs[kind])
	}
	tests := []struct {
		kind       string
		wantCode   int
		wantStderr string
	}{
		{kind: "nil", wantCode: 0, wantStderr: ""},
		{kind: "usage", wantCode: 2, wantStderr: "vigil-test: usage: unexpected argument \"x\"\n"},
		{kind: "failure", wantCode: 1, wantStderr: "vigil-test: config: line 1: bad; store: not set\n"},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestExit$")
			cmd.Env = append(os.Environ(), "PROCESS_TEST_EXIT="+tt.kind)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			code := 0
			if exitErr := (*exec.ExitError)(nil); errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d", code, tt.wantCode)
			}
			if got := stderr.String(); got != tt.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tt.wantStderr)
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "one line", err: errors.New("store: not set"), want: "store: not set"},
		{name: "joined", err: errors.Join(errors.New("a: empty"), errors.New("b: empty")), want: "a: empty; b: empty"},
		{
			name: "yaml under a prefix",
			err:  fmt.Errorf("config x.yaml: %w", errors.New("yaml: unmarshal errors:\n  line 2: field nope not found")),
			want: "config x.yaml: yaml: unmarshal errors: line 2: field nope not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OneLine(tt.err); got != tt.want {
				t.Errorf("OneLine = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewLogger(t *testing.T) {
	tests := []struct {
		level string
		want  []string // messages that get through, of debug, info, warn, error
	}{
		{level: "debug", want: []string{"d", "i", "w", "e"}},
		{level: "info", want: []string{"i", "w", "e"}},
		{level: "warn", want: []string{"w", "e"}},
		{level: "error", want: []string{"e"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := NewLogger(&buf, tt.level)
			if err != nil {
				t.Fatal(err)
			}
			log.Debug("d")
			log.Info("i")
			log.Warn("w")
			log.Error("e")
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				_, msg, ok := strings.Cut(line, " msg=")
				if !ok {
					t.Fatalf("log line %q has no msg", line)
				}
				got = append(got, msg)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages logged (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewLoggerRejectsBadLevel(t *testing.T) {
	for _, level := range []string{"", "loud", "INFO", "info+2"} {
		if _, err := NewLogger(&bytes.Buffer{}, level); err == nil || !strings.Contains(err.Error(), "log_level: ") {
			t.Errorf("NewLogger(%q) error = %v, want a log_level error", level, err)
		}
	}
}

// section stands for a binary's section of the configuration file.
type section struct {
	Listen string   `yaml:"listen"`
	Seeds  []string `yaml:"seeds"`
}

func (s section) Validate() error {
	if s.Listen == "" {
		return errors.New("svc.listen: empty")
	}
	return nil
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigil.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCommandLoad(t *testing.T) {
	full := writeConfig(t, `store: postgres://file@db/vigil
log_level: debug
svc:
  seeds: [a:1]
other:
  not_svcs_business: true
`)
	defaults := section{Listen: ":7100"}
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantStore   string
		wantDebug   bool
		wantSection section
		wantErr     string
		wantUsage   bool
	}{
		{name: "no file", wantSection: defaults},
		{name: "no file, env store", env: map[string]string{"VIGIL_STORE_URL": "memory"}, wantStore: "memory", wantSection: defaults},
		{
			name:        "file",
			args:        []string{"--config", full},
			wantStore:   "postgres://file@db/vigil",
			wantDebug:   true,
			wantSection: section{Listen: ":7100", Seeds: []string{"a:1"}},
		},
		{
			name:        "file from VIGIL_CONFIG, env store",
			env:         map[string]string{"VIGIL_CONFIG": full, "VIGIL_STORE_URL": "memory"},
			wantStore:   "memory",
			wantDebug:   true,
			wantSection: section{Listen: ":7100", Seeds: []string{"a:1"}},
		},
		{
			name:        "flags override the file",
			args:        []string{"--config", full, "--listen", "127.0.0.1:0", "--seed", "b:2,c:3"},
			wantStore:   "postgres://file@db/vigil",
			wantDebug:   true,
			wantSection: section{Listen: "127.0.0.1:0", Seeds: []string{"a:1", "b:2", "c:3"}},
		},
		{name: "empty flag keeps the file", args: []string{"--listen="}, wantSection: defaults},
		{name: "file without the keys", args: []string{"--config", writeConfig(t, "other: {x: 1}\n")}, wantSection: defaults},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined", wantUsage: true},
		{name: "stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`, wantUsage: true},
		{name: "missing file", args: []string{"--config", "/nonexistent/vigil.yaml"}, wantErr: "read config"},
		{name: "unknown key in section", args: []string{"--config", writeConfig(t, "svc:\n  lsiten: a:1\n")}, wantErr: "lsiten"},
		{name: "bad log level", args: []string{"--config", writeConfig(t, "log_level: loud\n")}, wantErr: `log_level: "loud"`},
		{name: "invalid section", args: []string{"--config", writeConfig(t, "svc:\n  listen: \"\"\n")}, wantErr: "svc.listen: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cfg := defaults
			cmd := NewCommand("vigil-test", "svc", func(k string) string { return tt.env[k] }, &stderr)
			cmd.Override("listen", "", func(v string) { cfg.Listen = v })
			cmd.Override("seed", "", func(v string) { cfg.Seeds = append(cfg.Seeds, strings.Split(v, ",")...) })
			shared, err := cmd.Load(tt.args, &cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
				}
				if errors.Is(err, ErrUsage) != tt.wantUsage {
					t.Errorf("usage error = %v, want %v", errors.Is(err, ErrUsage), tt.wantUsage)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if shared.Store != tt.wantStore {
				t.Errorf("Store = %q, want %q", shared.Store, tt.wantStore)
			}
			if got := shared.Logger.Enabled(context.Background(), slog.LevelDebug); got != tt.wantDebug {
				t.Errorf("logging at debug = %v, want %v", got, tt.wantDebug)
			}
			if diff := cmp.Diff(tt.wantSection, cfg); diff != "" {
				t.Errorf("section (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCommandListen(t *testing.T) {
	cmd := NewCommand("vigil-test", "svc", func(string) string { return "" }, &bytes.Buffer{})
	lis, err := cmd.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	_, err = cmd.Listen(lis.Addr().String())
	if want := "svc.listen: listen tcp " + lis.Addr().String(); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Listen on a busy address = %v, want error starting %q", err, want)
	}
}

// idleService registers no handlers of its own and works until stopped, or
// fails at once with err.
type idleService struct{ err error }

func (idleService) Register(*grpc.Server) {}

func (s idleService) Run(ctx context.Context) error {
	if s.err != nil {
		return s.err
	}
	<-ctx.Done()
	return nil
}

func TestServeGRPCServesUntilCancelled(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log, _ := NewLogger(&logs, "info")
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ServeGRPC(ctx, lis, idleService{}, log, func(a string) { addrs <- a }) }()

	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("ServeGRPC returned before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready after 10s")
	}
	if addr != lis.Addr().String() {
		t.Errorf("ready(%q), want the listener's address %q", addr, lis.Addr())
	}
	processtest.WaitServing(t, addr)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeGRPC after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeGRPC did not return 10s after cancel")
	}
	for _, want := range []string{`msg="serving gRPC" addr=` + addr, "msg=stopped"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
}

func TestServeGRPCReturnsWorkError(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log, _ := NewLogger(&bytes.Buffer{}, "error")
	boom := errors.New("boom")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ServeGRPC(ctx, lis, idleService{err: boom}, log, nil); !errors.Is(err, boom) {
		t.Fatalf("ServeGRPC = %v, want %v", err, boom)
	}
	if ctx.Err() != nil {
		t.Fatal("ServeGRPC returned only at the test deadline")
	}
}
