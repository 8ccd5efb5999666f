// Package pgtest gives tests a fresh PostgreSQL database of their own on the
// server named by VIGIL_TEST_POSTGRES_URL, dropped when the test ends.
// PostgreSQL is required: an unreachable server fails the test, it is not
// skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable naming the server tests use, as a
// postgres:// URL with a database that exists (usually postgres).
const EnvURL = "VIGIL_TEST_POSTGRES_URL"

// DefaultURL is the server used when EnvURL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// NewDSN creates an empty, uniquely named database and returns its URL. The
// database is dropped, with any connections still open to it, when the test
// ends.
func NewDSN(t testing.TB) string {
	t.Helper()
	name, dsn := newDatabaseName(t)
	exec(t, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	dropAtEnd(t, name)
	return dsn
}

// NewMissingDSN returns the name and URL of a uniquely named database that
// does not exist yet, on a server that is reachable, for tests of code that
// creates it. The database is dropped when the test ends if it was created.
func NewMissingDSN(t testing.TB) (name, dsn string) {
	t.Helper()
	name, dsn = newDatabaseName(t)
	exec(t, "SELECT 1")
	dropAtEnd(t, name)
	return name, dsn
}

// newDatabaseName returns a unique database name and its URL.
func newDatabaseName(t testing.TB) (name, dsn string) {
	t.Helper()
	var id [8]byte
	rand.Read(id[:])
	name = "vigil_test_" + hex.EncodeToString(id[:])
	u := serverURL(t)
	u.Path = "/" + name
	return name, u.String()
}

// dropAtEnd drops the database when the test ends, closing any connections
// still open to it.
func dropAtEnd(t testing.TB, name string) {
	t.Cleanup(func() {
		exec(t, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
}

// serverURL parses EnvURL or DefaultURL.
func serverURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s is not a postgres:// URL", EnvURL)
	}
	return u
}

// exec runs one statement on the server's database named in the URL.
func exec(t testing.TB, sql string) {
	t.Helper()
	server := serverURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(server.String())
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", EnvURL, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: PostgreSQL for tests is unreachable at %s (set %s to a reachable server, default %s): %v",
			net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), EnvURL, DefaultURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
