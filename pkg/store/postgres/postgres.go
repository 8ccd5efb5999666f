// Package postgres is the store.Store kept in PostgreSQL, through pgx. Open
// creates the database when it is missing and applies the embedded schema
// migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
)

// connectTimeout bounds connecting and the first ping, unless the DSN sets
// connect_timeout.
const connectTimeout = 5 * time.Second

// SQLSTATEs Open reacts to.
const (
	invalidCatalogName = "3D000" // the database does not exist
	duplicateDatabase  = "42P04"
	uniqueViolation    = "23505" // concurrent CREATE DATABASE of the same name
)

// Store is a store.Store in a PostgreSQL database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database named by dsn (a postgres:// URL or
// keyword/value string), creating the database when it does not exist, and
// brings its schema up to date. Errors name what failed, with the server's
// host:port when it could not be reached, and never the password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := connect(ctx, cfg)
	if isPgError(err, invalidCatalogName) {
		if err := createDatabase(ctx, cfg.ConnConfig); err != nil {
			return nil, err
		}
		pool, err = connect(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate PostgreSQL database %q: %w", cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// connect opens a pool and pings the server through it.
func connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", serverAddr(cfg.ConnConfig), err)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnConfig.ConnectTimeout)
	defer cancel()
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", serverAddr(cfg.ConnConfig), err)
	}
	return pool, nil
}

// createDatabase creates the database cfg names, connecting to the postgres
// database of the same server to do so. A database created meanwhile by
// someone else is fine.
func createDatabase(ctx context.Context, cfg *pgx.ConnConfig) error {
	admin := cfg.Copy()
	admin.Database = "postgres"
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("create missing database %q: connect to PostgreSQL at %s: %w", cfg.Database, serverAddr(cfg), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	if err != nil && !isPgError(err, duplicateDatabase) && !isPgError(err, uniqueViolation) {
		return fmt.Errorf("create missing database %q on PostgreSQL at %s: %w", cfg.Database, serverAddr(cfg), err)
	}
	return nil
}

// serverAddr is the host:port of the first server cfg tries.
func serverAddr(cfg *pgx.ConnConfig) string {
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

func isPgError(err error, sqlState string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == sqlState
}

// newListQuery builds list queries with PostgreSQL's placeholders.
func newListQuery() *rules.ListQuery {
	return &rules.ListQuery{
		Placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		Time:        func(t time.Time) any { return t },
	}
}

// Close implements store.Store: it closes the connection pool.
func (s *Store) Close() { s.pool.Close() }
