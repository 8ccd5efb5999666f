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

// DefaultPollInterval is assumed for a member that does not say how often it
// probes.
const DefaultPollInterval = time.Second

// Initial is the state a stream starts with: everything the member knows.
type Initial struct {
	// Snapshots holds the latest snapshot of every instance the member watches.
	Snapshots []*topologyv1.Snapshot
	// LastGood holds, for instances whose latest probe did not reach them,
	// the latest snapshot that did.
	LastGood []*topologyv1.Snapshot
	// PollInterval is how often the member probes every instance.
	PollInterval time.Duration
}

// Sink receives what the stream says.
type Sink interface {
	// Sync replaces everything source said with its initial state, all at
	// once (a partial state would show replicas without their master), and
	// marks the stream synced: what it says is current.
	Sync(source string, initial Initial)
	// Apply and Forget take the live changes that follow.
	Apply(source string, snap *topologyv1.Snapshot)
	Forget(source string, key topology.InstanceKey)
	// Release says source no longer observes key: another member owns
	// it now. What source said is no longer evidence; the instance stays.
	Release(source string, key topology.InstanceKey)
	// Disconnected says the stream broke: until it re-syncs, what source
	// said is no longer current.
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
	var initial Initial
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
			if synced {
				f.Sink.Apply(f.Source, e.Snapshot)
			} else {
				initial.Snapshots = append(initial.Snapshots, e.Snapshot)
			}
		case *discoveryv1.StreamSnapshotsResponse_LastGood:
			if !synced {
				initial.LastGood = append(initial.LastGood, e.LastGood)
			}
		case *discoveryv1.StreamSnapshotsResponse_Forgotten:
			if key, err := topology.KeyFromProto(e.Forgotten); err == nil && synced {
				f.Sink.Forget(f.Source, key)
			}
		case *discoveryv1.StreamSnapshotsResponse_Released:
			if key, err := topology.KeyFromProto(e.Released); err == nil && synced {
				f.Sink.Release(f.Source, key)
			}
		case *discoveryv1.StreamSnapshotsResponse_Synced:
			if synced {
				continue
			}
			synced = true
			initial.PollInterval = e.Synced.GetPollInterval().AsDuration()
			if initial.PollInterval <= 0 {
				f.Log.Warn("discovery member does not say how often it probes; assuming the default",
					"source", f.Source, "poll_interval", DefaultPollInterval)
				initial.PollInterval = DefaultPollInterval
			}
			f.Sink.Sync(f.Source, initial)
			f.Log.Info("snapshot stream synced", "source", f.Source, "instances", len(initial.Snapshots),
				"poll_interval", initial.PollInterval)
			initial = Initial{}
		}
	}
}
