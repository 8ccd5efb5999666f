package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/vigil-db/vigil/proto/openapi"
)

// backendCallTimeout bounds one REST call on its backend, so a hung service
// answers 504 instead of holding the request forever. A client can ask for
// less with the Grpc-Timeout header.
const backendCallTimeout = 30 * time.Second

// routes returns the gateway's whole HTTP surface. Everything not served here
// goes to the REST mux, which also answers unknown paths with a JSON 404.
func routes(rest http.Handler, bs []*backend) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveHealthz)
	mux.Handle("GET /readyz", readyzHandler(bs))
	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.Handle("/", withTimeout(rest, backendCallTimeout))
	return mux
}

// serveOpenAPI serves the OpenAPI document generated from the protos.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.Document)
}

func withTimeout(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
