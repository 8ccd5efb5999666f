package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
	"github.com/vigil-db/vigil/pkg/store/storetest"
	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, pgtest.NewDSN(t))
	})
}

func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	s, err := postgres.Open(context.Background(), "postgres://vigil:s3cret-pw@127.0.0.1:1/vigil?sslmode=disable")
	if err == nil {
		s.Close()
		t.Fatal("Open on a port where nothing listens succeeded")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %v to fail on a refused connection", took)
	}
	msg := err.Error()
	if !strings.Contains(msg, "connect to PostgreSQL at 127.0.0.1:1: ") || strings.Contains(msg, "s3cret-pw") {
		t.Errorf("Open error = %q, want it to start with %q and not contain the password", msg, "connect to PostgreSQL at 127.0.0.1:1: ")
	}
}

func TestOpenBadDSN(t *testing.T) {
	tests := []struct {
		dsn, want string
	}{
		{"postgres://vigil:s3cret-pw@127.0.0.1:notaport/vigil", "invalid port"},
		{"postgres://vigil:s3cret-pw@127.0.0.1:5432/vigil?connect_timeout=soon", "invalid connect_timeout"},
		{"postgres://vigil:s3cret-pw@127.0.0.1:5432/vigil?pool_max_conns=many", "pool_max_conns"},
		{"postgres://vigil:s3cret%25pw@127.0.0.1:5432/vigil?sslmode=sometimes", "sslmode is invalid"},
		{"host=127.0.0.1 password=s3cret-pw port=notaport", "invalid port"},
		{"host=127.0.0.1 password='s3cret pw' sslmode=sometimes", "sslmode is invalid"},
		{"host=127.0.0.1 password=s3cret-pw dbname", "invalid keyword/value"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s, err := postgres.Open(context.Background(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) succeeded", tt.dsn)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "parse PostgreSQL DSN: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("Open error = %q, want %q naming %q", msg, "parse PostgreSQL DSN: ...", tt.want)
			}
			for _, secret := range []string{"s3cret", "pw"} {
				if strings.Contains(msg, secret) {
					t.Errorf("Open error = %q contains the password", msg)
				}
			}
		})
	}
}

func TestOpenCreatesDatabase(t *testing.T) {
	name, dsn := pgtest.NewMissingDSN(t)
	s := open(t, dsn)
	k := topology.InstanceKey{Host: "db1", Port: 3306}
	if err := s.SaveSnapshots(context.Background(), []*topologyv1.Snapshot{storetest.NewSnapshot(k, time.Now(), true)}); err != nil {
		t.Fatalf("SaveSnapshots in the created database %s: %v", name, err)
	}
}

func TestOpenTwiceKeepsData(t *testing.T) {
	dsn := pgtest.NewDSN(t)
	k := topology.InstanceKey{Host: "db1", Port: 3306}
	first := open(t, dsn)
	if err := first.SaveSnapshots(context.Background(), []*topologyv1.Snapshot{storetest.NewSnapshot(k, time.Now(), true)}); err != nil {
		t.Fatalf("SaveSnapshots: %v", err)
	}
	first.Close()

	second := open(t, dsn)
	if _, err := second.GetInstance(context.Background(), k); err != nil {
		t.Fatalf("GetInstance after opening again: %v", err)
	}
	checkMigrations(t, dsn)
}

func TestOpenConcurrently(t *testing.T) {
	tests := map[string]func(t *testing.T) string{
		"empty database":   func(t *testing.T) string { return pgtest.NewDSN(t) },
		"missing database": func(t *testing.T) string { _, dsn := pgtest.NewMissingDSN(t); return dsn },
	}
	for name, newDSN := range tests {
		t.Run(name, func(t *testing.T) {
			dsn := newDSN(t)
			const n = 4
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					s, err := postgres.Open(context.Background(), dsn)
					if err == nil {
						s.Close()
					}
					errs[i] = err
				})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("Open %d of %d: %v", i+1, n, err)
				}
			}
			checkMigrations(t, dsn)
		})
	}
}

// checkMigrations checks that each migration was recorded once.
func checkMigrations(t *testing.T, dsn string) {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("list migrations: %d files, %v", len(files), err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var versions, distinct int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&versions, &distinct); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	if versions != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations holds %d rows (%d versions), want one for each of %q", versions, distinct, files)
	}
}

// BenchmarkSaveSnapshots measures one SaveSnapshots call of 1,000 realistic
// snapshots replacing older ones: what a discovery member writes per cycle.
func BenchmarkSaveSnapshots(b *testing.B) {
	const batch = 1000
	s := open(b, pgtest.NewDSN(b))
	keys := make([]topology.InstanceKey, batch)
	for i := range keys {
		keys[i] = topology.InstanceKey{Host: fmt.Sprintf("db-%04d.dc%d.example.com", i, i%3), Port: 3306}
	}
	snaps := make([]*topologyv1.Snapshot, batch)
	start := time.Now()
	for n := 0; b.Loop(); n++ {
		b.StopTimer()
		finished := start.Add(time.Duration(n) * time.Second)
		for i, k := range keys {
			snaps[i] = storetest.NewSnapshot(k, finished, i%50 != 0)
		}
		b.StartTimer()
		if err := s.SaveSnapshots(context.Background(), snaps); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "snapshots/s")
}
