package mysql

import (
	"context"
	"fmt"

	"github.com/vigil-db/vigil/pkg/topology"
)

// RestartReplicationIO stops and starts the IO thread of the default
// replication channel of key, so the replica reconnects to its source. It
// uses the probe pool and is bounded by ConnectTimeout plus ReadTimeout.
func (p *Prober) RestartReplicationIO(ctx context.Context, key topology.InstanceKey) error {
	pool, err := p.pool(key)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+p.cfg.ReadTimeout)
	defer cancel()
	conn, err := pool.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", key, err)
	}
	defer conn.Close()

	var version, comment string
	if err := conn.QueryRowContext(ctx, "SELECT @@version, @@version_comment").Scan(&version, &comment); err != nil {
		return fmt.Errorf("read version of %s: %w", key, err)
	}
	flavor, v, err := parseVersion(version, comment)
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	d := newDialect(flavor, v)
	for _, stmt := range []string{d.stopIOThread, d.startIOThread} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s on %s: %w", stmt, key, err)
		}
	}
	return nil
}
