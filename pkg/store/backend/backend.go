// Package backend opens the store named by a URL: a PostgreSQL URL, an
// embedded SQLite file, or "memory" for state that lives only as long as
// the process.
package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	"github.com/vigil-db/vigil/pkg/store/sqlite"
)

// Memory is the URL of the in-memory store.
const Memory = "memory"

// accepted names the forms Open accepts, for its errors.
const accepted = `give a PostgreSQL URL (postgres:// or postgresql://), an embedded store (sqlite:///path/vigil.db or a file path) or "memory"`

// Open opens the store at url: a postgres:// or postgresql:// URL, an
// embedded store (see SQLitePath), or Memory. Any other form is refused
// before anything is dialled or created.
func Open(ctx context.Context, url string) (store.Store, error) {
	if url == Memory {
		return memory.New(), nil
	}
	if path, ok := SQLitePath(url); ok {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		return st, nil
	}
	if err := checkPostgresURL(url); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}

// SQLitePath returns the file of an embedded store URL: sqlite://path
// (sqlite:///var/lib/vigil/vigil.db for an absolute path), or a bare file
// path, which must contain a "/" or end in .db, .sqlite or .sqlite3 so that
// a misspelt word is not taken for a file name.
func SQLitePath(url string) (string, bool) {
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		return path, path != ""
	}
	if strings.Contains(url, "://") || strings.ContainsAny(url, " =") {
		return "", false
	}
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(url, ext) {
			return url, true
		}
	}
	return url, strings.Contains(url, "/")
}

// checkPostgresURL reports an error unless url has a PostgreSQL scheme. The
// error names the scheme but never the rest of url, which may hold a
// password.
func checkPostgresURL(url string) error {
	scheme, _, ok := strings.Cut(url, "://")
	switch {
	case !ok || scheme == "":
		return fmt.Errorf("not a URL; %s", accepted)
	case strings.EqualFold(scheme, "postgres"), strings.EqualFold(scheme, "postgresql"):
		return nil
	default:
		return fmt.Errorf("scheme %q is not supported; %s", scheme, accepted)
	}
}
