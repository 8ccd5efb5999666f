// Package sandbox starts and stops local MariaDB replication topologies
// built from the installed mariadbd, for tests and demos.
//
// Every instance listens on 127.0.0.1 with GTID replication, binary logs,
// log_slave_updates and read_only=ON; only masters are made writable. A
// template datadir is built once per server version and cached under the
// user's cache directory, then copied per instance, so an instance starts
// in about half a second.
//
// Tests use StartForTest, which picks free ports and cleans up after the
// test. Demos call Start with a fixed directory and Spec.Persistent, then
// Status and Down from later processes.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// portRetries bounds how often an instance on a picked port is restarted on
// a new port after another process took the first one.
const portRetries = 5

// Topology is a set of started instances.
type Topology struct {
	dir       string
	spec      Spec
	instances []*Instance
	byName    map[string]*Instance

	stateMu sync.Mutex
}

// Start builds the topology described by spec under dir: one subdirectory
// per instance and a state file. Instances start in parallel; replication
// is then configured top-down, and Start returns once every replica is
// replicating. Unless spec.Persistent, the servers are killed if the
// calling process dies. On failure, the servers it started are killed and
// their directories kept for inspection. Start refuses (ErrRunning) a dir
// whose previous sandbox still runs and clears one that does not.
func Start(ctx context.Context, dir string, spec Spec) (*Topology, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	spec = spec.withDefaults()
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	mariadbd, err := findBinary("mariadbd")
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := clearStale(dir, spec); err != nil {
		return nil, fmt.Errorf("sandbox %s: %w", dir, err)
	}
	tpl, err := templateDir(ctx, mariadbd)
	if err != nil {
		return nil, fmt.Errorf("sandbox: template datadir: %w", err)
	}

	ports, err := assignPorts(spec)
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	t := &Topology{dir: dir, spec: spec, byName: make(map[string]*Instance)}
	for k, n := range spec.Instances {
		i, err := newInstance(dir, n, ports[k], spec, mariadbd)
		if err != nil {
			t.close()
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		i.onStart = t.saveState
		t.instances = append(t.instances, i)
		t.byName[n.Name] = i
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := t.saveState(); err != nil {
		t.close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}

	if err := t.bringUp(ctx, tpl); err != nil {
		_ = t.killAll()
		t.close()
		return nil, fmt.Errorf("sandbox %s: %w", dir, err)
	}
	return t, nil
}

// bringUp starts every instance, sets up replication and waits for it.
func (t *Topology) bringUp(ctx context.Context, tpl string) error {
	errs := make([]error, len(t.instances))
	var wg sync.WaitGroup
	for k, i := range t.instances {
		wg.Go(func() { errs[k] = t.startFresh(ctx, i, tpl) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, n := range t.spec.topDown() {
		if err := t.configure(ctx, t.byName[n.Name]); err != nil {
			return err
		}
	}
	return t.WaitReplicating(ctx)
}

// startFresh copies the template into a new instance directory, starts the
// server (on a new port if a picked one was taken meanwhile) and creates
// the users.
func (t *Topology) startFresh(ctx context.Context, i *Instance, tpl string) error {
	if err := os.Mkdir(i.Dir, 0o755); err != nil {
		return fmt.Errorf("instance %s: %w", i, err)
	}
	if err := copyDir(ctx, tpl, i.DataDir); err != nil {
		return fmt.Errorf("instance %s: %w", i, err)
	}
	for attempt := 0; ; attempt++ {
		i.mu.Lock()
		err := i.launch(ctx)
		i.mu.Unlock()
		if err == nil {
			break
		}
		if !errors.Is(err, errPortInUse) || t.spec.BasePort != 0 || attempt >= portRetries {
			return err
		}
		ports, perr := freePorts(1)
		if perr != nil {
			return errors.Join(err, perr)
		}
		i.mu.Lock() // saveState may be reading the port
		i.setPort(ports[0], t.spec)
		i.mu.Unlock()
	}
	if err := i.started(); err != nil {
		return err
	}
	return t.createUsers(ctx, i)
}

// assignPorts returns one port per instance.
func assignPorts(spec Spec) ([]int, error) {
	if spec.BasePort == 0 {
		return freePorts(len(spec.Instances))
	}
	ports := make([]int, len(spec.Instances))
	for k := range ports {
		ports[k] = spec.BasePort + k
	}
	return ports, nil
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago. Another process may take one before mariadbd binds it; Start
// retries on a new port when that happens.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		// Held open until all are picked so that the n ports differ.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Dir returns the absolute directory holding the instances.
func (t *Topology) Dir() string { return t.dir }

// Spec returns the spec the topology was started from, defaults filled in.
func (t *Topology) Spec() Spec { return t.spec }

// Instances returns the instances in Spec order.
func (t *Topology) Instances() []*Instance {
	return append([]*Instance(nil), t.instances...)
}

// Instance returns the named instance, or nil if there is none.
func (t *Topology) Instance(name string) *Instance { return t.byName[name] }

// InstanceAt returns the instance listening at key (host:port), or nil.
func (t *Topology) InstanceAt(key string) *Instance {
	for _, i := range t.instances {
		if i.Key == key {
			return i
		}
	}
	return nil
}

// Master returns the first instance without a source.
func (t *Topology) Master() *Instance {
	for _, i := range t.instances {
		if i.Source == "" {
			return i
		}
	}
	return nil // unreachable for a valid spec
}

// Stop shuts every instance down cleanly, in parallel, and keeps their
// directories: instances can be started again with StartAgain. An instance
// still running when ctx ends is killed.
func (t *Topology) Stop(ctx context.Context) error {
	return t.each(func(i *Instance) error { return i.Shutdown(ctx) })
}

// Destroy kills every instance, waits until the processes are gone and
// removes the instance directories and the state file (and dir, if that
// leaves it empty). It is safe to call more than once.
func (t *Topology) Destroy() error {
	err := t.killAll()
	t.close()
	for _, i := range t.instances {
		if rerr := os.RemoveAll(i.Dir); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if rerr := os.Remove(filepath.Join(t.dir, stateFile)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	_ = os.Remove(t.dir) // only succeeds if nothing else lives there
	if err != nil {
		return fmt.Errorf("sandbox %s: destroy: %w", t.dir, err)
	}
	return nil
}

func (t *Topology) killAll() error {
	return t.each((*Instance).Kill)
}

// close releases the admin connection pools.
func (t *Topology) close() {
	for _, i := range t.instances {
		_ = i.admin.Close()
	}
}

// each runs f on every instance in parallel and joins the errors.
func (t *Topology) each(f func(*Instance) error) error {
	errs := make([]error, len(t.instances))
	var wg sync.WaitGroup
	for k, i := range t.instances {
		wg.Go(func() { errs[k] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// root returns the master at the top of i's replication chain.
func (t *Topology) root(i *Instance) *Instance {
	for i.Source != "" {
		i = t.byName[i.Source]
	}
	return i
}

// waitTimeout is the bound applied to waits whose context has no deadline.
const waitTimeout = 30 * time.Second
