package hooks

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHookSeesTheContextAndNoShellRunsIt(t *testing.T) {
	dir := t.TempDir()
	evil := "db1; touch " + filepath.Join(dir, "pwned") + " $(touch " + filepath.Join(dir, "pwned2") + ") `touch " + filepath.Join(dir, "pwned3") + "`"
	c := Context{Point: PreFailover, RecoveryID: "r1", FailureType: "DeadMaster", Cluster: evil, FailedHost: evil, FailedPort: 3306,
		LostReplicas: []string{"db3:3306"}, FencingToken: 7}
	// The hook itself uses a shell on purpose: values reach it as data.
	h := Hook{Argv: []string{"/bin/sh", "-c", `printf '%s|%s|%s' "$VIGIL_FAILED_HOST" "$VIGIL_FAILED_PORT" "$VIGIL_LOST_REPLICAS"; cat > "$0"`, filepath.Join(dir, "stdin.json")}}
	out, err := Run(context.Background(), h, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := evil + "|3306|db3:3306"; out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stdin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got Context
	if err := json.Unmarshal(raw, &got); err != nil || got.FailedHost != evil || got.FencingToken != 7 || got.Point != PreFailover {
		t.Errorf("stdin = %s (%v), want the context", raw, err)
	}
	for _, f := range []string{"pwned", "pwned2", "pwned3"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists: a value was run as a command", f)
		}
	}
}

func TestHookFailures(t *testing.T) {
	tests := []struct {
		name string
		hook Hook
		want string
	}{
		{"non-zero exit", Hook{Argv: []string{"/bin/sh", "-c", "echo no; exit 3"}}, "exit status 3"},
		{"missing program", Hook{Argv: []string{"/nonexistent/hook"}}, "/nonexistent/hook"},
		{"timeout", Hook{Argv: []string{"/bin/sleep", "10"}, Timeout: 100 * time.Millisecond}, "killed after its 100ms timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(context.Background(), tt.hook, Context{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	c := Config{PreFailover: []Hook{{Argv: nil}}, PostFailover: []Hook{{Argv: []string{"x"}, Timeout: -time.Second}}}
	err := c.Validate("recovery.hooks")
	for _, want := range []string{"recovery.hooks.pre_failover[0].argv: empty", "recovery.hooks.post_failover[0].timeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want %q", err, want)
		}
	}
}
