// Package sqlite is the embedded store.Store: one SQLite file, through the
// pure-Go modernc.org/sqlite driver, for Vigil on a single node. One process
// owns the file at a time: Open locks it, and a second Open fails until the
// first store is closed.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
)

// ErrInUse is returned by Open when another process holds the store.
var ErrInUse = errors.New("the embedded store is in use by another process")

// Store is a store.Store in a SQLite file. It is safe for concurrent use
// within its process; statements run one at a time.
type Store struct {
	db   *sql.DB
	lock *os.File
	path string
}

var _ store.Store = (*Store)(nil)

// Open opens the store in the file at path, creating it when missing, and
// brings its schema up to date. It fails with ErrInUse while another
// process has the file open, and with a clear error, writing nothing, when
// the file is not a SQLite database or is damaged.
func Open(ctx context.Context, path string) (*Store, error) {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return nil, fmt.Errorf("embedded store %s: is a directory, not a file", path)
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+
		"?_txlock=immediate&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("embedded store %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and a transaction then
	// never waits on a lock held by another connection of this process.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	s := &Store{db: db, lock: lock, path: path}
	if err := s.check(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		s.Close()
		return nil, fmt.Errorf("embedded store %s: %w", path, err)
	}
	return s, nil
}

// check makes sure the file is a healthy SQLite database before anything
// is written to it, then turns on write-ahead logging.
func (s *Store) check(ctx context.Context) error {
	var result string
	if err := s.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&result); err != nil {
		return fmt.Errorf("embedded store %s: not a readable SQLite database (%w); left as it is", s.path, err)
	}
	if result != "ok" {
		return fmt.Errorf("embedded store %s: damaged: %s; left as it is", s.path, result)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("embedded store %s: cannot write (%w)", s.path, err)
	}
	if _, err := s.db.ExecContext(ctx, "PRAGMA synchronous=NORMAL"); err != nil {
		return fmt.Errorf("embedded store %s: %w", s.path, err)
	}
	return nil
}

// lockFile takes an exclusive lock on path, created when missing, without
// waiting.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("embedded store: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s is locked): only one process may own an embedded store; run services as separate processes on PostgreSQL", ErrInUse, path)
		}
		return nil, fmt.Errorf("embedded store: lock %s: %w", path, err)
	}
	return f, nil
}

// Close implements store.Store: it closes the database and releases the
// file for another process.
func (s *Store) Close() {
	_ = s.db.Close()
	_ = s.lock.Close()
}

// micros is how the store keeps a time: microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is the time micros kept, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros is micros for a time that may be absent (zero).
func nullMicros(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

// newListQuery builds list queries with SQLite's placeholders and times.
func newListQuery() *rules.ListQuery {
	return &rules.ListQuery{
		Placeholder: func(n int) string { return "?" + strconv.Itoa(n) },
		Time:        func(t time.Time) any { return micros(t) },
	}
}

// inTx runs f in one transaction, committed when f returns nil.
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
