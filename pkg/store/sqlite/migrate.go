package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/vigil-db/vigil/pkg/store/internal/migrations"
	"github.com/vigil-db/vigil/pkg/store/internal/rules"
)

// migrationFiles holds the schema, one file per version: NNNN_name.sql.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate applies the migrations the database lacks, all in one
// transaction, so that a failed migration leaves nothing behind. A
// database newer than this program is refused.
func migrate(ctx context.Context, db *sql.DB) error {
	all, err := migrations.Read(migrationFiles, "migrations/*.sql")
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest int
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if len(all) > 0 && newest > all[len(all)-1].Version {
		return fmt.Errorf("schema version %d is newer than this Vigil knows (%d): run a newer Vigil", newest, all[len(all)-1].Version)
	}
	for _, m := range all {
		if m.Version <= newest {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
			m.Version, micros(rules.Now())); err != nil {
			return fmt.Errorf("record migration %s: %w", m.Name, err)
		}
	}
	return tx.Commit()
}
