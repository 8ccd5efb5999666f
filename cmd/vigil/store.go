package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/store/backend"
)

// runStore runs a store command: copy.
func runStore(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "copy" {
		return fmt.Errorf("%w: vigil store copy --from URL --to URL", errUsage)
	}
	fs := flag.NewFlagSet("vigil store copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "store `url` to copy from: sqlite:///path/vigil.db, a file path or postgres://... (env VIGIL_STORE_COPY_FROM)")
	to := fs.String("to", "", "empty store `url` to copy into (env VIGIL_STORE_COPY_TO; prefer it when the URL holds a password)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *from == "" {
		*from = getenv("VIGIL_STORE_COPY_FROM")
	}
	if *to == "" {
		*to = getenv("VIGIL_STORE_COPY_TO")
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: vigil store copy --from URL --to URL", errUsage)
	}
	src, err := backend.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := backend.Open(ctx, *to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()
	c, err := store.Copy(ctx, src, dst, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d instances (and %d known, not yet probed), %d clusters, %d detections, %d recoveries, %d downtimes and %d promotion rules in force",
		c.Instances, c.Registered, c.Clusters, c.Detections, c.Recoveries, c.Downtimes, c.Candidates)
	if c.GlobalSwitch {
		fmt.Fprint(stdout, ", and the global recovery switch")
	}
	fmt.Fprintln(stdout)
	return nil
}
