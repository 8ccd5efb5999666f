package recovery_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/vigil-db/vigil/pkg/coord/local"
	"github.com/vigil-db/vigil/pkg/grpcx"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/memory"
	"github.com/vigil-db/vigil/pkg/store/postgres"
	"github.com/vigil-db/vigil/pkg/store/postgres/pgtest"
	"github.com/vigil-db/vigil/pkg/store/storetest"
	"github.com/vigil-db/vigil/pkg/topology"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
	"github.com/vigil-db/vigil/services/recovery"
)

func TestBeginDowntimeOfKnownInstancesOnly(t *testing.T) {
	known := topology.InstanceKey{Host: "db1.example.com", Port: 3306}
	stores := []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"memory", func(*testing.T) store.Store { return memory.New() }},
		{"postgres", openPostgres},
	}
	tests := []struct {
		name     string
		instance topology.InstanceKey
		code     codes.Code
	}{
		{"known instance", known, codes.OK},
		{"never discovered host", topology.InstanceKey{Host: "db9.example.com", Port: 3306}, codes.NotFound},
		{"known host, mistyped port", topology.InstanceKey{Host: known.Host, Port: 3307}, codes.NotFound},
	}
	for _, sc := range stores {
		for _, tt := range tests {
			t.Run(sc.name+"/"+tt.name, func(t *testing.T) {
				st := sc.open(t)
				ctx := testContext(t)
				if err := st.SaveSnapshots(ctx, []*topologyv1.Snapshot{storetest.NewSnapshot(known, time.Now(), true)}); err != nil {
					t.Fatal(err)
				}
				client := startRecovery(t, st)

				resp, err := client.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{
					Instance: tt.instance.Proto(), Duration: durationpb.New(time.Hour), Owner: "alice"})
				if status.Code(err) != tt.code {
					t.Fatalf("BeginDowntime(%s) = %v, %v; want %s", tt.instance, resp, err, tt.code)
				}
				stored, listErr := st.ListDowntimes(ctx, time.Now())
				if listErr != nil {
					t.Fatal(listErr)
				}
				if tt.code == codes.OK {
					if len(stored) != 1 || stored[0].Key != tt.instance {
						t.Errorf("stored downtimes = %+v, want one of %s", stored, tt.instance)
					}
					return
				}
				if msg := status.Convert(err).Message(); !strings.Contains(msg, tt.instance.String()) || !strings.Contains(msg, "discover it first") {
					t.Errorf("message %q does not name %s and what to do", msg, tt.instance)
				}
				if len(stored) != 0 {
					t.Errorf("refused downtime stored: %+v", stored)
				}
			})
		}
	}
}

func openPostgres(t *testing.T) store.Store {
	t.Helper()
	st, err := postgres.Open(testContext(t), pgtest.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// startRecovery serves a recovery service on st over gRPC on loopback until
// the test ends.
func startRecovery(t *testing.T, st recovery.Store) recoveryv1.RecoveryServiceClient {
	t.Helper()
	svc, err := recovery.New(recovery.DefaultConfig(), recovery.Deps{Store: st, Coordinator: local.New(), Credentials: mysql.Credentials{User: "vigil"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpcx.NewServer()
	svc.Register(srv.GRPC)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, lis, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("recovery server: %v", err)
		}
	})
	conn, err := grpcx.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return recoveryv1.NewRecoveryServiceClient(conn)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
