package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// row is one result row keyed by lower-case column name. A NULL value is
// absent, so "NULL" and "no such column" read the same.
type row map[string]string

// value returns the first of the named columns that is present. Names are
// lower-case; listing several accepts renamed columns (Master_* and
// Source_*, Slave_* and Replica_*).
func (r row) value(names ...string) (string, bool) {
	for _, n := range names {
		if v, ok := r[n]; ok {
			return v, true
		}
	}
	return "", false
}

// str returns the first present column, or "".
func (r row) str(names ...string) string {
	v, _ := r.value(names...)
	return v
}

// uint returns the first present column as an unsigned integer; absent or
// empty is 0.
func (r row) uint(bits int, names ...string) (uint64, error) {
	v, ok := r.value(names...)
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", names[0], err)
	}
	return n, nil
}

// float returns the first present column as a float; absent or empty is 0.
func (r row) float(names ...string) (float64, error) {
	v, ok := r.value(names...)
	if !ok || v == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("column %s: %w", names[0], err)
	}
	return f, nil
}

// bool reads a server flag: ON, 1, YES and TRUE are true; OFF, 0, NO, FALSE,
// empty and absent are false.
func (r row) bool(names ...string) (bool, error) {
	v, _ := r.value(names...)
	switch strings.ToUpper(v) {
	case "ON", "1", "YES", "TRUE":
		return true, nil
	case "OFF", "0", "NO", "FALSE", "":
		return false, nil
	}
	return false, fmt.Errorf("column %s: %q is not a boolean", names[0], v)
}

// queryRows runs a statement and returns its rows.
func queryRows(ctx context.Context, conn *sql.Conn, query string) ([]row, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	_, out, err := scanResultSet(rows)
	return out, err
}

// scanResultSet reads the current result set of rows: its column names
// (lower-case) and its rows.
func scanResultSet(rows *sql.Rows) ([]string, []row, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	for i, c := range cols {
		cols[i] = strings.ToLower(c)
	}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	var out []row
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, err
		}
		r := make(row, len(cols))
		for i, c := range cols {
			if vals[i].Valid {
				r[c] = vals[i].String
			}
		}
		out = append(out, r)
	}
	return cols, out, rows.Err()
}

// result is the answer to one statement of a batch: its columns
// (lower-case) and rows, or the error it failed with.
type result struct {
	cols []string
	rows []row
	err  error
}

// queryBatch sends statements in one round trip (the connection allows
// multiple statements) and returns the result of each statement the server
// ran, in order. The server stops at the first statement that fails: the
// last result then holds the error, and the statements after it have none.
// The statements must be fixed text and each must return a result set
// (SELECT, SHOW), so that the n-th result set is the n-th statement's.
func queryBatch(ctx context.Context, conn *sql.Conn, stmts []string) []result {
	rows, err := conn.QueryContext(ctx, strings.Join(stmts, "; "))
	if err != nil {
		return []result{{err: err}}
	}
	defer rows.Close()
	out := make([]result, 0, len(stmts))
	for i := range stmts {
		if i > 0 && !rows.NextResultSet() {
			if err := rows.Err(); err != nil {
				out = append(out, result{err: err})
				return out
			}
			// Fewer result sets than statements: which answer belongs to
			// which statement is unknown, so none is used.
			return nil
		}
		cols, rs, err := scanResultSet(rows)
		out = append(out, result{cols: cols, rows: rs, err: err})
		if err != nil {
			return out
		}
	}
	return out
}

// all returns the rows of the result, or its error.
func (r result) all() ([]row, error) {
	return r.rows, r.err
}

// nameValues reads the result of a SHOW VARIABLES or SHOW STATUS statement
// as the values by lower-case name.
func (r result) nameValues() (row, error) {
	if r.err != nil {
		return nil, r.err
	}
	if len(r.cols) != 2 {
		return nil, fmt.Errorf("statement returned %d columns, want name and value", len(r.cols))
	}
	out := make(row, len(r.rows))
	for _, rr := range r.rows {
		name, ok := rr[r.cols[0]]
		if !ok {
			return nil, errors.New("statement returned a NULL name")
		}
		if v, ok := rr[r.cols[1]]; ok {
			out[strings.ToLower(name)] = v
		}
	}
	return out, nil
}

// first returns the first column of the first row; ok is false when there
// is no row or the value is NULL.
func (r result) first() (value string, ok bool, err error) {
	if r.err != nil {
		return "", false, r.err
	}
	if len(r.cols) == 0 {
		return "", false, errors.New("statement returned no columns")
	}
	if len(r.rows) == 0 {
		return "", false, nil
	}
	value, ok = r.rows[0][r.cols[0]]
	return value, ok, nil
}

// queryFirst returns the first column of the first row; ok is false when
// there is no row or the value is NULL.
func queryFirst(ctx context.Context, conn *sql.Conn, query string) (value string, ok bool, err error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", false, err
	}
	if len(cols) == 0 {
		return "", false, errors.New("statement returned no columns")
	}
	if !rows.Next() {
		return "", false, rows.Err()
	}
	var v sql.NullString
	dest := make([]any, len(cols))
	dest[0] = &v
	for i := 1; i < len(dest); i++ {
		dest[i] = new(sql.RawBytes)
	}
	if err := rows.Scan(dest...); err != nil {
		return "", false, err
	}
	return v.String, v.Valid, rows.Close()
}
