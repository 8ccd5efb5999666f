package sandbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Bounds for waits that have no caller context.
const (
	startTimeout = 60 * time.Second // cold start on a slow disk, with crash recovery
	killTimeout  = 10 * time.Second // SIGKILL until reaped
	pollInterval = 25 * time.Millisecond
)

// maxSocketPath is the room for a unix socket path in sockaddr_un, less the
// terminating NUL.
const maxSocketPath = 107

// errPortInUse marks a start that failed because another process holds the port.
var errPortInUse = errors.New("port in use")

// Instance is one mariadbd of a Topology. Its methods are safe for
// concurrent use.
type Instance struct {
	// Name is the Node name.
	Name string
	// Source is the Name of the instance it was set up to replicate from,
	// empty for a master.
	Source string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Key is "127.0.0.1:Port", the address replicas and Vigil use.
	Key string
	// ServerID is the server_id, equal to Port so that it is unique among
	// all sandboxes on the machine.
	ServerID uint32
	// Dir holds the instance's datadir, socket, pid file and error log.
	Dir string
	// DataDir is the server's datadir.
	DataDir string
	// Socket is the path of the unix socket.
	Socket string
	// ErrorLog is the path of the server's error log.
	ErrorLog string
	// DSN connects as the topology user over TCP, with connect, read and
	// write timeouts set (go-sql-driver/mysql format).
	DSN string

	binary     string
	extraArgs  []string
	persistent bool
	admin      *sql.DB
	onStart    func() error // records the new pid after every start; called without mu

	mu   sync.Mutex
	proc *process // nil before the first start
}

// process is one run of mariadbd.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// newInstance prepares (but does not start) instance n under base.
func newInstance(base string, n Node, port int, spec Spec, binary string) (*Instance, error) {
	dir := filepath.Join(base, n.Name)
	i := &Instance{
		Name:       n.Name,
		Source:     n.Source,
		Dir:        dir,
		DataDir:    filepath.Join(dir, "data"),
		Socket:     filepath.Join(dir, "mysqld.sock"),
		ErrorLog:   filepath.Join(dir, "error.log"),
		binary:     binary,
		extraArgs:  append(slices.Clone(spec.ExtraArgs), n.ExtraArgs...),
		persistent: spec.Persistent,
	}
	if len(i.Socket) > maxSocketPath {
		return nil, fmt.Errorf("instance %s: socket path %s is %d bytes, over the %d allowed: use a shorter directory",
			n.Name, i.Socket, len(i.Socket), maxSocketPath)
	}
	i.setPort(port, spec)

	cfg := mysql.NewConfig()
	cfg.User = "root"
	cfg.Net = "unix"
	cfg.Addr = i.Socket
	cfg.MultiStatements = true
	cfg.Timeout = 2 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	cfg.Logger = &mysql.NopLogger{} // failures are returned; killed servers would spam stderr
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("instance %s: admin connector: %w", n.Name, err)
	}
	i.admin = sql.OpenDB(conn)
	i.admin.SetMaxIdleConns(2)
	return i, nil
}

// setPort assigns the port and everything derived from it. The caller holds
// i.mu or has not shared i yet.
func (i *Instance) setPort(port int, spec Spec) {
	i.Port = port
	i.Key = "127.0.0.1:" + strconv.Itoa(port)
	i.ServerID = uint32(port)
	cfg := mysql.NewConfig()
	cfg.User = spec.User
	cfg.Passwd = spec.Password
	cfg.Net = "tcp"
	cfg.Addr = i.Key
	cfg.Timeout = 2 * time.Second
	cfg.ReadTimeout = 5 * time.Second
	cfg.WriteTimeout = 5 * time.Second
	i.DSN = cfg.FormatDSN()
}

// args returns the mariadbd command line.
func (i *Instance) args() []string {
	port := strconv.Itoa(i.Port)
	a := []string{
		"--no-defaults", // must come first
		"--datadir=" + i.DataDir,
		"--socket=" + i.Socket,
		"--pid-file=" + filepath.Join(i.Dir, "mariadbd.pid"),
		"--log-error=" + i.ErrorLog,
		"--port=" + port,
		"--bind-address=127.0.0.1",
		"--server-id=" + strconv.FormatUint(uint64(i.ServerID), 10),
		"--report-host=127.0.0.1",
		"--report-port=" + port,
		// Explicit names: the defaults derive from the host name.
		"--log-bin=mysql-bin",
		"--relay-log=relay-bin",
		"--log-slave-updates",
		"--binlog-format=ROW",
		"--gtid-strict-mode=1",
		"--gtid-domain-id=0",
		"--skip-name-resolve",
		"--slave-net-timeout=4",
		"--read-only=ON",
		"--performance-schema=OFF",
		"--max-connections=60",
	}
	if os.Geteuid() == 0 {
		a = append(a, "--user=root")
	}
	a = append(a, innodbArgs...)
	return append(a, i.extraArgs...)
}

// String returns "name (127.0.0.1:port)".
func (i *Instance) String() string { return i.Name + " (" + i.Key + ")" }

// launch starts mariadbd and waits until it accepts connections on its
// socket. The caller holds i.mu.
func (i *Instance) launch(ctx context.Context) error {
	if i.proc != nil && !i.proc.exited() {
		return fmt.Errorf("instance %s: already running (pid %d)", i, i.proc.cmd.Process.Pid)
	}
	var logStart int64
	if st, err := os.Stat(i.ErrorLog); err == nil {
		logStart = st.Size()
	}
	cmd := exec.Command(i.binary, i.args()...)
	cmd.Dir = i.Dir
	if i.persistent {
		// Own session: no SIGINT from the starter's terminal, survives it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Dies with the starting process. Pdeathsig follows the OS thread
		// that forked; the Go runtime only ends threads that exit locked.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("instance %s: start mariadbd: %w", i, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // reaps, so a killed server does not linger as a zombie
		close(p.done)
	}()
	i.proc = p

	if err := i.waitReady(ctx, p); err != nil {
		log := i.errorLogSince(logStart)
		if !p.exited() {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if strings.Contains(log, "Address already in use") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return fmt.Errorf("instance %s: %w\nerror log:\n%s", i, err, log)
	}
	return nil
}

// waitReady polls the unix socket until the server answers, the process
// exits, or the deadline passes.
func (i *Instance) waitReady(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		err := i.admin.PingContext(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("mariadbd exited during start: %s", p.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last ping: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// errorLogSince returns the last lines of the error log written after offset.
func (i *Instance) errorLogSince(offset int64) string {
	f, err := os.Open(i.ErrorLog)
	if err != nil {
		return "(no error log: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(error log: " + err.Error() + ")"
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return "(error log: " + err.Error() + ")"
	}
	return tail(b, 15)
}

// current returns the running process, or nil if the instance is not running.
func (i *Instance) current() *process {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.proc == nil || i.proc.exited() {
		return nil
	}
	return i.proc
}

// Running reports whether the server process is alive (it may be frozen).
func (i *Instance) Running() bool { return i.current() != nil }

// PID returns the server's process id, or 0 if it is not running.
func (i *Instance) PID() int {
	if p := i.current(); p != nil {
		return p.cmd.Process.Pid
	}
	return 0
}

// AdminDB returns a handle that connects as root over the unix socket and
// allows several statements per Exec. It stays valid across restarts.
func (i *Instance) AdminDB() *sql.DB { return i.admin }

// Exec runs one or more ';'-separated statements as root over the unix
// socket, on a single connection.
func (i *Instance) Exec(ctx context.Context, query string) error {
	if _, err := i.admin.ExecContext(ctx, query); err != nil {
		return fmt.Errorf("instance %s: exec: %w", i, err)
	}
	return nil
}

// Kill sends SIGKILL and returns once the process is gone (reaped, not a
// zombie). Killing a stopped instance does nothing.
func (i *Instance) Kill() error {
	p := i.current()
	if p == nil {
		return nil
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("instance %s: kill: %w", i, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killTimeout):
		return fmt.Errorf("instance %s: pid %d still there %s after SIGKILL", i, p.cmd.Process.Pid, killTimeout)
	}
}

// Shutdown stops the server cleanly with SIGTERM (thawing it first if
// frozen) and waits for it to exit. If ctx ends first (after 30 s if it has
// no deadline), the server is killed and an error returned. Shutting down a
// stopped instance does nothing.
func (i *Instance) Shutdown(ctx context.Context) error {
	p := i.current()
	if p == nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, waitTimeout)
		defer cancel()
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGCONT} {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("instance %s: shutdown: %w", i, err)
		}
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		kerr := i.Kill()
		return errors.Join(fmt.Errorf("instance %s: clean shutdown: %w; killed", i, ctx.Err()), kerr)
	}
}

// Freeze stops the server with SIGSTOP: its TCP connections stay open but
// nothing answers, like a hung host. It returns once every thread of the
// server is stopped.
func (i *Instance) Freeze() error { return i.signal(syscall.SIGSTOP, "freeze", true) }

// Thaw resumes a frozen server with SIGCONT and returns once it runs again.
func (i *Instance) Thaw() error { return i.signal(syscall.SIGCONT, "thaw", false) }

// signal sends sig and waits until all threads are (or are no longer)
// stopped: delivery to every thread of a busy server is not instant.
func (i *Instance) signal(sig syscall.Signal, what string, stopped bool) error {
	p := i.current()
	if p == nil {
		return fmt.Errorf("instance %s: %s: not running", i, what)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("instance %s: %s: %w", i, what, err)
	}
	deadline := time.Now().Add(killTimeout)
	for threadsStopped(p.cmd.Process.Pid) != stopped {
		if time.Now().After(deadline) || p.exited() {
			return fmt.Errorf("instance %s: %s: threads not settled after %s", i, what, killTimeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// threadsStopped reports whether every thread of pid is in the stopped state.
func threadsStopped(pid int) bool {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/stat")
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		if procState(task) != "T" {
			return false
		}
	}
	return true
}

// StartAgain starts a stopped or killed instance with the same datadir,
// port and arguments, and waits until it accepts connections. Like a real
// server it comes back read-only, and a replica resumes replicating.
func (i *Instance) StartAgain(ctx context.Context) error {
	i.mu.Lock()
	err := i.launch(ctx)
	i.mu.Unlock()
	if err != nil {
		return err
	}
	return i.started()
}

// started runs the onStart hook; it must be called without i.mu held.
func (i *Instance) started() error {
	if i.onStart == nil {
		return nil
	}
	if err := i.onStart(); err != nil {
		return fmt.Errorf("instance %s: %w", i, err)
	}
	return nil
}

// Restart shuts the server down cleanly and starts it again.
func (i *Instance) Restart(ctx context.Context) error {
	if err := i.Shutdown(ctx); err != nil {
		return err
	}
	return i.StartAgain(ctx)
}
