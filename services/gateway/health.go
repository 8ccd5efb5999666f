package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"google.golang.org/grpc"
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

// backendState is how one backend answered the health checks of its
// services.
type backendState struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// Ready is true when every one of its services is SERVING.
	Ready    bool           `json:"ready"`
	Services []serviceState `json:"services"`
}

// serviceState is one gRPC service's answer to its health check.
type serviceState struct {
	Service string `json:"service"`
	Ready   bool   `json:"ready"`
	// Status is the health status it reported, when it answered.
	Status string `json:"status,omitempty"`
	Error  string `json:"error,omitempty"`
}

// readyzHandler answers 200 when, on every backend, the gRPC health check of
// every service the gateway forwards to says SERVING, else 503; the body
// lists every backend and service either way.
func readyzHandler(bs []*backend) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := readiness{Ready: true, Backends: checkBackends(r.Context(), bs)}
		for _, s := range body.Backends {
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

// checkBackends checks every service of every backend at once.
func checkBackends(ctx context.Context, bs []*backend) []backendState {
	states := make([]backendState, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		states[i] = backendState{Name: b.name, Address: b.addr, Services: make([]serviceState, len(b.services))}
		for j, s := range b.services {
			wg.Go(func() { states[i].Services[j] = checkService(ctx, b.conn, s.name) })
		}
	}
	wg.Wait()
	for i := range states {
		states[i].Ready = true
		for _, s := range states[i].Services {
			states[i].Ready = states[i].Ready && s.Ready
		}
	}
	return states
}

func checkService(ctx context.Context, conn *grpc.ClientConn, service string) serviceState {
	s := serviceState{Service: service}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		st := status.Convert(err)
		s.Error = st.Code().String() + ": " + st.Message()
		return s
	}
	s.Status = resp.GetStatus().String()
	s.Ready = resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	return s
}
