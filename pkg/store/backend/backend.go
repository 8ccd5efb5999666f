// Package backend opens the store named by a URL: a PostgreSQL URL, or
// "memory" for state that lives only as long as the process.
package backend

import (
	"context"
	"fmt"
	"strings"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/store/postgres"
)

// Memory is the URL of the in-memory store.
const Memory = "memory"

// accepted names the forms Open accepts, for its errors.
const accepted = `give a PostgreSQL URL (postgres:// or postgresql://) or "memory"`

// Open opens the store at url: a postgres:// or postgresql:// URL, or
// Memory. Any other form is refused before anything is dialled.
func Open(ctx context.Context, url string) (store.Store, error) {
	if url == Memory {
		return memory.New(), nil
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
