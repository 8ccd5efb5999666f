package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/backend"
	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
	"github.com/vigil-db/vigil/pkg/store/sqlite"
	"github.com/vigil-db/vigil/pkg/store/storetest"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// TestStoreCopy copies an embedded store into PostgreSQL with the command,
// and refuses bad invocations and a store another process holds.
func TestStoreCopy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	key := topology.InstanceKey{Host: "db1", Port: 3306}
	if err := src.SaveSnapshots(ctx, []*topologyv1.Snapshot{storetest.NewSnapshot(key, time.Now(), true)}); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.NewDSN(t)
	var stdout, stderr bytes.Buffer
	// The embedded store is still open here: one process owns it.
	if err := run(ctx, []string{"store", "copy", "--from", path, "--to", dsn}, &stdout, &stderr, noEnv); !errors.Is(err, sqlite.ErrInUse) {
		t.Errorf("copy from a store in use: error = %v, want ErrInUse", err)
	}
	src.Close()

	if err := run(ctx, []string{"store", "copy", "--from", path}, &stdout, &stderr, func(k string) string {
		return map[string]string{"VIGIL_STORE_COPY_TO": dsn}[k]
	}); err != nil {
		t.Fatalf("store copy: %v", err)
	}
	if !strings.Contains(stdout.String(), "copied 1 instances") {
		t.Errorf("output %q, want the count of instances", stdout.String())
	}
	dst, err := backend.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.GetInstance(ctx, key); err != nil {
		t.Errorf("instance not copied: %v", err)
	}
	if err := run(ctx, []string{"store", "copy", "--from", path, "--to", dsn}, &stdout, &stderr, noEnv); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("second copy into the same store: error = %v, want ErrNotEmpty", err)
	}
	for _, args := range [][]string{{"store"}, {"store", "move"}, {"store", "copy", "--from", path}, {"store", "copy", "--to", dsn}} {
		if err := run(ctx, args, &stdout, &stderr, noEnv); !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}
