package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Writer user: an application account without SUPER or READ_ONLY ADMIN,
// so that read_only stops it as it stops applications.
const (
	writerUser     = "app"
	writerPassword = "app"
)

// Writer is an application inserting rows one at a time, ids counting up
// from the highest already there, into app.writes on the first of its servers that takes them: when a
// server refuses or stalls a write, the writer moves on to the next one and
// retries the same id. It records every write a server acknowledged and
// every stretch of time no server took one.
type Writer struct {
	cancel context.CancelFunc
	done   chan struct{}
	dbs    []*sql.DB

	mu      sync.Mutex
	acked   []WriterAck
	gaps    []time.Duration
	failing time.Time // start of the first failed attempt since the last ack
}

// WriterAck is one acknowledged write and the server that took it.
type WriterAck struct {
	ID     int
	Server string
}

// StartWriter creates the app schema and user on master (they replicate)
// and starts writing to servers, master first.
func StartWriter(ctx context.Context, master *Instance, servers ...*Instance) (*Writer, error) {
	setup := []string{
		"CREATE DATABASE IF NOT EXISTS app",
		"CREATE TABLE IF NOT EXISTS app.writes (id INT PRIMARY KEY, server VARCHAR(64) NOT NULL)",
		fmt.Sprintf("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", quote(writerUser), quote(writerPassword)),
		fmt.Sprintf("GRANT SELECT, INSERT ON app.* TO %s@'%%'", quote(writerUser)),
	}
	for _, q := range setup {
		if err := master.Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	var last int
	if err := master.AdminDB().QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM app.writes").Scan(&last); err != nil {
		return nil, err
	}
	w := &Writer{done: make(chan struct{})}
	for _, s := range append([]*Instance{master}, servers...) {
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = writerUser, writerPassword, "tcp", s.Key, "app"
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = time.Second, 2*time.Second, 2*time.Second
		db, err := sql.Open("mysql", cfg.FormatDSN())
		if err != nil {
			w.closeDBs()
			return nil, err
		}
		w.dbs = append(w.dbs, db)
	}
	names := []string{master.Key}
	for _, s := range servers {
		names = append(names, s.Key)
	}
	wctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.run(wctx, names, last+1)
	return w, nil
}

// run writes ids from first on until ctx ends.
func (w *Writer) run(ctx context.Context, names []string, first int) {
	defer close(w.done)
	target := 0
	for id := first; ctx.Err() == nil; {
		start := time.Now()
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := w.dbs[target].ExecContext(actx, "INSERT INTO writes VALUES (?, ?)", id, names[target])
		cancel()
		var merr *mysql.MySQLError
		if errors.As(err, &merr) && merr.Number == 1062 {
			// An earlier attempt whose answer was lost did write it.
			id++
			continue
		}
		w.mu.Lock()
		if err == nil {
			w.acked = append(w.acked, WriterAck{ID: id, Server: names[target]})
			if !w.failing.IsZero() {
				w.gaps = append(w.gaps, time.Since(w.failing))
				w.failing = time.Time{}
			}
			id++
		} else if w.failing.IsZero() {
			w.failing = start
		}
		w.mu.Unlock()
		if err != nil {
			target = (target + 1) % len(w.dbs)
			select {
			case <-ctx.Done():
			case <-time.After(time.Millisecond):
			}
		}
	}
}

// Acked returns how many writes were acknowledged so far.
func (w *Writer) Acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

// AckedBy returns how many writes server acknowledged so far.
func (w *Writer) AckedBy(server string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.acked {
		if a.Server == server {
			n++
		}
	}
	return n
}

// Stop stops writing and returns every acknowledged write, in order, and
// every stretch of time from a refused or stalled write to the next
// acknowledged one.
func (w *Writer) Stop() ([]WriterAck, []time.Duration) {
	w.cancel()
	<-w.done
	w.closeDBs()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked, w.gaps
}

// MissingWrites returns the acknowledged writes i does not have.
func MissingWrites(ctx context.Context, i *Instance, acked []WriterAck) ([]int, error) {
	rows, err := i.AdminDB().QueryContext(ctx, "SELECT id FROM app.writes")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := make(map[int]bool)
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		have[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var missing []int
	for _, a := range acked {
		if !have[a.ID] {
			missing = append(missing, a.ID)
		}
	}
	return missing, nil
}

func (w *Writer) closeDBs() {
	for _, db := range w.dbs {
		_ = db.Close()
	}
}
