package sandbox

import (
	"context"
	"os"
	"testing"
	"time"
)

// testStartTimeout bounds StartForTest, including a cold template build.
const testStartTimeout = 2 * time.Minute

// StartForTest starts spec in a fresh short directory under os.TempDir
// (unix socket paths must stay under 108 bytes) on free ports, unless
// spec.BasePort is set, and destroys it when the test and its subtests
// finish, failed or not. Servers die with the test process.
//
// It skips the test if MariaDB is not installed, except when the CI
// environment variable is "true", where it fails it.
func StartForTest(t testing.TB, spec Spec) *Topology {
	t.Helper()
	if !Installed() {
		const msg = "mariadbd or mariadb-install-db not installed (scripts/deps.sh installs them)"
		if os.Getenv("CI") == "true" {
			t.Fatal("sandbox: " + msg)
		}
		t.Skip("sandbox: " + msg)
	}
	spec.Persistent = false
	dir, err := os.MkdirTemp("", "vsb")
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	ctx, cancel := context.WithTimeout(context.Background(), testStartTimeout)
	defer cancel()
	topo, err := Start(ctx, dir, spec)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, i := range topo.instances {
				t.Logf("sandbox: %s error log:\n%s", i, i.errorLogSince(0))
			}
		}
		if err := topo.Destroy(); err != nil {
			t.Errorf("sandbox: %v", err)
		}
	})
	return topo
}
