package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// ErrRelayLogNotApplied is returned when a replica's SQL thread stopped
// before it executed everything its IO thread had received.
var ErrRelayLogNotApplied = errors.New("relay log not applied")

// session is one connection to an instance and the statements its server
// understands. The caller closes conn.
func (p *Prober) session(ctx context.Context, key topology.InstanceKey) (*sql.Conn, dialect, error) {
	pool, err := p.pool(key)
	if err != nil {
		return nil, dialect{}, err
	}
	conn, err := pool.db.Conn(ctx)
	if err != nil {
		return nil, dialect{}, fmt.Errorf("connect to %s: %w", key, err)
	}
	var version, comment string
	if err := conn.QueryRowContext(ctx, "SELECT @@version, @@version_comment").Scan(&version, &comment); err != nil {
		conn.Close()
		return nil, dialect{}, fmt.Errorf("read version of %s: %w", key, err)
	}
	flavor, v, err := parseVersion(version, comment)
	if err != nil {
		conn.Close()
		return nil, dialect{}, fmt.Errorf("%s: %w", key, err)
	}
	return conn, newDialect(flavor, v), nil
}

// exec runs statements in order on one connection to key, each bounded by
// ConnectTimeout plus ReadTimeout, and stops at the first error.
func (p *Prober) exec(ctx context.Context, key topology.InstanceKey, statements func(d dialect) []string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+p.cfg.ReadTimeout)
	defer cancel()
	conn, d, err := p.session(ctx, key)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, stmt := range statements(d) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("%s on %s: %w", stmt, key, err)
		}
	}
	return nil
}

// RestartReplicationIO stops and starts the IO thread of the default
// replication channel of key, so the replica reconnects to its source.
func (p *Prober) RestartReplicationIO(ctx context.Context, key topology.InstanceKey) error {
	return p.exec(ctx, key, func(d dialect) []string { return []string{d.stopIOThread, d.startIOThread} })
}

// StopReplicationIO stops the IO thread of the default channel of key: it
// receives nothing more from its source, and keeps applying what it has.
func (p *Prober) StopReplicationIO(ctx context.Context, key topology.InstanceKey) error {
	return p.exec(ctx, key, func(d dialect) []string { return []string{d.stopIOThread} })
}

// StopReplication stops both replication threads of the default channel of
// key and keeps its source: START SLAVE undoes it.
func (p *Prober) StopReplication(ctx context.Context, key topology.InstanceKey) error {
	return p.exec(ctx, key, func(d dialect) []string { return []string{d.stopReplica} })
}

// SetReadOnly makes key refuse writes (read_only, and super_read_only on
// MySQL), or accept them again.
func (p *Prober) SetReadOnly(ctx context.Context, key topology.InstanceKey, readOnly bool) error {
	return p.exec(ctx, key, func(d dialect) []string {
		if readOnly {
			return []string{d.readOnly}
		}
		return []string{d.writable}
	})
}

// Promote makes key a master: it stops and forgets replication and
// accepts writes.
func (p *Prober) Promote(ctx context.Context, key topology.InstanceKey) error {
	return p.exec(ctx, key, func(d dialect) []string {
		return []string{d.stopReplica, d.resetReplicaAll, d.writable}
	})
}

// SetSemiSyncSource turns the semi-sync source (master) side of key on or off.
func (p *Prober) SetSemiSyncSource(ctx context.Context, key topology.InstanceKey, on bool) error {
	return p.exec(ctx, key, func(d dialect) []string {
		return []string{fmt.Sprintf("SET GLOBAL %s=%d", d.semiSyncSource, boolInt(on))}
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ReplicateFrom points the default channel of replica at source by GTID
// (MariaDB MASTER_USE_GTID=slave_pos, MySQL auto-position) and starts it.
// The replication user and password stay as they were.
func (p *Prober) ReplicateFrom(ctx context.Context, replica, source topology.InstanceKey) error {
	host, err := hostLiteral(source.Host)
	if err != nil {
		return err
	}
	return p.exec(ctx, replica, func(d dialect) []string {
		return []string{d.stopReplica, d.changeSourceTo(host, source.Port), d.startReplica}
	})
}

// WaitRelayLogApplied waits until the SQL thread of key's default channel
// has executed everything its IO thread received, polling every interval
// until ctx ends. It returns ErrRelayLogNotApplied, with the SQL error, if
// the SQL thread is not running before it is done.
func (p *Prober) WaitRelayLogApplied(ctx context.Context, key topology.InstanceKey, interval time.Duration) error {
	conn, d, err := p.session(ctx, key)
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		rows, err := queryRows(ctx, conn, d.replicaStatus)
		if err != nil {
			return fmt.Errorf("replica status of %s: %w", key, err)
		}
		channels, err := parseReplicaStatusRows(rows)
		if err != nil {
			return fmt.Errorf("replica status of %s: %w", key, err)
		}
		if len(channels) == 0 || channels[0].GetName() != "" {
			return fmt.Errorf("%s has no default replication channel", key)
		}
		ch := channels[0]
		read, exec := ch.GetReadPosition(), ch.GetExecPosition()
		if read.GetFile() == exec.GetFile() && read.GetPosition() == exec.GetPosition() {
			return nil
		}
		if ch.GetSqlThread() != topologyv1.ThreadState_THREAD_STATE_YES {
			return fmt.Errorf("%s: SQL thread stopped at %s:%d of %s:%d (%d %s): %w", key,
				exec.GetFile(), exec.GetPosition(), read.GetFile(), read.GetPosition(),
				ch.GetLastSqlErrno(), ch.GetLastSqlError(), ErrRelayLogNotApplied)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: relay log applied up to %s:%d of %s:%d: %w", key,
				exec.GetFile(), exec.GetPosition(), read.GetFile(), read.GetPosition(), ctx.Err())
		case <-time.After(interval):
		}
	}
}

// hostLiteral returns host as a SQL string literal, as literal does.
func hostLiteral(host string) (string, error) {
	if host == "" {
		return "", errors.New("source host is empty")
	}
	return literal("source host", host, strconv.Quote(host))
}

// literal returns value as a SQL string literal. It refuses quotes,
// backslashes and control characters rather than escape them, so that the
// literal means the same under every sql_mode. Errors name the field and
// show value as shown (a password is not shown).
func literal(field, value, shown string) (string, error) {
	for _, r := range value {
		if r == '\'' || r == '\\' || r == '"' || r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%s %s: character %s not allowed", field, shown, strconv.QuoteRune(r))
		}
	}
	return "'" + value + "'", nil
}

// ExecutedGTIDs returns the GTIDs key executed: MySQL's gtid_executed, or
// MariaDB's gtid_binlog_pos. Read from a master made read-only, it is
// everything a replica must execute to lose nothing.
func (p *Prober) ExecutedGTIDs(ctx context.Context, key topology.InstanceKey) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+p.cfg.ReadTimeout)
	defer cancel()
	conn, d, err := p.session(ctx, key)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var gtids string
	if err := conn.QueryRowContext(ctx, d.executed).Scan(&gtids); err != nil {
		return "", fmt.Errorf("executed GTIDs of %s: %w", key, err)
	}
	return gtids, nil
}

// ErrNotExecuted is returned when a replica has not executed the GTIDs it
// was waited for before the wait ended.
var ErrNotExecuted = errors.New("GTIDs not executed")

// WaitExecuted waits until key executed gtids (as ExecutedGTIDs returns
// them from its master), until ctx ends. The server wakes the wait the
// moment the last transaction commits; each wait stays under the read
// timeout of the connection.
func (p *Prober) WaitExecuted(ctx context.Context, key topology.InstanceKey, gtids string) error {
	conn, d, err := p.session(ctx, key)
	if err != nil {
		return err
	}
	defer conn.Close()
	chunk := p.cfg.ReadTimeout / 2
	for {
		wait := chunk
		if deadline, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(deadline))
		}
		if wait <= 0 {
			return fmt.Errorf("%s has not executed %s: %w", key, gtids, ErrNotExecuted)
		}
		var result sql.NullInt64
		err := conn.QueryRowContext(ctx, d.waitExecuted, gtids, wait.Seconds()).Scan(&result)
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("%s has not executed %s: %w (%w)", key, gtids, ErrNotExecuted, ctx.Err())
		case err != nil:
			return fmt.Errorf("wait for %s to execute %s: %w", key, gtids, err)
		case !result.Valid:
			return fmt.Errorf("wait for %s to execute %s: the server refused the position", key, gtids)
		case result.Int64 == 0:
			return nil
		}
	}
}

// ReplicateFromAsFormerMaster points a former master at its successor by
// GTID, logging in with repl, and starts replication after the
// transactions in its own binary log (MariaDB needs to be told; MySQL
// auto-position knows). It stays read-only. Errors never show the password.
func (p *Prober) ReplicateFromAsFormerMaster(ctx context.Context, former, successor topology.InstanceKey, repl Credentials) error {
	host, err := hostLiteral(successor.Host)
	if err != nil {
		return err
	}
	user, err := literal("replication user", repl.User, strconv.Quote(repl.User))
	if err != nil {
		return err
	}
	password, err := literal("replication password", repl.Password, redacted)
	if err != nil {
		return err
	}
	err = p.exec(ctx, former, func(d dialect) []string {
		out := []string{d.stopReplica}
		if d.adoptOwnBinlog != "" {
			out = append(out, d.adoptOwnBinlog)
		}
		w := d.changeSource
		change := fmt.Sprintf("%s, %s=%s, %s=%s", d.changeSourceTo(host, successor.Port), w.user, user, w.password, password)
		return append(out, change, d.startReplica)
	})
	if err != nil {
		return errors.New(repl.scrub(err.Error()))
	}
	return nil
}

// Hold is the liveness watch of one server: it keeps a connection of its
// own (outside the probe pool) busy in short sleeps until the connection
// breaks, and returns why; nil when ctx ended first. A server that dies or
// shuts down closes the connection at once, so the caller learns of it in
// milliseconds instead of at the next probe. A frozen server keeps it open:
// probes still decide.
func (p *Prober) Hold(ctx context.Context, key topology.InstanceKey) error {
	ip, err := p.pool(key)
	if err != nil {
		return err
	}
	db := sql.OpenDB(ip.connector)
	defer db.Close()
	db.SetMaxOpenConns(1)
	cctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout+p.cfg.ReadTimeout)
	conn, err := db.Conn(cctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("liveness watch of %s: connect: %w", key, err)
	}
	defer conn.Close()
	// Each sleep ends well within the connection's read timeout. The
	// statement is plain text: no prepared statement is held on the server.
	stmt := fmt.Sprintf("DO SLEEP(%.3f)", (p.cfg.ReadTimeout / 2).Seconds())
	for {
		_, err := conn.ExecContext(ctx, stmt)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("liveness watch of %s: %w", key, err)
		}
	}
}
