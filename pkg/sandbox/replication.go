package sandbox

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// createUsers creates the topology and replication users without writing
// to the binary log, so that every server starts with an empty GTID state.
func (t *Topology) createUsers(ctx context.Context, i *Instance) error {
	s := t.spec
	query := fmt.Sprintf(`SET sql_log_bin=0;
CREATE USER IF NOT EXISTS %[1]s@'%%' IDENTIFIED BY %[2]s;
GRANT ALL PRIVILEGES ON *.* TO %[1]s@'%%' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS %[3]s@'%%' IDENTIFIED BY %[4]s;
GRANT REPLICATION SLAVE ON *.* TO %[3]s@'%%'`,
		quote(s.User), quote(s.Password), quote(s.ReplicationUser), quote(s.ReplicationPassword))

	// sql_log_bin is per session: run on a connection of its own and throw
	// it away afterwards rather than return it to the pool unlogged.
	conn, err := i.admin.Conn(ctx)
	if err != nil {
		return fmt.Errorf("instance %s: create users: %w", i, err)
	}
	defer func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("instance %s: create users: %w", i, err)
	}
	return nil
}

// configure makes a master writable, or points a replica at its source and
// starts replicating.
func (t *Topology) configure(ctx context.Context, i *Instance) error {
	if i.Source == "" {
		if err := i.Exec(ctx, "SET GLOBAL read_only=0"); err != nil {
			return fmt.Errorf("make master writable: %w", err)
		}
		return nil
	}
	src := t.byName[i.Source]
	// RESET MASTER right after start waits about a second for InnoDB to
	// acknowledge the first binlog checkpoint; skip it when there is no
	// binlog state to clear, which is the normal case.
	var binlogState string
	if err := i.admin.QueryRowContext(ctx, "SELECT @@gtid_binlog_state").Scan(&binlogState); err != nil {
		return fmt.Errorf("instance %s: gtid_binlog_state: %w", i, err)
	}
	if binlogState != "" {
		if err := i.Exec(ctx, "RESET MASTER"); err != nil {
			return err
		}
	}
	query := fmt.Sprintf(`SET GLOBAL gtid_slave_pos='';
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=%d, MASTER_USER=%s, MASTER_PASSWORD=%s,
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_HEARTBEAT_PERIOD=1;
START SLAVE`, src.Port, quote(t.spec.ReplicationUser), quote(t.spec.ReplicationPassword))
	if err := i.Exec(ctx, query); err != nil {
		return fmt.Errorf("replicate from %s: %w", src, err)
	}
	return nil
}

// quote returns s as a single-quoted SQL string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// WaitReplicating waits until every replica has both replication threads
// running and has applied everything its master had binary-logged when the
// call began. Without a deadline on ctx it gives up after 30 s. The error
// names the replicas that were not there yet and why.
func (t *Topology) WaitReplicating(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, waitTimeout)
		defer cancel()
	}
	want := make(map[*Instance]gtidPos)
	for _, i := range t.instances {
		if i.Source != "" {
			continue
		}
		var pos string
		if err := i.admin.QueryRowContext(ctx, "SELECT @@gtid_binlog_pos").Scan(&pos); err != nil {
			return fmt.Errorf("wait replicating: master %s: gtid_binlog_pos: %w", i, err)
		}
		p, err := parseGTIDPos(pos)
		if err != nil {
			return fmt.Errorf("wait replicating: master %s: %w", i, err)
		}
		want[i] = p
	}

	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		var lagging []string
		for _, i := range t.instances {
			if i.Source == "" {
				continue
			}
			if why := replicaBehind(ctx, i, want[t.root(i)]); why != "" {
				lagging = append(lagging, i.String()+": "+why)
			}
		}
		if len(lagging) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait replicating: %w: %s", ctx.Err(), strings.Join(lagging, "; "))
		case <-tick.C:
		}
	}
}

// replicaBehind returns why replica i is not yet replicating up to want,
// or "" if it is.
func replicaBehind(ctx context.Context, i *Instance, want gtidPos) string {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := i.ReplicaStatus(qctx)
	if err != nil {
		return err.Error()
	}
	if st == nil {
		return "not a replica"
	}
	var pos string
	if err := i.admin.QueryRowContext(qctx, "SELECT @@gtid_slave_pos").Scan(&pos); err != nil {
		return "gtid_slave_pos: " + err.Error()
	}
	have, err := parseGTIDPos(pos)
	if err != nil {
		return err.Error()
	}
	io, sqlThread := st["Slave_IO_Running"], st["Slave_SQL_Running"]
	if io == "Yes" && sqlThread == "Yes" && have.covers(want) {
		return ""
	}
	why := fmt.Sprintf("io=%s sql=%s gtid_slave_pos=%q want %q", io, sqlThread, pos, want)
	for _, col := range []string{"Last_IO_Error", "Last_SQL_Error"} {
		if st[col] != "" {
			why += " " + col + "=" + strconv.Quote(st[col])
		}
	}
	return why
}

// ReplicaStatus returns the row of SHOW SLAVE STATUS by column name
// (Slave_IO_Running, Master_Port, Last_IO_Errno, ...), or nil if the server
// is not a replica.
func (i *Instance) ReplicaStatus(ctx context.Context) (map[string]string, error) {
	rows, err := i.admin.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, fmt.Errorf("instance %s: show slave status: %w", i, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("instance %s: show slave status: %w", i, err)
	}
	if !rows.Next() {
		return nil, rows.Err()
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for k := range vals {
		ptrs[k] = &vals[k]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("instance %s: show slave status: %w", i, err)
	}
	st := make(map[string]string, len(cols))
	for k, c := range cols {
		st[c] = vals[k].String
	}
	return st, rows.Err()
}

// gtidPos is a MariaDB GTID position: the last sequence number per domain.
type gtidPos map[uint32]uint64

// parseGTIDPos parses "domain-server-seq[,...]".
func parseGTIDPos(s string) (gtidPos, error) {
	p := gtidPos{}
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		parts := strings.Split(g, "-")
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad GTID %q", g)
		}
		domain, err1 := strconv.ParseUint(parts[0], 10, 32)
		seq, err2 := strconv.ParseUint(parts[2], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("bad GTID %q: %w", g, err)
		}
		if seq > p[uint32(domain)] {
			p[uint32(domain)] = seq
		}
	}
	return p, nil
}

// covers reports whether p has reached every domain's sequence in want.
func (p gtidPos) covers(want gtidPos) bool {
	for d, seq := range want {
		if p[d] < seq {
			return false
		}
	}
	return true
}

// String formats p as domain-*-seq pairs, for messages.
func (p gtidPos) String() string {
	var parts []string
	for _, d := range slices.Sorted(maps.Keys(p)) {
		parts = append(parts, fmt.Sprintf("%d-*-%d", d, p[d]))
	}
	return strings.Join(parts, ",")
}
