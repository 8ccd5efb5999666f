package rules

import (
	"fmt"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
)

// Downtime checks the input of BeginDowntime and returns it with its times
// as stores keep them. EndsAt must be after StartedAt at that precision.
func Downtime(d store.Downtime) (store.Downtime, error) {
	if err := d.Key.Validate(); err != nil {
		return store.Downtime{}, fmt.Errorf("%w: key: %w", store.ErrInvalidArgument, err)
	}
	for _, f := range []struct {
		name  string
		value string
		max   int
	}{
		{"owner", d.Owner, store.MaxDowntimeOwner},
		{"reason", d.Reason, store.MaxDowntimeReason},
	} {
		if err := Text(f.value); err != nil {
			return store.Downtime{}, fmt.Errorf("%w: downtime of %s: %s %w", store.ErrInvalidArgument, d.Key, f.name, err)
		}
		if n := utf8.RuneCountInString(f.value); n > f.max {
			return store.Downtime{}, fmt.Errorf("%w: downtime of %s: %s is %d characters long, more than %d",
				store.ErrInvalidArgument, d.Key, f.name, n, f.max)
		}
	}
	if d.StartedAt.IsZero() {
		return store.Downtime{}, fmt.Errorf("%w: downtime of %s: started_at is missing", store.ErrInvalidArgument, d.Key)
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"started_at", d.StartedAt}, {"ends_at", d.EndsAt}} {
		if err := timestamppb.New(f.t).CheckValid(); err != nil {
			return store.Downtime{}, fmt.Errorf("%w: downtime of %s: %s: %w", store.ErrInvalidArgument, d.Key, f.name, err)
		}
	}
	d.StartedAt, d.EndsAt = Time(d.StartedAt), Time(d.EndsAt)
	if !d.EndsAt.After(d.StartedAt) {
		return store.Downtime{}, fmt.Errorf("%w: downtime of %s: ends_at %v is not after started_at %v",
			store.ErrInvalidArgument, d.Key, d.EndsAt, d.StartedAt)
	}
	return d, nil
}

// DowntimeKey checks the key given to EndDowntime.
func DowntimeKey(key topology.InstanceKey) error {
	if err := key.Validate(); err != nil {
		return fmt.Errorf("%w: key: %w", store.ErrInvalidArgument, err)
	}
	return nil
}

// DowntimeNow checks the time given to EndDowntime and ListDowntimes and
// returns it as stores keep times.
func DowntimeNow(now time.Time) (time.Time, error) {
	if now.IsZero() {
		return time.Time{}, fmt.Errorf("%w: now is the zero time", store.ErrInvalidArgument)
	}
	if err := timestamppb.New(now).CheckValid(); err != nil {
		return time.Time{}, fmt.Errorf("%w: now: %w", store.ErrInvalidArgument, err)
	}
	return Time(now), nil
}
