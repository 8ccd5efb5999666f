package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-db/vigil/pkg/grpcx"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/gateway"
)

// fixture is a gateway in front of three fake backends, all on loopback.
type fixture struct {
	url                       string
	topology                  *fakeTopology
	analyzer                  *fakeAnalyzer
	discovery                 *fakeDiscovery
	recovery                  *fakeRecovery
	analyzerSrv, discoverySrv *backendServer
	recoverySrv               *backendServer
	logs                      *lockedBuffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		topology: &fakeTopology{}, analyzer: &fakeAnalyzer{}, discovery: &fakeDiscovery{}, recovery: &fakeRecovery{},
		logs: &lockedBuffer{},
	}
	f.analyzerSrv = startBackend(t, func(s *grpc.Server) {
		topologyv1.RegisterTopologyServiceServer(s, f.topology)
		analyzerv1.RegisterAnalyzerServiceServer(s, f.analyzer)
	})
	f.discoverySrv = startBackend(t, func(s *grpc.Server) { discoveryv1.RegisterDiscoveryServiceServer(s, f.discovery) })
	f.recoverySrv = startBackend(t, func(s *grpc.Server) { recoveryv1.RegisterRecoveryServiceServer(s, f.recovery) })
	cfg := gateway.DefaultConfig()
	cfg.AnalyzerAddr = f.analyzerSrv.addr
	cfg.DiscoveryAddr = f.discoverySrv.addr
	cfg.RecoveryAddr = f.recoverySrv.addr
	f.url = startGateway(t, cfg, slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	return f
}

// startGateway runs the gateway on 127.0.0.1 until the test ends and returns
// its base URL.
func startGateway(t *testing.T, cfg gateway.Config, logger *slog.Logger) string {
	t.Helper()
	cfg.ListenAddr = "127.0.0.1:0"
	svc, err := gateway.New(cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway Run: %v", err)
		}
	})
	return "http://" + lis.Addr().String()
}

type response struct {
	status      int
	contentType string
	body        []byte
}

func do(t *testing.T, method, url, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
}

// decode parses a JSON object body.
func decode(t *testing.T, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// field walks a decoded JSON value by dot-separated keys and list indexes.
func field(v any, path string) any {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func TestRESTRoutes(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		fake     interface{ lastRequest() (proto.Message, int) }
		wantReq  proto.Message
		wantJSON map[string]any
	}{
		{
			name: "list clusters", method: "GET", path: "/api/v1/clusters?page_size=10&page_token=abc",
			fake:    f.topology,
			wantReq: &topologyv1.ListClustersRequest{PageSize: 10, PageToken: "abc"},
			wantJSON: map[string]any{
				"clusters.0.name": "db1:3306", "clusters.0.alias": "main",
				"clusters.0.instance_count": 3.0, "clusters.0.master.port": 3306.0,
				"next_page_token": "next",
			},
		},
		{
			name: "get cluster by alias", method: "GET", path: "/api/v1/clusters/main",
			fake: f.topology, wantReq: &topologyv1.GetClusterRequest{Cluster: "main"},
			wantJSON: map[string]any{"cluster.name": "db1:3306", "cluster.domain": "main.example.com"},
		},
		{
			name: "get cluster by name with a colon", method: "GET", path: "/api/v1/clusters/db1:3306",
			fake: f.topology, wantReq: &topologyv1.GetClusterRequest{Cluster: "db1:3306"},
			wantJSON: map[string]any{"cluster.alias": "main"},
		},
		{
			name: "get cluster by escaped name", method: "GET", path: "/api/v1/clusters/db1%3A3306",
			fake: f.topology, wantReq: &topologyv1.GetClusterRequest{Cluster: "db1:3306"},
			wantJSON: map[string]any{"cluster.alias": "main"},
		},
		{
			name: "cluster topology", method: "GET", path: "/api/v1/clusters/main/topology",
			fake: f.topology, wantReq: &topologyv1.GetClusterTopologyRequest{Cluster: "main"},
			wantJSON: map[string]any{
				"text": "db1:3306\n+ db2:3306\n", "root.instance.key.host": "db1",
				"root.instance.role": "ROLE_REPLICA", "root.instance.last_seen": "2026-01-02T03:04:05Z",
			},
		},
		{
			name: "cluster master", method: "GET", path: "/api/v1/clusters/main/master",
			fake: f.topology, wantReq: &topologyv1.GetMasterRequest{Cluster: "main"},
			wantJSON: map[string]any{"master.key.host": "db1", "master.key.port": 3306.0},
		},
		{
			name: "list instances with filters", method: "GET", path: "/api/v1/instances?cluster=main&pattern=db&page_size=2",
			fake:     f.topology,
			wantReq:  &topologyv1.ListInstancesRequest{Cluster: "main", Pattern: "db", PageSize: 2},
			wantJSON: map[string]any{"instances.0.key.host": "db1", "instances.1.key.host": "db2", "instances.1.cluster_alias": "main"},
		},
		{
			name: "list all instances", method: "GET", path: "/api/v1/instances",
			fake: f.topology, wantReq: &topologyv1.ListInstancesRequest{},
			wantJSON: map[string]any{"instances.0.key.host": "db1"},
		},
		{
			name: "get instance", method: "GET", path: "/api/v1/instances/db2.example.com/3307",
			fake:     f.topology,
			wantReq:  &topologyv1.GetInstanceRequest{Instance: key("db2.example.com", 3307)},
			wantJSON: map[string]any{"instance.key.host": "db2.example.com", "instance.key.port": 3307.0, "instance.replicating": true},
		},
		{
			name: "instance master", method: "GET", path: "/api/v1/instances/db2/3306/master",
			fake:     f.topology,
			wantReq:  &topologyv1.GetMasterRequest{Instance: key("db2", 3306)},
			wantJSON: map[string]any{"master.key.host": "db1"},
		},
		{
			name: "instance replicas", method: "GET", path: "/api/v1/instances/db1/3306/replicas?broken_only=true",
			fake:     f.topology,
			wantReq:  &topologyv1.ListReplicasRequest{Instance: key("db1", 3306), BrokenOnly: true},
			wantJSON: map[string]any{"replicas.0.key.host": "db2", "replicas.1.key.host": "db3"},
		},
		{
			name: "instance cluster", method: "GET", path: "/api/v1/instances/db2/3306/cluster",
			fake:     f.topology,
			wantReq:  &topologyv1.GetInstanceClusterRequest{Instance: key("db2", 3306)},
			wantJSON: map[string]any{"cluster.name": "db1:3306", "cluster.alias": "main"},
		},
		{
			name: "discover instance", method: "POST", path: "/api/v1/instances/db4/3306:discover",
			fake:     f.discovery,
			wantReq:  &discoveryv1.DiscoverInstanceRequest{Instance: key("db4", 3306)},
			wantJSON: map[string]any{"snapshot.key.host": "db4", "snapshot.observer_id": "discovery-1", "snapshot.reachable": true},
		},
		{
			name: "forget instance", method: "DELETE", path: "/api/v1/instances/db4/3306",
			fake:     f.discovery,
			wantReq:  &discoveryv1.ForgetInstanceRequest{Instance: key("db4", 3306)},
			wantJSON: map[string]any{},
		},
		{
			name: "get recovery mode", method: "GET", path: "/api/v1/recovery-mode",
			fake:     f.recovery,
			wantReq:  &recoveryv1.GetGlobalRecoveriesRequest{},
			wantJSON: map[string]any{"global_recoveries.enabled": true, "global_recoveries.updated_by": "alice"},
		},
		{
			name: "set recovery mode", method: "POST", path: "/api/v1/recovery-mode",
			body:     `{"enabled": false, "requested_by": "bob"}`,
			fake:     f.recovery,
			wantReq:  &recoveryv1.SetGlobalRecoveriesRequest{Enabled: false, RequestedBy: "bob"},
			wantJSON: map[string]any{"global_recoveries.updated_by": "bob", "global_recoveries.enabled": nil},
		},
		{
			name: "set recovery mode with JSON field names", method: "POST", path: "/api/v1/recovery-mode",
			body:     `{"enabled": true, "requestedBy": "carol"}`,
			fake:     f.recovery,
			wantReq:  &recoveryv1.SetGlobalRecoveriesRequest{Enabled: true, RequestedBy: "carol"},
			wantJSON: map[string]any{"global_recoveries.enabled": true},
		},
		{
			name: "replication analysis of everything", method: "GET", path: "/api/v1/analysis",
			fake:    f.analyzer,
			wantReq: &analyzerv1.GetReplicationAnalysisRequest{},
			wantJSON: map[string]any{
				"detections.0.code": "DeadMaster", "detections.0.instance.host": "db1",
				"detections.0.state": "DETECTION_STATE_STARTED", "detections.0.detected_at": "2026-01-02T03:04:05Z",
				"detections.0.suggested_action": "ACTION_RECOVER_MASTER", "detections.0.downtimed": true,
				"detections.0.cluster_alias": "main",
				"warnings.0.code":            "NoPromotableReplica", "warnings.0.instances.0.host": "db2",
			},
		},
		{
			name: "replication analysis of a cluster", method: "GET", path: "/api/v1/analysis?cluster=main",
			fake:     f.analyzer,
			wantReq:  &analyzerv1.GetReplicationAnalysisRequest{Cluster: "main"},
			wantJSON: map[string]any{"detections.0.cluster": "db1:3306"},
		},
		{
			name: "replication analysis of an instance", method: "GET", path: "/api/v1/analysis?instance.host=db2&instance.port=3307",
			fake:     f.analyzer,
			wantReq:  &analyzerv1.GetReplicationAnalysisRequest{Instance: key("db2", 3307)},
			wantJSON: map[string]any{"warnings.0.description": "no replica can be promoted"},
		},
		{
			name: "list detections", method: "GET",
			path:    "/api/v1/detections?cluster=main&instance.host=db1&instance.port=3306&page_size=20&page_token=abc",
			fake:    f.analyzer,
			wantReq: &analyzerv1.ListDetectionsRequest{Cluster: "main", Instance: key("db1", 3306), PageSize: 20, PageToken: "abc"},
			wantJSON: map[string]any{
				"detections.0.id": "d1", "detections.0.evidence.0.observer_id": "discovery-1",
				"detections.0.evidence.0.statement": "replica IO thread Connecting (errno 2003)",
				"next_page_token":                   "more",
			},
		},
		{
			name: "list all detections", method: "GET", path: "/api/v1/detections",
			fake: f.analyzer, wantReq: &analyzerv1.ListDetectionsRequest{},
			wantJSON: map[string]any{"detections.0.code": "DeadMaster"},
		},
		{
			name: "begin downtime", method: "POST", path: "/api/v1/instances/db2/3306/downtime",
			body:    `{"duration": "3600s", "owner": "bob", "reason": "kernel upgrade"}`,
			fake:    f.recovery,
			wantReq: &recoveryv1.BeginDowntimeRequest{Instance: key("db2", 3306), Duration: durationpb.New(time.Hour), Owner: "bob", Reason: "kernel upgrade"},
			wantJSON: map[string]any{
				"downtime.instance.host": "db2", "downtime.instance.port": 3306.0, "downtime.owner": "bob",
				"downtime.reason": "kernel upgrade", "downtime.started_at": "2026-01-02T03:04:05Z",
				"downtime.ends_at": "2026-01-02T04:04:05Z",
			},
		},
		{
			name: "begin downtime with fractional duration", method: "POST", path: "/api/v1/instances/db2/3306/downtime",
			body:     `{"duration": "90.5s"}`,
			fake:     f.recovery,
			wantReq:  &recoveryv1.BeginDowntimeRequest{Instance: key("db2", 3306), Duration: durationpb.New(90*time.Second + 500*time.Millisecond)},
			wantJSON: map[string]any{"downtime.instance.host": "db2"},
		},
		{
			name: "end downtime", method: "DELETE", path: "/api/v1/instances/db2/3306/downtime",
			fake:     f.recovery,
			wantReq:  &recoveryv1.EndDowntimeRequest{Instance: key("db2", 3306)},
			wantJSON: map[string]any{},
		},
		{
			name: "list downtimes", method: "GET", path: "/api/v1/downtimes",
			fake:    f.recovery,
			wantReq: &recoveryv1.ListDowntimesRequest{},
			wantJSON: map[string]any{
				"downtimes.0.instance.host": "db2", "downtimes.0.owner": "alice",
				"downtimes.0.reason": "kernel upgrade", "downtimes.0.ends_at": "2026-01-02T04:04:05Z",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, callsBefore := tt.fake.lastRequest()
			r := do(t, tt.method, f.url+tt.path, tt.body)
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", r.status, r.body)
			}
			if !strings.HasPrefix(r.contentType, "application/json") {
				t.Errorf("content type %q, want application/json", r.contentType)
			}
			got, calls := tt.fake.lastRequest()
			if calls != callsBefore+1 {
				t.Fatalf("backend got %d calls, want 1", calls-callsBefore)
			}
			if !proto.Equal(got, tt.wantReq) {
				t.Errorf("backend got request {%v}, want {%v}", prototext.Format(got), prototext.Format(tt.wantReq))
			}
			m := decode(t, r)
			for path, want := range tt.wantJSON {
				if got := field(m, path); got != want {
					t.Errorf("%s = %#v, want %#v; body %s", path, got, want, r.body)
				}
			}
		})
	}
}

func TestRESTUsesProtoFieldNames(t *testing.T) {
	f := newFixture(t)
	r := do(t, "GET", f.url+"/api/v1/clusters", "")
	for _, name := range []string{`"next_page_token"`, `"instance_count"`} {
		if !bytes.Contains(r.body, []byte(name)) {
			t.Errorf("body lacks %s: %s", name, r.body)
		}
	}
	if bytes.Contains(r.body, []byte("nextPageToken")) {
		t.Errorf("body uses JSON camelCase names: %s", r.body)
	}
}

func TestRESTErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		fakeErr     error
		wantStatus  int
		wantCode    float64
		wantMessage string
		wantNoCall  bool
	}{
		{
			name: "not found", method: "GET", path: "/api/v1/instances/10.0.0.1/3306",
			fakeErr:    status.Error(codes.NotFound, "instance 10.0.0.1:3306 is not known"),
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound),
			wantMessage: "instance 10.0.0.1:3306 is not known",
		},
		{
			name: "invalid argument with field details", method: "GET", path: "/api/v1/instances/db1/70000",
			fakeErr:    grpcx.InvalidArgument("instance.port", errors.New("port 70000 is not from 1 to 65535")),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port: port 70000 is not from 1 to 65535",
		},
		{
			name: "failed precondition", method: "POST", path: "/api/v1/recovery-mode", body: `{"enabled": true}`,
			fakeErr:    status.Error(codes.FailedPrecondition, "global read-only mode"),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.FailedPrecondition),
			wantMessage: "global read-only mode",
		},
		{
			name: "backend unavailable", method: "POST", path: "/api/v1/instances/db1/3306:discover",
			fakeErr:    status.Error(codes.Unavailable, "not ready"),
			wantStatus: http.StatusServiceUnavailable, wantCode: float64(codes.Unavailable),
			wantMessage: "not ready",
		},
		{
			name: "non-numeric port in path", method: "GET", path: "/api/v1/instances/db1/abc",
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port", wantNoCall: true,
		},
		{
			name: "non-numeric port on discover", method: "POST", path: "/api/v1/instances/db1/abc:discover",
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port", wantNoCall: true,
		},
		{
			name: "bad query parameter", method: "GET", path: "/api/v1/clusters?page_size=many",
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument), wantNoCall: true,
		},
		{
			name: "malformed body", method: "POST", path: "/api/v1/recovery-mode", body: `{"enabled": `,
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument), wantNoCall: true,
		},
		{
			name: "unknown body field", method: "POST", path: "/api/v1/recovery-mode", body: `{"enable": true}`,
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument), wantNoCall: true,
		},
		{
			name: "analysis of an unknown cluster", method: "GET", path: "/api/v1/analysis?cluster=nope",
			fakeErr:    status.Error(codes.NotFound, "cluster nope is not known"),
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound),
			wantMessage: "cluster nope is not known",
		},
		{
			name: "analysis of a bad instance", method: "GET", path: "/api/v1/analysis?instance.host=db1",
			fakeErr:    grpcx.InvalidArgument("instance.port", errors.New("port 0 is not from 1 to 65535")),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port: port 0 is not from 1 to 65535",
		},
		{
			name: "detections of an unknown instance", method: "GET", path: "/api/v1/detections?instance.host=db7&instance.port=3306",
			fakeErr:    status.Error(codes.NotFound, "instance db7:3306 is not known"),
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound),
			wantMessage: "instance db7:3306 is not known",
		},
		{
			name: "detections with a bad page token", method: "GET", path: "/api/v1/detections?page_token=garbage",
			fakeErr:    grpcx.InvalidArgument("page_token", errors.New("not a page token")),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "page_token: not a page token",
		},
		{
			name: "detections with a bad page size", method: "GET", path: "/api/v1/detections?page_size=many",
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument), wantNoCall: true,
		},
		{
			name: "downtime of an unknown instance", method: "POST", path: "/api/v1/instances/db7/3306/downtime",
			body:       `{"duration": "3600s"}`,
			fakeErr:    status.Error(codes.NotFound, "instance db7:3306 is not known"),
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound),
			wantMessage: "instance db7:3306 is not known",
		},
		{
			name: "downtime too long", method: "POST", path: "/api/v1/instances/db1/3306/downtime",
			body:       `{"duration": "86400000s"}`,
			fakeErr:    grpcx.InvalidArgument("duration", errors.New("1000 days is above 30 days")),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "duration: 1000 days is above 30 days",
		},
		{
			name: "downtime with an unparsable duration", method: "POST", path: "/api/v1/instances/db1/3306/downtime",
			body:       `{"duration": "1 hour"}`,
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument), wantNoCall: true,
		},
		{
			name: "downtime with a non-numeric port", method: "POST", path: "/api/v1/instances/db1/abc/downtime",
			body:       `{"duration": "3600s"}`,
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port", wantNoCall: true,
		},
		{
			name: "end a downtime that is not there", method: "DELETE", path: "/api/v1/instances/db1/3306/downtime",
			fakeErr:    status.Error(codes.NotFound, "db1:3306 is not downtimed"),
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound),
			wantMessage: "db1:3306 is not downtimed",
		},
		{
			name: "end downtime with a bad port", method: "DELETE", path: "/api/v1/instances/db1/0/downtime",
			fakeErr:    grpcx.InvalidArgument("instance.port", errors.New("port 0 is not from 1 to 65535")),
			wantStatus: http.StatusBadRequest, wantCode: float64(codes.InvalidArgument),
			wantMessage: "instance.port: port 0 is not from 1 to 65535",
		},
		{
			name: "list downtimes unavailable", method: "GET", path: "/api/v1/downtimes",
			fakeErr:    status.Error(codes.Unavailable, "store not ready"),
			wantStatus: http.StatusServiceUnavailable, wantCode: float64(codes.Unavailable),
			wantMessage: "store not ready",
		},
		{
			name: "unknown API path", method: "GET", path: "/api/v1/nothing-here",
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound), wantNoCall: true,
		},
		{
			name: "unknown path", method: "GET", path: "/no/such/page",
			wantStatus: http.StatusNotFound, wantCode: float64(codes.NotFound), wantNoCall: true,
		},
	}
	fakes := []interface{ lastRequest() (proto.Message, int) }{f.topology, f.analyzer, f.discovery, f.recovery}
	totalCalls := func() int {
		n := 0
		for _, fk := range fakes {
			_, c := fk.lastRequest()
			n += c
		}
		return n
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fakeErr != nil {
				f.topology.failWith(t, tt.fakeErr)
				f.analyzer.failWith(t, tt.fakeErr)
				f.discovery.failWith(t, tt.fakeErr)
				f.recovery.failWith(t, tt.fakeErr)
			}
			before := totalCalls()
			r := do(t, tt.method, f.url+tt.path, tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			if !strings.HasPrefix(r.contentType, "application/json") {
				t.Errorf("content type %q, want application/json", r.contentType)
			}
			m := decode(t, r)
			if got := field(m, "code"); got != tt.wantCode {
				t.Errorf("code = %v, want %v; body %s", got, tt.wantCode, r.body)
			}
			if msg, _ := field(m, "message").(string); !strings.Contains(msg, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", msg, tt.wantMessage)
			}
			switch calls := totalCalls() - before; {
			case tt.wantNoCall && calls != 0:
				t.Errorf("backends got %d calls, want none", calls)
			case !tt.wantNoCall && tt.fakeErr != nil && calls != 1:
				t.Errorf("backends got %d calls, want 1", calls)
			}
		})
	}
}

func TestRESTInvalidArgumentCarriesFieldViolation(t *testing.T) {
	f := newFixture(t)
	f.topology.failWith(t, grpcx.InvalidArgument("instance.port", errors.New("port 70000 is not from 1 to 65535")))
	r := do(t, "GET", f.url+"/api/v1/instances/db1/70000", "")
	m := decode(t, r)
	if got := field(m, "details.0.field_violations.0.field"); got != "instance.port" {
		t.Errorf("details.0.field_violations.0.field = %v, want instance.port; body %s", got, r.body)
	}
}

func TestBackendDownIs503(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := lis.Addr().String()
	lis.Close()

	cfg := gateway.DefaultConfig()
	cfg.AnalyzerAddr, cfg.DiscoveryAddr, cfg.RecoveryAddr = deadAddr, deadAddr, deadAddr
	url := startGateway(t, cfg, nil)
	for _, p := range []struct{ method, path string }{
		{"GET", "/api/v1/clusters"},
		{"GET", "/api/v1/instances/db1/3306"},
		{"POST", "/api/v1/instances/db1/3306:discover"},
		{"GET", "/api/v1/recovery-mode"},
		{"GET", "/api/v1/analysis"},
		{"GET", "/api/v1/detections"},
		{"GET", "/api/v1/downtimes"},
	} {
		r := do(t, p.method, url+p.path, "")
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s %s: status %d, want 503; body %s", p.method, p.path, r.status, r.body)
			continue
		}
		if got := field(decode(t, r), "code"); got != float64(codes.Unavailable) {
			t.Errorf("%s %s: code %v, want %d", p.method, p.path, got, codes.Unavailable)
		}
	}
}

func TestOpenAPI(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/openapi.json", "/api/v1/openapi.json"} {
		t.Run(path, func(t *testing.T) {
			r := do(t, "GET", f.url+path, "")
			if r.status != http.StatusOK {
				t.Fatalf("status %d, want 200", r.status)
			}
			if r.contentType != "application/json" {
				t.Errorf("content type %q, want application/json", r.contentType)
			}
			m := decode(t, r)
			paths, ok := m["paths"].(map[string]any)
			if !ok {
				t.Fatalf("no paths object in %.200s", r.body)
			}
			for _, p := range []string{
				"/api/v1/clusters", "/api/v1/analysis", "/api/v1/detections", "/api/v1/downtimes",
				"/api/v1/instances/{instance.host}/{instance.port}/downtime",
			} {
				if _, ok := paths[p]; !ok {
					t.Errorf("paths lack %s", p)
				}
			}
		})
	}
}

func TestRequestsAreLogged(t *testing.T) {
	f := newFixture(t)
	do(t, "GET", f.url+"/api/v1/clusters/main", "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(f.logs.String(), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("log line is not JSON: %q", line)
			}
			if rec["msg"] == "http request" && rec["path"] == "/api/v1/clusters/main" {
				if rec["method"] != "GET" || rec["status"] != 200.0 || rec["duration"] == nil {
					t.Errorf("log record %v lacks method, status or duration", rec)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no request log for /api/v1/clusters/main in:\n%s", f.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*gateway.Config)
		want   []string
	}{
		{"defaults", func(*gateway.Config) {}, nil},
		{"any port", func(c *gateway.Config) { c.ListenAddr = ":0" }, nil},
		{"target with scheme", func(c *gateway.Config) { c.AnalyzerAddr = "dns:///analyzer:7102" }, nil},
		{"empty listen", func(c *gateway.Config) { c.ListenAddr = "" }, []string{"gateway.listen", "empty"}},
		{"no port", func(c *gateway.Config) { c.DiscoveryAddr = "discovery" }, []string{"gateway.discovery_addr", "host:port"}},
		{"bad port", func(c *gateway.Config) { c.AnalyzerAddr = "analyzer:99999" }, []string{"gateway.analyzer_addr", "99999"}},
		{"no host", func(c *gateway.Config) { c.RecoveryAddr = ":7103" }, []string{"gateway.recovery_addr", "empty host"}},
		{"shutdown timeout", func(c *gateway.Config) { c.ShutdownTimeout = 0 }, []string{"gateway.shutdown_timeout", "above 0"}},
		{"every bad field", func(c *gateway.Config) { c.ListenAddr, c.RecoveryAddr = "x", "" }, []string{"gateway.listen", "gateway.recovery_addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			tt.modify(&cfg)
			err := cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
			if _, err := gateway.New(cfg, nil); err == nil {
				t.Errorf("New accepted an invalid config")
			}
		})
	}
}

// lockedBuffer is a log sink the test reads while the gateway writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
