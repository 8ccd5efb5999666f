package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// readyTimeout bounds each backend's health check in /readyz, so a hung
// backend makes the gateway not ready instead of hanging the probe.
const readyTimeout = time.Second

// serveHealthz answers 200 while the process can serve HTTP at all.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readiness is the body of /readyz.
type readiness struct {
	Ready    bool           `json:"ready"`
	Backends []backendState `json:"backends"`
	// NotReady names the backends that did not answer SERVING.
	NotReady []string `json:"not_ready,omitempty"`
}

// backendState is one backend's answer to its health check.
type backendState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Service string `json:"service"`
	Ready   bool   `json:"ready"`
	// Status is the health status it reported, when it answered.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// readyzHandler answers 200 when every backend's gRPC health check says
// SERVING for the service the gateway forwards to, else 503; the body lists
// every backend either way.
func readyzHandler(bs []*backend) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		states := make([]backendState, len(bs))
		var wg sync.WaitGroup
		for i, b := range bs {
			wg.Go(func() { states[i] = checkBackend(r.Context(), b) })
		}
		wg.Wait()

		body := readiness{Ready: true, Backends: states}
		for _, s := range states {
			if !s.Ready {
				body.Ready = false
				body.NotReady = append(body.NotReady, s.Name)
			}
		}
		code := http.StatusOK
		if !body.Ready {
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	}
}

func checkBackend(ctx context.Context, b *backend) backendState {
	s := backendState{Name: b.name, Address: b.addr, Service: b.service}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(b.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: b.service})
	if err != nil {
		st := status.Convert(err)
		s.Error = st.Code().String() + ": " + st.Message()
		return s
	}
	s.Status = resp.GetStatus().String()
	s.Ready = resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	return s
}
