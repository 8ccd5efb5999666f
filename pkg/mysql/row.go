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
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
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
			return nil, err
		}
		r := make(row, len(cols))
		for i, c := range cols {
			if vals[i].Valid {
				r[c] = vals[i].String
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// queryNameValues runs a SHOW VARIABLES or SHOW STATUS statement and returns
// the values by lower-case name.
func queryNameValues(ctx context.Context, conn *sql.Conn, query string) (row, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(row, 32)
	var name string
	var value sql.NullString
	for rows.Next() {
		if err := rows.Scan(&name, &value); err != nil {
			return nil, err
		}
		if value.Valid {
			out[strings.ToLower(name)] = value.String
		}
	}
	return out, rows.Err()
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
