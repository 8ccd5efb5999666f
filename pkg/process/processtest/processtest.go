// Package processtest runs a Vigil command's run function in a test: start
// it, wait until it serves, stop it and check it stopped cleanly.
package processtest

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// ServeThenStop starts run, waits for the address it reports through ready,
// calls serving with it (to check the process answers), then cancels run's
// context and fails the test unless run returns nil within 10s.
func ServeThenStop(t testing.TB, run func(ctx context.Context, ready func(addr string)) error, serving func(t testing.TB, addr string)) {
	t.Helper()
	addrs := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(a string) { addrs <- a }) }()

	select {
	case addr := <-addrs:
		serving(t, addr)
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not serving after 10s")
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return 10s after cancel")
	}
}

// WaitServing polls the gRPC health check at addr until it says SERVING.
func WaitServing(t testing.TB, addr string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health check at %s: status %v, err %v", addr, resp.GetStatus(), err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
