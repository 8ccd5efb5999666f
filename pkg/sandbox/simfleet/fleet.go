// Package simfleet simulates a fleet of MariaDB servers for scale
// measurements only: one process answers Vigil's probe statements for
// thousands of virtual instances, each on an address of its own in
// 127.0.0.0/8, arranged in replication trees. Nothing replicates; each
// instance answers with the state of its place in its tree. Correctness is
// proven on real MariaDB (pkg/sandbox), never here.
package simfleet

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Version is the server version every instance reports.
const Version = "10.11.9-MariaDB-log"

// Port is the port every instance listens on, each on its own address:
// not 3306, which a real server may hold on every address.
const Port = 33306

// Instance is one virtual server.
type Instance struct {
	Host     string
	ServerID int
	// Master is the instance it replicates from, nil for a master.
	Master   *Instance
	Replicas []*Instance
	// Cluster is the server id of the tree's master.
	Cluster int
}

// Key returns host:port.
func (i *Instance) Key() string { return net.JoinHostPort(i.Host, strconv.Itoa(Port)) }

// Fleet is a running simulated fleet.
type Fleet struct {
	Instances []*Instance
	listeners []net.Listener
	started   time.Time
	wg        sync.WaitGroup
	queries   atomic.Int64

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// Trees arranges n instances in replication trees: each cluster has a
// master with three replicas, and every other cluster has one replica
// with two replicas of its own (an intermediate master), so clusters
// alternate between four and six instances.
func Trees(n int) []*Instance {
	out := make([]*Instance, 0, n)
	add := func(master *Instance, cluster int) *Instance {
		id := len(out) + 1
		inst := &Instance{Host: address(id), ServerID: id, Master: master, Cluster: cluster}
		if master != nil {
			master.Replicas = append(master.Replicas, inst)
		}
		out = append(out, inst)
		return inst
	}
	for c := 0; len(out) < n; c++ {
		m := add(nil, len(out)+1)
		var first *Instance
		for r := 0; r < 3 && len(out) < n; r++ {
			inst := add(m, m.ServerID)
			if first == nil {
				first = inst
			}
		}
		for r := 0; c%2 == 1 && first != nil && r < 2 && len(out) < n; r++ {
			add(first, m.ServerID)
		}
	}
	return out
}

// address gives instance id (from 1) an address of its own in 127.64.0.0/10.
func address(id int) string {
	return fmt.Sprintf("127.%d.%d.%d", 64+id/65536, (id/256)%256, id%256)
}

// Start listens for every instance and answers until Close.
func Start(instances []*Instance) (*Fleet, error) {
	f := &Fleet{Instances: instances, started: time.Now(), conns: map[net.Conn]bool{}}
	for _, inst := range instances {
		lis, err := net.Listen("tcp", inst.Key())
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("simulated fleet: %w (raise the open files limit for large fleets)", err)
		}
		f.listeners = append(f.listeners, lis)
		f.wg.Go(func() { f.accept(lis, inst) })
	}
	return f, nil
}

// Queries returns how many queries the fleet answered.
func (f *Fleet) Queries() int64 { return f.queries.Load() }

// Close stops listening and closes every connection.
func (f *Fleet) Close() {
	for _, l := range f.listeners {
		l.Close()
	}
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

func (f *Fleet) accept(lis net.Listener, inst *Instance) {
	for id := uint32(1); ; id++ {
		nc, err := lis.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.conns[nc] = true
		f.mu.Unlock()
		f.wg.Go(func() {
			defer func() {
				f.mu.Lock()
				delete(f.conns, nc)
				f.mu.Unlock()
				nc.Close()
			}()
			c := newConn(nc)
			if err := c.handshake(Version, id); err != nil {
				return
			}
			_ = c.serve(func(q string) ([]resultSet, error) {
				f.queries.Add(1)
				return f.answer(inst, q)
			})
		})
	}
}

// answer runs the statements of one query.
func (f *Fleet) answer(inst *Instance, query string) ([]resultSet, error) {
	var out []resultSet
	for _, stmt := range strings.Split(query, ";") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" {
			continue
		}
		if secs, ok := strings.CutPrefix(stmt, "DO SLEEP("); ok {
			d, _ := strconv.ParseFloat(strings.TrimSuffix(secs, ")"), 64)
			time.Sleep(time.Duration(d * float64(time.Second)))
			continue
		}
		rs, err := f.statement(inst, stmt)
		if err != nil {
			return out, err
		}
		out = append(out, rs)
	}
	return out, nil
}

func (f *Fleet) statement(inst *Instance, stmt string) (resultSet, error) {
	switch {
	case stmt == "SELECT UTC_TIMESTAMP(6)":
		return single("UTC_TIMESTAMP(6)", time.Now().UTC().Format("2006-01-02 15:04:05.000000")), nil
	case strings.HasPrefix(stmt, "SHOW GLOBAL VARIABLES"):
		return nameValues(f.variables(inst)), nil
	case strings.HasPrefix(stmt, "SHOW GLOBAL STATUS"):
		return nameValues([][2]string{
			{"Uptime", strconv.Itoa(int(time.Since(f.started).Seconds()) + 1000)},
			{"Slaves_connected", strconv.Itoa(len(inst.Replicas))},
			{"Rpl_semi_sync_master_status", "OFF"}, {"Rpl_semi_sync_slave_status", "OFF"},
			{"Rpl_semi_sync_master_clients", "0"},
		}), nil
	case stmt == "SHOW ALL SLAVES STATUS":
		return replicaStatus(inst), nil
	case stmt == "SHOW SLAVE HOSTS":
		rs := resultSet{cols: []string{"Server_id", "Host", "Port", "Master_id"}}
		for _, r := range inst.Replicas {
			rs.rows = append(rs.rows, values(strconv.Itoa(r.ServerID), r.Host, strconv.Itoa(Port), strconv.Itoa(inst.ServerID)))
		}
		return rs, nil
	case stmt == "SHOW MASTER STATUS":
		return resultSet{cols: []string{"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"},
			rows: [][]*string{values("mysql-bin.000001", "1000", "", "")}}, nil
	}
	return resultSet{}, errors.New("simulated fleet: statement not simulated: " + stmt)
}

// gtid is the position every instance of the cluster has executed.
func gtid(inst *Instance) string { return fmt.Sprintf("0-%d-1000", inst.Cluster) }

func (f *Fleet) variables(inst *Instance) [][2]string {
	readOnly := "OFF"
	if inst.Master != nil {
		readOnly = "ON"
	}
	slavePos := ""
	if inst.Master != nil {
		slavePos = gtid(inst)
	}
	return [][2]string{
		{"version", Version}, {"version_comment", "MariaDB Server"},
		{"server_id", strconv.Itoa(inst.ServerID)},
		{"read_only", readOnly}, {"log_bin", "ON"}, {"log_slave_updates", "ON"},
		{"binlog_format", "ROW"}, {"binlog_row_image", "FULL"},
		{"gtid_binlog_pos", gtid(inst)}, {"gtid_slave_pos", slavePos}, {"gtid_current_pos", gtid(inst)},
		{"rpl_semi_sync_master_enabled", "OFF"}, {"rpl_semi_sync_slave_enabled", "OFF"},
		{"rpl_semi_sync_master_timeout", "10000"}, {"rpl_semi_sync_master_wait_for_slave_count", "1"},
	}
}

// replicaStatusColumns are SHOW ALL SLAVES STATUS's columns on MariaDB 10.11.
var replicaStatusColumns = []string{
	"Connection_name", "Slave_SQL_State", "Slave_IO_State", "Master_Host", "Master_User", "Master_Port",
	"Connect_Retry", "Master_Log_File", "Read_Master_Log_Pos", "Relay_Log_File", "Relay_Log_Pos",
	"Relay_Master_Log_File", "Slave_IO_Running", "Slave_SQL_Running", "Replicate_Do_DB", "Replicate_Ignore_DB",
	"Replicate_Do_Table", "Replicate_Ignore_Table", "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table",
	"Last_Errno", "Last_Error", "Skip_Counter", "Exec_Master_Log_Pos", "Relay_Log_Space", "Until_Condition",
	"Until_Log_File", "Until_Log_Pos", "Master_SSL_Allowed", "Master_SSL_CA_File", "Master_SSL_CA_Path",
	"Master_SSL_Cert", "Master_SSL_Cipher", "Master_SSL_Key", "Seconds_Behind_Master",
	"Master_SSL_Verify_Server_Cert", "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno", "Last_SQL_Error",
	"Replicate_Ignore_Server_Ids", "Master_Server_Id", "Master_SSL_Crl", "Master_SSL_Crlpath", "Using_Gtid",
	"Gtid_IO_Pos", "Replicate_Do_Domain_Ids", "Replicate_Ignore_Domain_Ids", "Parallel_Mode", "SQL_Delay",
	"SQL_Remaining_Delay", "Slave_SQL_Running_State", "Slave_DDL_Groups", "Slave_Non_Transactional_Groups",
	"Slave_Transactional_Groups", "Retried_transactions", "Max_relay_log_size", "Executed_log_entries",
	"Slave_received_heartbeats", "Slave_heartbeat_period", "Gtid_Slave_Pos", "Master_last_event_time",
	"Slave_last_event_time", "Master_Slave_time_diff",
}

func replicaStatus(inst *Instance) resultSet {
	rs := resultSet{cols: replicaStatusColumns}
	if inst.Master == nil {
		return rs
	}
	v := map[string]string{
		"Slave_SQL_State": "Slave has read all relay log; waiting for more updates", "Slave_IO_State": "Waiting for master to send event",
		"Master_Host": inst.Master.Host, "Master_User": "repl", "Master_Port": strconv.Itoa(Port), "Connect_Retry": "1",
		"Master_Log_File": "mysql-bin.000001", "Read_Master_Log_Pos": "1000", "Relay_Log_File": "relay-bin.000002",
		"Relay_Log_Pos": "1300", "Relay_Master_Log_File": "mysql-bin.000001", "Slave_IO_Running": "Yes", "Slave_SQL_Running": "Yes",
		"Last_Errno": "0", "Skip_Counter": "0", "Exec_Master_Log_Pos": "1000", "Relay_Log_Space": "1600", "Until_Condition": "None",
		"Until_Log_Pos": "0", "Master_SSL_Allowed": "No", "Seconds_Behind_Master": "0", "Master_SSL_Verify_Server_Cert": "No",
		"Last_IO_Errno": "0", "Last_SQL_Errno": "0", "Master_Server_Id": strconv.Itoa(inst.Master.ServerID),
		"Using_Gtid": "Slave_Pos", "Gtid_IO_Pos": gtid(inst), "Parallel_Mode": "optimistic", "SQL_Delay": "0",
		"Slave_SQL_Running_State": "Slave has read all relay log; waiting for more updates",
		"Slave_DDL_Groups":        "0", "Slave_Non_Transactional_Groups": "0", "Slave_Transactional_Groups": "0",
		"Retried_transactions": "0", "Max_relay_log_size": "1073741824", "Executed_log_entries": "10",
		"Slave_received_heartbeats": "0", "Slave_heartbeat_period": "30.000", "Gtid_Slave_Pos": gtid(inst),
		"Master_Slave_time_diff": "0",
	}
	row := make([]*string, len(rs.cols))
	for i, col := range rs.cols {
		if col == "SQL_Remaining_Delay" || col == "Master_last_event_time" || col == "Slave_last_event_time" {
			continue // NULL
		}
		s := v[col]
		row[i] = &s
	}
	rs.rows = [][]*string{row}
	return rs
}

func single(col, value string) resultSet {
	return resultSet{cols: []string{col}, rows: [][]*string{values(value)}}
}

func nameValues(pairs [][2]string) resultSet {
	rs := resultSet{cols: []string{"Variable_name", "Value"}}
	for _, p := range pairs {
		rs.rows = append(rs.rows, values(p[0], p[1]))
	}
	return rs
}

func values(vs ...string) []*string {
	out := make([]*string, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	return out
}
