package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/gateway"
)

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	r := do(t, "GET", f.url+"/healthz", "")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != "ok" {
		t.Errorf("GET /healthz = %d %q, want 200 ok", r.status, r.body)
	}
}

func TestReadyz(t *testing.T) {
	f := newFixture(t)
	r := pollStatus(t, f.url+"/readyz", http.StatusOK)
	m := decode(t, r)
	if field(m, "ready") != true {
		t.Errorf("ready = %v, want true; body %s", field(m, "ready"), r.body)
	}
	for i, name := range []string{"discovery", "analyzer", "recovery"} {
		if got := field(m, "backends."+string(rune('0'+i))+".name"); got != name {
			t.Errorf("backend %d is %v, want %s", i, got, name)
		}
	}
	for path, want := range map[string]any{
		"backends.1.services.0.service": "vigil.topology.v1.TopologyService",
		"backends.1.services.0.status":  "SERVING",
		"backends.1.services.1.service": "vigil.analyzer.v1.AnalyzerService",
		"backends.1.services.1.status":  "SERVING",
		"backends.1.ready":              true,
		"backends.2.services.0.service": "vigil.recovery.v1.RecoveryService",
	} {
		if got := field(m, path); got != want {
			t.Errorf("%s = %v, want %v; body %s", path, got, want, r.body)
		}
	}

	f.recoverySrv.stop()
	r = pollStatus(t, f.url+"/readyz", http.StatusServiceUnavailable)
	m = decode(t, r)
	notReady, _ := m["not_ready"].([]any)
	if len(notReady) != 1 || notReady[0] != "recovery" {
		t.Errorf("not_ready = %v, want [recovery]; body %s", m["not_ready"], r.body)
	}
	if got := field(m, "backends.2.services.0.error"); got == nil || got == "" {
		t.Errorf("recovery backend has no error; body %s", r.body)
	}

	// The REST API of the stopped backend answers 503 too.
	if r := do(t, "GET", f.url+"/api/v1/recovery-mode", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /api/v1/recovery-mode with recovery stopped: %d, want 503; body %s", r.status, r.body)
	}
	// The others still answer.
	if r := do(t, "GET", f.url+"/api/v1/clusters", ""); r.status != http.StatusOK {
		t.Errorf("GET /api/v1/clusters with recovery stopped: %d, want 200; body %s", r.status, r.body)
	}
}

// TestReadyzChecksAnalyzerService: an analyzer that serves TopologyService
// but not AnalyzerService leaves /api/v1/analysis without a backend, so the
// gateway is not ready.
func TestReadyzChecksAnalyzerService(t *testing.T) {
	analyzer := startBackend(t, func(s *grpc.Server) { topologyv1.RegisterTopologyServiceServer(s, &fakeTopology{}) })
	discovery := startBackend(t, func(s *grpc.Server) { discoveryv1.RegisterDiscoveryServiceServer(s, &fakeDiscovery{}) })
	recovery := startBackend(t, func(s *grpc.Server) { recoveryv1.RegisterRecoveryServiceServer(s, &fakeRecovery{}) })
	cfg := gateway.DefaultConfig()
	cfg.AnalyzerAddr, cfg.DiscoveryAddr, cfg.RecoveryAddr = analyzer.addr, discovery.addr, recovery.addr
	url := startGateway(t, cfg, nil)

	r := pollStatus(t, url+"/readyz", http.StatusServiceUnavailable)
	m := decode(t, r)
	if notReady, _ := m["not_ready"].([]any); len(notReady) != 1 || notReady[0] != "analyzer" {
		t.Errorf("not_ready = %v, want [analyzer]; body %s", m["not_ready"], r.body)
	}
	for path, want := range map[string]any{
		"backends.1.ready":              false,
		"backends.1.services.0.ready":   true,
		"backends.1.services.1.ready":   false,
		"backends.1.services.1.service": "vigil.analyzer.v1.AnalyzerService",
	} {
		if got := field(m, path); got != want {
			t.Errorf("%s = %v, want %v; body %s", path, got, want, r.body)
		}
	}
	if msg, _ := field(m, "backends.1.services.1.error").(string); !strings.HasPrefix(msg, "NotFound") {
		t.Errorf("AnalyzerService error = %q, want NotFound: ...; body %s", msg, r.body)
	}
}

// pollStatus polls url until it answers want, for at most 10 seconds.
func pollStatus(t *testing.T, url string, want int) response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := do(t, "GET", url, "")
		if r.status == want {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: status %d, want %d; body %s", url, r.status, want, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
