// Package backend opens the store named by a URL: a PostgreSQL URL, or
// "memory" for state that lives only as long as the process.
package backend

import (
	"context"
	"fmt"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/store/postgres"
)

// Memory is the URL of the in-memory store.
const Memory = "memory"

// Open opens the store at url.
func Open(ctx context.Context, url string) (store.Store, error) {
	if url == Memory {
		return memory.New(), nil
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return st, nil
}
