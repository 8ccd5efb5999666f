package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/topology"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// serverTimeQuery reads the server clock: NOW(6), in UTC whatever the
// server's time zone.
const serverTimeQuery = "SELECT UTC_TIMESTAMP(6)"

const serverTimeLayout = "2006-01-02 15:04:05.999999"

// maxErrorDetails bounds how many failures one snapshot lists.
const maxErrorDetails = 4

// probeRun is the state of one probe.
type probeRun struct {
	prober *Prober
	key    topology.InstanceKey
	snap   *topologyv1.Snapshot
	pool   *instancePool
	conn   *sql.Conn
	socket *tracedConn // the connection's socket, for explaining failures
	// bound is set when socket enforces the probe's context (see
	// tracedConn.bind), so the driver need not.
	bound   bool
	answers map[string]result // of statements sent ahead, by statement
	// broken is set when a statement sent ahead failed other than with a
	// MySQL error: the connection is gone, nothing more is sent ahead.
	broken  bool
	status  row // SHOW GLOBAL STATUS, lower-case names
	dialect dialect
	// stopped is set when the probe cannot go on: the connection broke, or
	// the server's version is unknown.
	stopped bool
	details []string
}

// run fills snap.
func (r *probeRun) run(ctx context.Context) {
	cfg := r.prober.cfg
	if err := r.key.Validate(); err != nil {
		r.fail(failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}, "probe")
		return
	}
	pool, err := r.prober.pool(r.key)
	if err != nil {
		r.fail(failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}, "probe "+r.key.String())
		return
	}
	r.pool = pool
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+cfg.ReadTimeout)
	defer cancel()

	// The handshake gets the connect budget only; the driver watches this
	// context, which is what ends a handshake with a frozen server.
	cctx, ccancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	conn, err := pool.db.Conn(cctx)
	ccancel()
	if err != nil {
		r.fail(classifyConnect(err, cfg.ConnectTimeout), "connect to "+r.key.String())
		return
	}
	defer conn.Close()
	r.conn = conn
	_ = conn.Raw(func(dc any) error {
		r.socket = pool.connector.socket(dc)
		return nil
	})
	if r.socket != nil {
		defer r.socket.bind(ctx)()
		r.bound = true
	}

	// The statements every probe runs go in one round trip, with the
	// version-dependent ones of the last probe; sendVersioned checks
	// those against the version read now.
	first := []string{serverTimeQuery, variablesQuery, statusQuery}
	if v := pool.versioned.Load(); v != nil {
		first = append(first, *v...)
	}
	r.sendAhead(ctx, first)

	steps := []func(context.Context){
		r.readServerTime, r.readServer, r.sendVersioned, r.readBinlogPosition, r.readChannels, r.readReplicas,
		r.readLag, r.classify,
	}
	for _, step := range steps {
		if r.stopped {
			return
		}
		step(ctx)
	}
}

// queryContext returns the context to run a statement with, or the error
// of a context that has ended.
func (r *probeRun) queryContext(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.bound {
		// The socket enforces ctx. A context without Done spares the
		// driver's watcher and database/sql's per-query goroutine.
		return context.WithoutCancel(ctx), nil
	}
	return ctx, nil
}

// queryError returns err, or the error of ctx when ctx has ended and err is
// not the server's: on a bound socket, an ended context shows as a socket
// deadline.
func queryError(ctx context.Context, err error) error {
	var me *mysql.MySQLError
	if err == nil || errors.As(err, &me) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// sendAhead runs fixed statements in one round trip and keeps their results
// for the steps that need them; statements already answered are skipped.
// A statement the server did not get to is left for the step to run.
func (r *probeRun) sendAhead(ctx context.Context, stmts []string) {
	var todo []string
	for _, s := range stmts {
		if _, ok := r.answers[s]; !ok && !slices.Contains(todo, s) {
			todo = append(todo, s)
		}
	}
	if len(todo) == 0 || r.broken {
		return
	}
	if r.answers == nil {
		r.answers = make(map[string]result, len(todo))
	}
	qctx, err := r.queryContext(ctx)
	if err != nil {
		r.answers[todo[0]] = result{err: err}
		return
	}
	for i, res := range queryBatch(qctx, r.conn, todo) {
		res.err = queryError(ctx, res.err)
		var me *mysql.MySQLError
		if res.err != nil && !errors.As(res.err, &me) {
			r.broken = true
		}
		r.answers[todo[i]] = res
	}
}

// answer returns the result of a fixed statement: the one sent ahead, or
// else the statement's own.
func (r *probeRun) answer(ctx context.Context, stmt string) result {
	if res, ok := r.answers[stmt]; ok {
		delete(r.answers, stmt)
		return res
	}
	qctx, err := r.queryContext(ctx)
	if err != nil {
		return result{err: err}
	}
	cols, rows, err := func() ([]string, []row, error) {
		rows, err := r.conn.QueryContext(qctx, stmt)
		if err != nil {
			return nil, nil, err
		}
		defer rows.Close()
		return scanResultSet(rows)
	}()
	return result{cols: cols, rows: rows, err: queryError(ctx, err)}
}

// queryFirst runs a statement of its own and returns the first column of
// its first row (see queryFirst).
func (r *probeRun) queryFirst(ctx context.Context, query string) (string, bool, error) {
	qctx, err := r.queryContext(ctx)
	if err != nil {
		return "", false, err
	}
	v, ok, err := queryFirst(qctx, r.conn, query)
	return v, ok, queryError(ctx, err)
}

// queryRows runs a statement of its own and returns its rows.
func (r *probeRun) queryRows(ctx context.Context, query string) ([]row, error) {
	qctx, err := r.queryContext(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := queryRows(qctx, r.conn, query)
	return rows, queryError(ctx, err)
}

// readServerTime is the first statement: its answer makes the server
// reachable.
func (r *probeRun) readServerTime(ctx context.Context) {
	now, _, err := r.answer(ctx, serverTimeQuery).first()
	if !r.succeeded(serverTimeQuery, err) {
		r.stopped = true
		return
	}
	r.snap.Reachable = true
	t, err := time.ParseInLocation(serverTimeLayout, now, time.UTC)
	if err != nil {
		r.parseFailed(fmt.Errorf("server time %q: %w", now, err))
		return
	}
	r.snap.ServerTime = timestamppb.New(t)
}

// readServer reads variables and status into snap.Server and picks the
// dialect. Without the variables the probe cannot go on.
func (r *probeRun) readServer(ctx context.Context) {
	vars, err := r.answer(ctx, variablesQuery).nameValues()
	if !r.succeeded("SHOW GLOBAL VARIABLES", err) {
		r.stopped = true
		return
	}
	server, err := parseVariables(vars)
	r.parseFailed(err)
	r.snap.Server = server
	flavor, version, err := parseVersion(server.GetVersion(), server.GetVersionComment())
	if err != nil {
		r.stopped = true // already reported by parseVariables
		return
	}
	r.dialect = newDialect(flavor, version)

	status, err := r.answer(ctx, statusQuery).nameValues()
	if r.succeeded("SHOW GLOBAL STATUS", err) {
		r.status = status
		r.parseFailed(applyStatus(server, status))
	}
}

// sendVersioned sends the version-dependent statements this server needs
// ahead, in one round trip: those the first round trip did not carry
// already, because the last probe's version differed or there was none. It
// keeps them for the next probe.
func (r *probeRun) sendVersioned(ctx context.Context) {
	d := r.dialect
	var stmts []string
	if r.snap.GetServer().GetLogBin() {
		stmts = append(stmts, d.binlogStatus)
	}
	stmts = append(stmts, d.replicaStatus, d.replicaHosts)
	if last := r.pool.versioned.Load(); last == nil || !slices.Equal(*last, stmts) {
		r.pool.versioned.Store(&stmts)
	}
	r.sendAhead(ctx, stmts)
}

func (r *probeRun) readBinlogPosition(ctx context.Context) {
	if !r.snap.GetServer().GetLogBin() {
		return
	}
	stmt := r.dialect.binlogStatus
	rows, err := r.answer(ctx, stmt).all()
	if r.succeeded(stmt, err) {
		pos, err := parseBinlogStatus(rows)
		r.parseFailed(err)
		r.snap.Server.BinlogPosition = pos
	}
}

func (r *probeRun) readChannels(ctx context.Context) {
	stmt := r.dialect.replicaStatus
	rows, err := r.answer(ctx, stmt).all()
	if r.succeeded(stmt, err) {
		channels, err := parseReplicaStatusRows(rows)
		r.parseFailed(err)
		r.snap.Channels = channels
	}
}

// readReplicas lists the replicas the server reports, falling back to the
// binlog dump threads in the processlist when none reports a host.
func (r *probeRun) readReplicas(ctx context.Context) {
	stmt := r.dialect.replicaHosts
	rows, err := r.answer(ctx, stmt).all()
	if !r.succeeded(stmt, err) {
		return
	}
	replicas, err := parseReplicaHosts(rows, uint32(r.key.Port))
	r.parseFailed(err)
	// MariaDB counts connected replicas; when it says none, skip the
	// processlist.
	if n, ok := r.status.value("slaves_connected"); len(replicas) == 0 && !(ok && n == "0") {
		rows, err := r.queryRows(ctx, processlistQuery)
		if !r.succeeded(processlistQuery, err) {
			return
		}
		replicas = parseProcesslistReplicas(rows, uint32(r.key.Port))
	}
	r.snap.Replicas = replicas
}

// readLag runs the lag query on a replica and records its answer on the
// default (first) channel.
func (r *probeRun) readLag(ctx context.Context) {
	query := r.prober.cfg.LagQuery
	if query == "" || len(r.snap.Channels) == 0 {
		return
	}
	v, ok, err := r.queryFirst(ctx, query)
	if !r.succeeded("lag query", err) || !ok {
		return
	}
	lag, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		r.parseFailed(fmt.Errorf("lag query returned %q, not a number of seconds", v))
		return
	}
	r.snap.Channels[0].CustomLagSeconds = &lag
}

// classify runs the classification queries and host name patterns.
func (r *probeRun) classify(ctx context.Context) {
	c := r.prober.classifier
	if !c.configured() {
		return
	}
	cl := &topologyv1.Classification{}
	r.snap.Classification = cl
	for _, q := range c.queries {
		v, ok, err := r.queryFirst(ctx, q.query)
		if r.succeeded(q.field+" query", err) && ok {
			r.parseFailed(q.set(cl, strings.TrimSpace(v)))
		}
		if r.stopped {
			break
		}
	}
	c.applyPatterns(cl, r.key.Host)
}

// succeeded reports whether a statement worked, and records it if not.
// After a MySQL error (a missing privilege, say) the connection is still
// good and the probe goes on; after anything else it stops.
func (r *probeRun) succeeded(stmt string, err error) bool {
	if err == nil {
		return true
	}
	r.fail(classifyQuery(err, r.socket.netErr(), r.prober.cfg.ReadTimeout), stmt+" on "+r.key.String())
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		r.stopped = true
		if !errors.Is(err, context.Canceled) {
			// The server stopped answering mid-probe: the probe failed.
			// What it read so far (perhaps no replication channels)
			// must not stand for where the instance is.
			r.snap.Reachable, r.snap.Partial = false, false
		}
	}
	return false
}

// parseFailed records output the probe could not understand.
func (r *probeRun) parseFailed(err error) {
	if err != nil {
		r.fail(failure{class: topologyv1.ErrorClass_ERROR_CLASS_OTHER, detail: err.Error()}, "parse "+r.key.String())
	}
}

// fail records a failure: the first one sets the class and number, every
// one adds to the error text (password removed).
func (r *probeRun) fail(f failure, where string) {
	s := r.snap
	if len(r.details) == 0 {
		s.ErrorClass, s.ErrorNumber = f.class, f.number
	}
	s.Partial = s.Reachable
	if len(r.details) < maxErrorDetails {
		r.details = append(r.details, where+": "+f.detail)
		s.Error = r.prober.cfg.scrub(strings.Join(r.details, "; "))
	}
}
