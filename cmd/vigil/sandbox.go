package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/vigil-db/vigil/pkg/sandbox"
)

// demoSpec is the topology of the demo and of "vigil sandbox up": a master
// with two replicas and an intermediate master with two replicas of its own.
func demoSpec(basePort int) sandbox.Spec {
	return sandbox.Spec{
		BasePort: basePort,
		Instances: []sandbox.Node{
			{Name: "m"},
			{Name: "r1", Source: "m"},
			{Name: "r2", Source: "m"},
			{Name: "i1", Source: "m"},
			{Name: "r3", Source: "i1"},
			{Name: "r4", Source: "i1"},
		},
	}
}

func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: vigil sandbox up|down|status", errUsage)
	}
	fs := flag.NewFlagSet("vigil sandbox "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".sandbox", "directory holding the sandbox")
	basePort := fs.Int("base-port", 24001, "port of the first instance; the others follow")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch args[0] {
	case "up":
		spec := demoSpec(*basePort)
		spec.Persistent = true
		topo, err := sandbox.Start(ctx, *dir, spec)
		if err != nil {
			return err
		}
		if err := topo.WaitReplicating(ctx); err != nil {
			return err
		}
		for _, inst := range topo.Instances() {
			fmt.Fprintf(stdout, "%-3s %s replicates from %s\n", inst.Name, inst.Key, sourceText(inst.Source))
		}
		fmt.Fprintf(stdout, "topology user: %s / %s\n", sandbox.DefaultUser, sandbox.DefaultPassword)
		return nil
	case "down":
		return sandbox.Down(ctx, *dir)
	case "status":
		statuses, err := sandbox.Status(*dir)
		if err != nil {
			return err
		}
		for _, s := range statuses {
			state := "stopped"
			if s.Running {
				state = fmt.Sprintf("running (pid %d)", s.PID)
			}
			fmt.Fprintf(stdout, "%-3s %s %s\n", s.Name, s.Key, state)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown sandbox command %q; use up, down or status", errUsage, args[0])
}

func sourceText(s string) string {
	if s == "" {
		return "nothing (master)"
	}
	return s
}
