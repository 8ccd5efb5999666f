package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/sqlite"
	"github.com/vigil-db/vigil/pkg/store/storetest"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "vigil.db"))
	})
}

// TestStateSurvivesReopening writes, closes, opens the file again: the
// state is there, and the schema is not applied twice.
func TestStateSurvivesReopening(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "vigil.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	key := topology.InstanceKey{Host: "db1", Port: 3306}
	if err := s.SetGlobalRecoveries(ctx, store.GlobalRecoveries{Enabled: false, UpdatedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSnapshots(ctx, []*topologyv1.Snapshot{storetest.NewSnapshot(key, time.Now(), true)}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	g, err := s.GetGlobalRecoveries(ctx)
	if err != nil || g.Enabled || g.UpdatedBy != "alice" {
		t.Errorf("global recoveries after reopening = %+v, %v; want disabled by alice", g, err)
	}
	if _, err := s.GetInstance(ctx, key); err != nil {
		t.Errorf("instance after reopening: %v", err)
	}
}

// TestOneProcessOwnsTheFile: a second Open of the same file fails with
// ErrInUse until the first store is closed.
func TestOneProcessOwnsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigil.db")
	first, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(context.Background(), path); !errors.Is(err, sqlite.ErrInUse) ||
		!strings.Contains(err.Error(), "PostgreSQL") {
		t.Errorf("second Open: error = %v, want ErrInUse pointing at PostgreSQL", err)
	}
	first.Close()
	open(t, path)
}

// TestBadFilesRefusedUntouched: a file that is not a SQLite database, and a
// directory, are refused with an error naming them, and nothing is written.
func TestBadFilesRefusedUntouched(t *testing.T) {
	dir := t.TempDir()
	garbage := bytes.Repeat([]byte("not a database "), 512)
	corrupt := filepath.Join(dir, "corrupt.db")
	if err := os.WriteFile(corrupt, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(context.Background(), corrupt)
	if err == nil || !strings.Contains(err.Error(), corrupt) || !strings.Contains(err.Error(), "not a readable SQLite database") {
		t.Errorf("Open(corrupt file) = %v, want an error naming it", err)
	}
	if got, _ := os.ReadFile(corrupt); !bytes.Equal(got, garbage) {
		t.Error("the corrupt file was changed")
	}
	if _, err := os.Stat(corrupt + "-wal"); err == nil {
		t.Error("a write-ahead log was created next to the corrupt file")
	}
	if _, err := sqlite.Open(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Open(directory) = %v, want an error saying so", err)
	}
	missing := filepath.Join(dir, "no-such-dir", "vigil.db")
	if _, err := sqlite.Open(context.Background(), missing); err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("Open(file in a missing directory) = %v, want an error naming it", err)
	}
}
