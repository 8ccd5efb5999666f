package app

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/mysql"
)

func TestPointAtLocal(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Discovery.ListenAddr = "127.0.0.1:0"
	cfg.Gateway.RecoveryAddr = "recovery.example:7103" // not local: left alone
	configured := map[string]string{Discovery: "127.0.0.1:0", Analyzer: "127.0.0.1:7102"}
	a := &App{addrs: map[string]string{Discovery: "127.0.0.1:40001", Analyzer: "127.0.0.1:40002"}}

	a.pointAtLocal(&cfg, configured)

	if !slices.Equal(cfg.Analyzer.DiscoveryAddrs, []string{"127.0.0.1:40001"}) {
		t.Errorf("analyzer follows %v, want the local discovery", cfg.Analyzer.DiscoveryAddrs)
	}
	if cfg.Gateway.DiscoveryAddr != "127.0.0.1:40001" || cfg.Gateway.AnalyzerAddr != "127.0.0.1:40002" {
		t.Errorf("gateway backends = %s, %s", cfg.Gateway.DiscoveryAddr, cfg.Gateway.AnalyzerAddr)
	}
	if cfg.Gateway.RecoveryAddr != "recovery.example:7103" {
		t.Errorf("remote recovery rewritten to %s", cfg.Gateway.RecoveryAddr)
	}
	if DefaultConfig().Analyzer.DiscoveryAddrs[0] != "127.0.0.1:7101" {
		t.Error("pointAtLocal changed the defaults")
	}
}

func TestStartRejectsBadConfigurationAndFreesPorts(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := DefaultConfig()
	cfg.Store = MemoryStore
	for _, l := range []*string{&cfg.Discovery.ListenAddr, &cfg.Analyzer.ListenAddr, &cfg.Recovery.ListenAddr, &cfg.Gateway.ListenAddr} {
		*l = "127.0.0.1:0"
	}
	cfg.Discovery.PollInterval = time.Millisecond
	_, err := Start(context.Background(), cfg, mysql.Credentials{User: "u"}, log)
	if err == nil || !strings.Contains(err.Error(), "discovery.poll_interval") {
		t.Fatalf("Start = %v, want an error naming discovery.poll_interval", err)
	}

	cfg.Discovery.PollInterval = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, mysql.Credentials{User: "u"}, log)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := a.Wait(ctx); err != nil {
		t.Errorf("Wait = %v", err)
	}
}
