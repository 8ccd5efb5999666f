package e2e

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/sandbox"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// vigilBinary is the vigil command built once for the tests that run
// services as processes of their own.
var vigilBinary struct {
	once sync.Once
	path string
	err  error
}

// buildVigil builds the vigil command once per test run and returns its path.
func buildVigil(t *testing.T) string {
	t.Helper()
	vigilBinary.once.Do(func() {
		dir, err := os.MkdirTemp("", "vigil-e2e-bin-")
		if err != nil {
			vigilBinary.err = err
			return
		}
		vigilBinary.path = filepath.Join(dir, "vigil")
		if out, err := exec.Command("go", "build", "-o", vigilBinary.path, "../cmd/vigil").CombinedOutput(); err != nil {
			vigilBinary.err = fmt.Errorf("build vigil: %v\n%s", err, out)
		}
	})
	if vigilBinary.err != nil {
		t.Fatal(vigilBinary.err)
	}
	return vigilBinary.path
}

// discoveryMember is a discovery service running as a process of its own,
// which a test can kill -9 and start again.
type discoveryMember struct {
	t      *testing.T
	id     string
	config string

	mu   sync.Mutex
	proc *exec.Cmd
	out  *lockedWriter
}

// memberSpec says how to run one discovery member.
type memberSpec struct {
	id, domain, sourceAddr string
	replicationFactor      int
	// membershipTTL is the member's lease TTL; 2s when zero.
	membershipTTL time.Duration
}

// startMember writes the member's configuration and starts it. It probes
// from spec.sourceAddr when set, and registers on the coordinator at url.
func startMember(t *testing.T, storeURL, coordinator string, seeds []string, spec memberSpec) *discoveryMember {
	t.Helper()
	var source string
	if spec.sourceAddr != "" {
		source = "\n  source_addr: " + spec.sourceAddr
	}
	yaml := fmt.Sprintf(`store: %q
coordinator: %q
discovery:
  listen: 127.0.0.1:0
  member_id: %s
  domain: %s
  poll_interval: %s
  connect_timeout: 250ms
  read_timeout: 500ms
  persist_interval: 200ms
  replication_factor: %d
  membership_ttl: %s
  registry_refresh: 250ms
  seeds: [%s]%s
`, storeURL, coordinator, spec.id, spec.domain, pollInterval, spec.replicationFactor, cmp.Or(spec.membershipTTL, 2*time.Second),
		strings.Join(seeds, ", "), source)
	config := filepath.Join(t.TempDir(), spec.id+".yaml")
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &discoveryMember{t: t, id: spec.id, config: config}
	m.start()
	t.Cleanup(m.kill)
	return m
}

func (m *discoveryMember) start() {
	m.t.Helper()
	proc := exec.Command(buildVigil(m.t), "--services=discovery", "--config", m.config)
	proc.Env = append(os.Environ(), "VIGIL_MYSQL_USER="+sandbox.DefaultUser, "VIGIL_MYSQL_PASSWORD="+sandbox.DefaultPassword)
	out := &lockedWriter{}
	proc.Stdout, proc.Stderr = out, out
	if err := proc.Start(); err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	m.proc, m.out = proc, out
	m.mu.Unlock()
}

// kill ends the member with SIGKILL: its lease is left to expire.
func (m *discoveryMember) kill() {
	m.mu.Lock()
	proc := m.proc
	m.proc = nil
	m.mu.Unlock()
	if proc == nil {
		return
	}
	_ = proc.Process.Signal(syscall.SIGKILL)
	_ = proc.Wait()
}

// logs returns what the member printed.
func (m *discoveryMember) logs() string {
	m.mu.Lock()
	out := m.out
	m.mu.Unlock()
	return out.String()
}

// lockedWriter keeps what a process writes to stdout and stderr.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// observersOf returns the member ids observing each instance, sorted.
func observersOf(t *testing.T, s *stack, keys []string) (map[string][]string, error) {
	t.Helper()
	out := map[string][]string{}
	for _, k := range keys {
		resp, err := s.topology.GetInstance(ctxT(t), &topologyv1.GetInstanceRequest{Instance: key(k)})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, o := range resp.GetInstance().GetObservers() {
			ids = append(ids, o.GetMemberId())
		}
		slices.Sort(ids)
		out[k] = ids
	}
	return out, nil
}
