package sandbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
)

// helperEnv makes the test binary act as a separate process that starts a
// persistent sandbox in the given directory and exits.
const helperEnv = "VIGIL_SANDBOX_TEST_UP"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		spec := sandbox.MasterWithReplicas(1)
		spec.Persistent = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := sandbox.Start(ctx, dir, spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0) // leave the servers running
	}
	os.Exit(m.Run())
}

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    sandbox.Spec
		wantErr string
	}{
		{"master with replicas", sandbox.MasterWithReplicas(2), ""},
		{"intermediate", sandbox.MasterIntermediateReplicas(2), ""},
		{"chain", sandbox.Chain("a", "b", "c"), ""},
		{"two clusters", sandbox.Spec{Instances: []sandbox.Node{{Name: "a"}, {Name: "b"}, {Name: "c", Source: "b"}}}, ""},
		{"empty", sandbox.Spec{}, "no instances"},
		{"bad name", sandbox.Chain("m", "R1"), "instance name"},
		{"duplicate", sandbox.Chain("m", "m"), "used twice"},
		{"unknown source", sandbox.Spec{Instances: []sandbox.Node{{Name: "m"}, {Name: "r", Source: "x"}}}, "unknown source"},
		{"cycle", sandbox.Spec{Instances: []sandbox.Node{{Name: "m"}, {Name: "a", Source: "b"}, {Name: "b", Source: "a"}}}, "cycle"},
		{"port range", sandbox.Spec{BasePort: 65535, Instances: sandbox.MasterWithReplicas(1).Instances}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.spec.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestMasterWithReplicas(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterWithReplicas(2))
	ctx := t.Context()
	m, r1, r2 := topo.Master(), topo.Instance("r1"), topo.Instance("r2")

	t.Run("read only", func(t *testing.T) {
		for _, i := range topo.Instances() {
			want := 1
			if i == m {
				want = 0
			}
			if got := queryInt(t, i, "SELECT @@read_only"); got != want {
				t.Errorf("%s: read_only = %d, want %d", i, got, want)
			}
		}
	})

	t.Run("write replicates", func(t *testing.T) {
		mustExec(t, m, "CREATE DATABASE sb; CREATE TABLE sb.t (id INT PRIMARY KEY); INSERT INTO sb.t VALUES (1)")
		waitReplicating(t, topo)
		for _, r := range []*sandbox.Instance{r1, r2} {
			if got := queryInt(t, r, "SELECT COUNT(*) FROM sb.t"); got != 1 {
				t.Errorf("%s: %d rows, want 1", r, got)
			}
		}
	})

	t.Run("freeze and thaw", func(t *testing.T) {
		if err := r2.Freeze(); err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if err := r2.AdminDB().PingContext(pctx); err == nil {
			t.Error("frozen server answered a ping")
		}
		if err := r2.Thaw(); err != nil {
			t.Fatal(err)
		}
		if err := r2.AdminDB().PingContext(ctx); err != nil {
			t.Errorf("thawed server: %v", err)
		}
	})

	t.Run("kill refuses connections", func(t *testing.T) {
		if err := r1.Kill(); err != nil {
			t.Fatal(err)
		}
		if r1.Running() || r1.PID() != 0 {
			t.Errorf("after Kill: Running=%v PID=%d", r1.Running(), r1.PID())
		}
		c, err := net.DialTimeout("tcp", r1.Key, time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("%s still accepts connections after Kill", r1.Key)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial after Kill: %v, want connection refused", err)
		}
	})

	t.Run("start again and restart catch up", func(t *testing.T) {
		mustExec(t, m, "INSERT INTO sb.t VALUES (2)")
		if err := r1.StartAgain(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r2.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		waitReplicating(t, topo)
		for _, r := range []*sandbox.Instance{r1, r2} {
			if got := queryInt(t, r, "SELECT COUNT(*) FROM sb.t"); got != 2 {
				t.Errorf("%s: %d rows, want 2", r, got)
			}
		}
	})
}

func TestMasterIntermediateReplicas(t *testing.T) {
	topo := sandbox.StartForTest(t, sandbox.MasterIntermediateReplicas(2))
	i1 := topo.Instance("i1")
	for _, r := range []string{"r1", "r2"} {
		st, err := topo.Instance(r).ReplicaStatus(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := strconv.Itoa(i1.Port); st["Master_Port"] != want {
			t.Errorf("%s replicates from port %s, want i1's %s", r, st["Master_Port"], want)
		}
	}
	if got := queryInt(t, i1, "SELECT @@read_only"); got != 1 {
		t.Errorf("intermediate read_only = %d, want 1", got)
	}

	mustExec(t, topo.Master(), "CREATE DATABASE sb; CREATE TABLE sb.t (id INT PRIMARY KEY); INSERT INTO sb.t VALUES (1),(2),(3)")
	waitReplicating(t, topo)
	for _, r := range []string{"i1", "r1", "r2"} {
		if got := queryInt(t, topo.Instance(r), "SELECT COUNT(*) FROM sb.t"); got != 3 {
			t.Errorf("%s: %d rows, want 3", r, got)
		}
	}
}

func TestPersistentUpStatusDown(t *testing.T) {
	if !sandbox.Installed() && os.Getenv("CI") != "true" {
		t.Skip("mariadbd not installed")
	}
	dir, err := os.MkdirTemp("", "vsbp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sandbox.Down(context.Background(), dir)
		_ = os.RemoveAll(dir)
	})

	// Another process starts the sandbox and exits; the servers must outlive it.
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("start in helper process: %v\n%s", err, out)
	}

	st, err := sandbox.Status(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 2 {
		t.Fatalf("Status: %d instances, want 2: %+v", len(st), st)
	}
	for _, s := range st {
		if !s.Running || s.PID <= 0 {
			t.Errorf("Status: %+v, want running", s)
		}
	}
	db, err := sql.Open("mysql", "vigil:vigil@tcp("+st[0].Key+")/?timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(t.Context()); err != nil {
		t.Errorf("topology user on %s: %v", st[0].Key, err)
	}

	if _, err := sandbox.Start(t.Context(), dir, sandbox.MasterWithReplicas(1)); !errors.Is(err, sandbox.ErrRunning) {
		t.Errorf("Start over a running sandbox: %v, want ErrRunning", err)
	}

	if err := sandbox.Down(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.Status(dir); !errors.Is(err, sandbox.ErrNoSandbox) {
		t.Errorf("Status after Down: %v, want ErrNoSandbox", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dir after Down: %v, want removed", err)
	}
	for _, s := range st {
		if err := syscall.Kill(s.PID, 0); err == nil && processState(s.PID) != "Z" {
			t.Errorf("%s: pid %d still alive after Down", s.Name, s.PID)
		}
	}
}

// processState returns field 3 of /proc/PID/stat, or "" if there is none.
func processState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func waitReplicating(t *testing.T, topo *sandbox.Topology) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := topo.WaitReplicating(ctx); err != nil {
		t.Fatal(err)
	}
}

func mustExec(t *testing.T, i *sandbox.Instance, query string) {
	t.Helper()
	if err := i.Exec(t.Context(), query); err != nil {
		t.Fatal(err)
	}
}

// queryInt runs query as the topology user over TCP, through Instance.DSN.
func queryInt(t *testing.T, i *sandbox.Instance, query string) int {
	t.Helper()
	db, err := sql.Open("mysql", i.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %s: %v", i, query, err)
	}
	return n
}
