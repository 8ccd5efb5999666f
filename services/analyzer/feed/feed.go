// Package feed subscribes the analyzer to a discovery member's snapshot
// stream and keeps it subscribed: it reconnects with backoff and re-syncs the
// current state after every reconnect.
package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/vigil-db/vigil/pkg/topology"
	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// Sink receives what the stream says.
type Sink interface {
	Apply(source string, snap *topologyv1.Snapshot)
	Forget(source string, key topology.InstanceKey)
	Retain(source string, keep map[topology.InstanceKey]bool)
	// Connected and Disconnected say whether the stream is up and synced,
	// that is whether what it said is current.
	Connected(source string)
	Disconnected(source string)
}

// Feed follows one discovery member.
type Feed struct {
	Source     string // the member's address, which also names it as a source
	Client     discoveryv1.DiscoveryServiceClient
	Subscriber string
	Sink       Sink
	Log        *slog.Logger
	MinBackoff time.Duration
	MaxBackoff time.Duration
}

// Run follows the stream until ctx is done.
func (f *Feed) Run(ctx context.Context) error {
	backoff := f.MinBackoff
	for {
		synced, err := f.follow(ctx)
		f.Sink.Disconnected(f.Source)
		if ctx.Err() != nil {
			return nil
		}
		if synced {
			backoff = f.MinBackoff
		}
		f.Log.Warn("snapshot stream broken, reconnecting", "source", f.Source, "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil
		}
		backoff = min(2*backoff, f.MaxBackoff)
	}
}

// follow reads one stream until it breaks. It reports whether the stream got
// as far as the initial sync.
func (f *Feed) follow(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := f.Client.StreamSnapshots(ctx, &discoveryv1.StreamSnapshotsRequest{Subscriber: f.Subscriber})
	if err != nil {
		return false, fmt.Errorf("open stream: %w", err)
	}
	initial := make(map[topology.InstanceKey]bool)
	synced := false
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return synced, errors.New("stream closed by discovery")
		}
		if err != nil {
			return synced, err
		}
		switch e := msg.GetEvent().(type) {
		case *discoveryv1.StreamSnapshotsResponse_Snapshot:
			if !synced {
				if key, err := topology.KeyFromProto(e.Snapshot.GetKey()); err == nil {
					initial[key] = true
				}
			}
			f.Sink.Apply(f.Source, e.Snapshot)
		case *discoveryv1.StreamSnapshotsResponse_Forgotten:
			if key, err := topology.KeyFromProto(e.Forgotten); err == nil {
				f.Sink.Forget(f.Source, key)
			}
		case *discoveryv1.StreamSnapshotsResponse_Synced:
			if !synced {
				synced = true
				f.Sink.Retain(f.Source, initial)
				f.Sink.Connected(f.Source)
				f.Log.Info("snapshot stream synced", "source", f.Source, "instances", len(initial))
			}
		}
	}
}
