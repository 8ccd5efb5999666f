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

func TestStoreChoice(t *testing.T) {
	cfg := DefaultConfig()
	if got, want := cfg.StoreURL(), "sqlite://vigil-data/vigil.db"; got != want {
		t.Errorf("default StoreURL = %q, want %q", got, want)
	}
	tests := []struct {
		name     string
		services []string
		store    string
		dataDir  string
		wantErr  string // empty: valid
	}{
		{name: "all services, embedded", services: AllServices, dataDir: "data"},
		{name: "all but the gateway, embedded", services: []string{Discovery, Analyzer, Recovery}, dataDir: "data"},
		{name: "gateway alone needs no store", services: []string{Gateway}, dataDir: ""},
		{name: "recovery alone on PostgreSQL", services: []string{Recovery}, store: "postgres://db/vigil"},
		{name: "recovery alone, embedded", services: []string{Recovery}, dataDir: "data", wantErr: "this one runs recovery"},
		{name: "two services on a file path", services: []string{Discovery, Analyzer}, store: "/var/lib/vigil/vigil.db", wantErr: "this one runs discovery, analyzer"},
		{name: "no store and no data directory", services: AllServices, wantErr: "data_dir: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Services, cfg.Store, cfg.DataDir = tt.services, tt.store, tt.dataDir
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
