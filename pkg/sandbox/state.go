package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stateFile is the name, inside a sandbox directory, of the JSON file that
// lets another process find the instances.
const stateFile = "sandbox.json"

// termTimeout bounds how long Down waits for a clean exit before SIGKILL.
const termTimeout = 20 * time.Second

// ErrNoSandbox is returned by Status and Down for a directory without a
// state file.
var ErrNoSandbox = errors.New("no sandbox state file")

// ErrRunning is returned by Start when the directory holds a sandbox whose
// servers still run.
var ErrRunning = errors.New("sandbox already running")

// state is the content of the state file.
type state struct {
	Instances []stateInstance `json:"instances"`
}

type stateInstance struct {
	Name    string `json:"name"`
	Source  string `json:"source,omitempty"`
	Port    int    `json:"port"`
	Key     string `json:"key"`
	PID     int    `json:"pid"`
	Dir     string `json:"dir"`
	DataDir string `json:"datadir"`
	Socket  string `json:"socket"`
}

// InstanceStatus describes one instance found by Status.
type InstanceStatus struct {
	// Name, Source, Port and Key are as in Instance.
	Name, Source string
	Port         int
	Key          string
	// PID is the process id recorded at the instance's last start.
	PID int
	// Running is true if that process is alive (not a zombie) and is the
	// mariadbd of this instance's datadir.
	Running bool
}

// record returns the instance as stored in the state file.
func (i *Instance) record() stateInstance {
	i.mu.Lock()
	defer i.mu.Unlock()
	r := stateInstance{
		Name: i.Name, Source: i.Source, Port: i.Port, Key: i.Key,
		Dir: i.Dir, DataDir: i.DataDir, Socket: i.Socket,
	}
	if i.proc != nil && !i.proc.exited() {
		r.PID = i.proc.cmd.Process.Pid
	}
	return r
}

// saveState rewrites the state file atomically with the current pids.
func (t *Topology) saveState() error {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	var s state
	for _, i := range t.instances {
		s.Instances = append(s.Instances, i.record())
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	path := filepath.Join(t.dir, stateFile)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

func readState(dir string) (state, error) {
	var s state
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("%s: %w", dir, ErrNoSandbox)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Status reports the instances of the sandbox in dir and whether each runs.
// It works from any process.
func Status(dir string) ([]InstanceStatus, error) {
	s, err := readState(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox status: %w", err)
	}
	out := make([]InstanceStatus, 0, len(s.Instances))
	for _, r := range s.Instances {
		out = append(out, InstanceStatus{
			Name: r.Name, Source: r.Source, Port: r.Port, Key: r.Key, PID: r.PID,
			Running: r.running(),
		})
	}
	return out, nil
}

// Down stops the sandbox in dir from any process: SIGTERM to every running
// instance, SIGKILL to those still there after 20 s or when ctx ends, then
// it removes the instance directories, the state file, and dir if that
// leaves it empty. Directories are kept if a process cannot be stopped.
func Down(ctx context.Context, dir string) error {
	s, err := readState(dir)
	if err != nil {
		return fmt.Errorf("sandbox down: %w", err)
	}
	for _, r := range s.Instances {
		if r.running() {
			// SIGCONT so that a frozen server can act on the SIGTERM.
			_ = syscall.Kill(r.PID, syscall.SIGTERM)
			_ = syscall.Kill(r.PID, syscall.SIGCONT)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, termTimeout)
	stopped := waitStopped(tctx, s.Instances)
	cancel()
	if !stopped {
		for _, r := range s.Instances {
			if r.running() {
				_ = syscall.Kill(r.PID, syscall.SIGKILL)
			}
		}
		kctx, cancel := context.WithTimeout(context.Background(), killTimeout)
		stopped = waitStopped(kctx, s.Instances)
		cancel()
	}
	if !stopped {
		var left []string
		for _, r := range s.Instances {
			if r.running() {
				left = append(left, r.Name+" (pid "+strconv.Itoa(r.PID)+")")
			}
		}
		return fmt.Errorf("sandbox down %s: still running after SIGKILL: %s", dir, strings.Join(left, ", "))
	}
	if err := removeState(dir, s); err != nil {
		return fmt.Errorf("sandbox down %s: %w", dir, err)
	}
	return nil
}

// waitStopped polls until none of rs runs or ctx ends, and reports which.
func waitStopped(ctx context.Context, rs []stateInstance) bool {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if !slices.ContainsFunc(rs, stateInstance.running) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// removeState removes the instance directories recorded in s, the state
// file, and dir if it is then empty.
func removeState(dir string, s state) error {
	var errs []error
	for _, r := range s.Instances {
		if filepath.Dir(r.Dir) != filepath.Clean(dir) {
			continue // never follow a hand-edited path out of dir
		}
		errs = append(errs, os.RemoveAll(r.Dir))
	}
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	_ = os.Remove(dir)
	return errors.Join(errs...)
}

// clearStale prepares dir for Start: it refuses a sandbox that still runs,
// removes the leftovers of one that does not, and refuses instance
// directories it did not create.
func clearStale(dir string, spec Spec) error {
	s, err := readState(dir)
	switch {
	case errors.Is(err, ErrNoSandbox):
	case err != nil:
		return err
	default:
		var running []string
		for _, r := range s.Instances {
			if r.running() {
				running = append(running, r.Name)
			}
		}
		if len(running) > 0 {
			return fmt.Errorf("%w (%s): call Down first", ErrRunning, strings.Join(running, ", "))
		}
		if err := removeState(dir, s); err != nil {
			return fmt.Errorf("remove stale sandbox: %w", err)
		}
	}
	for _, n := range spec.Instances {
		p := filepath.Join(dir, n.Name)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s exists and belongs to no sandbox: not touching it", p)
		}
	}
	return nil
}

// running reports whether the recorded pid is alive, not a zombie, and
// still the mariadbd of this datadir (pids get reused).
func (r stateInstance) running() bool {
	if r.PID <= 0 {
		return false
	}
	proc := "/proc/" + strconv.Itoa(r.PID)
	switch procState(proc + "/stat") {
	case "", "Z", "X":
		return false
	}
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return false
	}
	return slices.Contains(strings.Split(string(cmdline), "\x00"), "--datadir="+r.DataDir)
}

// procState returns field 3 (the state letter) of a /proc stat file, or ""
// if it cannot be read.
func procState(statPath string) string {
	stat, err := os.ReadFile(statPath)
	if err != nil {
		return ""
	}
	// The field follows the command name, which may itself hold ") ".
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return ""
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}
