package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/vigil-db/vigil/internal/app"
	"github.com/vigil-db/vigil/pkg/mysql"
	"github.com/vigil-db/vigil/pkg/sandbox"
)

// sandboxCreds is the topology user of every sandbox.
var sandboxCreds = mysql.Credentials{User: sandbox.DefaultUser, Password: sandbox.DefaultPassword}

// sandboxReplication is the replication user of every sandbox.
var sandboxReplication = mysql.Credentials{User: sandbox.DefaultReplicationUser, Password: sandbox.DefaultReplicationPassword}

// startTempSandbox starts a sandbox topology in a new temporary directory
// and waits until it replicates. remove kills it and deletes the directory.
func startTempSandbox(ctx context.Context, spec sandbox.Spec) (topo *sandbox.Topology, remove func(), err error) {
	dir, err := os.MkdirTemp("", "vigil-sandbox")
	if err != nil {
		return nil, nil, err
	}
	topo, err = sandbox.Start(ctx, dir, spec)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	remove = func() {
		topo.Destroy()
		os.RemoveAll(dir)
	}
	if err := topo.WaitReplicating(ctx); err != nil {
		remove()
		return nil, nil, err
	}
	return topo, remove, nil
}

// startServices runs the configured services until stop is called; stop
// returns what app.Wait says.
func startServices(ctx context.Context, cfg app.Config, creds mysql.Credentials, log *slog.Logger) (a *app.App, stop func() error, err error) {
	runCtx, cancel := context.WithCancel(ctx)
	a, err = app.Start(runCtx, cfg, creds, log)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	return a, func() error {
		cancel()
		return a.Wait(runCtx)
	}, nil
}
