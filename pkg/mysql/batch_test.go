package mysql

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/vigil-db/vigil/pkg/sandbox"
)

// TestProbeBatches probes as users missing privileges, so that statements
// in the middle of a batch fail, and with a stale statement cache.
func TestProbeBatches(t *testing.T) {
	t.Parallel()
	topo := sandbox.StartForTest(t, sandbox.Spec{Instances: []sandbox.Node{{Name: "solo"}}})
	solo := topo.Master()
	k := instanceKey(t, solo)
	mustExec(t, solo, "CREATE USER 'nopriv'@'%' IDENTIFIED BY 'nopriv-pw'; "+
		"CREATE USER 'monitor'@'%' IDENTIFIED BY 'monitor-pw'; GRANT REPLICA MONITOR ON *.* TO 'monitor'@'%'")

	t.Run("query batch", func(t *testing.T) {
		p := newTestProber(t, sandboxCredentials)
		ip, err := p.pool(k)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), probeDeadline)
		defer cancel()
		conn, err := ip.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		got := queryBatch(ctx, conn, []string{"SELECT 1", "SHOW GLOBAL STATUS WHERE Variable_name = 'Uptime'", "SELECT 3"})
		if len(got) != 3 {
			t.Fatalf("%d results, want 3", len(got))
		}
		if v, ok, err := got[2].first(); v != "3" || !ok || err != nil {
			t.Errorf("third result %q %v %v, want 3", v, ok, err)
		}
		if nv, err := got[1].nameValues(); err != nil || nv["uptime"] == "" {
			t.Errorf("second result %v %v, want the uptime", nv, err)
		}
		got = queryBatch(ctx, conn, []string{"SELECT 1", "SHOW NO SUCH THING", "SELECT 3"})
		var me *mysql.MySQLError
		if len(got) != 2 || got[0].err != nil || !errors.As(got[1].err, &me) || me.Number != 1064 {
			t.Fatalf("results %+v, want the first and a syntax error", got)
		}
		if v, _, err := queryFirst(ctx, conn, "SELECT 4"); v != "4" || err != nil {
			t.Errorf("after a failed batch: %q %v, want 4", v, err)
		}
	})

	tests := []struct {
		name  string
		creds Credentials
		// errors lists what the error text names, in order.
		errors []string
	}{
		{"all privileges", sandboxCredentials, nil},
		{"no privileges", Credentials{User: "nopriv", Password: "nopriv-pw"},
			[]string{"SHOW MASTER STATUS on", "1227", "SHOW ALL SLAVES STATUS on", "SHOW SLAVE HOSTS on"}},
		{"replica monitor only", Credentials{User: "monitor", Password: "monitor-pw"},
			[]string{"SHOW MASTER STATUS on", "1227", "SHOW SLAVE HOSTS on"}},
	}
	stale := map[string][]string{
		"no cache":     nil,
		"mysql 8.4":    {"SHOW BINARY LOG STATUS", "SHOW REPLICA STATUS", "SHOW REPLICAS"},
		"no such show": {"SHOW NO SUCH THING", "SHOW ALL SLAVES STATUS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestProber(t, tt.creds)
			for cache, stmts := range stale {
				for _, round := range []string{"first", "second"} {
					if round == "first" && stmts != nil {
						ip, err := p.pool(k)
						if err != nil {
							t.Fatal(err)
						}
						ip.versioned.Store(&stmts)
					}
					s := p.Probe(context.Background(), k)
					if !s.GetReachable() || s.GetServer().GetBinlogPosition() == nil && tt.errors == nil {
						t.Fatalf("%s, %s probe: reachable=%v binlog %v error %q", cache, round, s.GetReachable(), s.GetServer().GetBinlogPosition(), s.GetError())
					}
					if tt.errors == nil {
						requireReachable(t, s)
						continue
					}
					if !s.GetPartial() || s.GetErrorNumber() != 1227 || !inOrder(s.GetError(), tt.errors) {
						t.Errorf("%s, %s probe: partial=%v number=%d error %q, want 1227 and %q in order",
							cache, round, s.GetPartial(), s.GetErrorNumber(), s.GetError(), tt.errors)
					}
				}
			}
		})
	}
}

func inOrder(s string, parts []string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// TestBind checks that a bound socket keeps read deadlines within the
// context's and that the end of the context interrupts a read.
func TestBind(t *testing.T) {
	k := fakeServer(t, func(c net.Conn) {
		var b [1]byte
		_, _ = c.Read(b[:]) // silent until closed
	})
	nc, err := dialTraced(context.Background(), "tcp", k.String())
	if err != nil {
		t.Fatal(err)
	}
	tc := nc.(*tracedConn)
	defer tc.Close()
	read := func() (time.Duration, error) {
		start := time.Now()
		var b [1]byte
		_, err := tc.Read(b[:])
		return time.Since(start), err
	}

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	release := tc.bind(ctx)
	if err := tc.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if took, err := read(); !errors.Is(err, os.ErrDeadlineExceeded) || took > probeDeadline {
		t.Errorf("read past the context's deadline: %v after %s, want a deadline error", err, took)
	}
	release()
	cancel()

	ctx, cancel = context.WithCancel(context.Background())
	release = tc.bind(ctx)
	if err := tc.SetReadDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	if took, err := read(); !errors.Is(err, os.ErrDeadlineExceeded) || took > probeDeadline {
		t.Errorf("read after cancel: %v after %s, want a deadline error", err, took)
	}
	release()

	if !tc.capped(time.Time{}).IsZero() {
		t.Error("deadlines capped after release")
	}
}

func TestConfiguredQueriesAreSingleStatements(t *testing.T) {
	creds := Credentials{User: "u"}
	if _, err := NewProber(ProberConfig{Credentials: creds, LagQuery: "SELECT 1; DROP TABLE x"}); err == nil {
		t.Error("a lag query with two statements was accepted")
	}
	if _, err := NewProber(ProberConfig{Credentials: creds, Classification: ClassificationConfig{ClusterAliasQuery: "SELECT 'a'; SELECT 'b'"}}); err == nil {
		t.Error("an alias query with two statements was accepted")
	}
	if _, err := NewProber(ProberConfig{Credentials: creds, LagQuery: "SELECT 1;"}); err != nil {
		t.Errorf("a trailing semicolon was refused: %v", err)
	}
}
