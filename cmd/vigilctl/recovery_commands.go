package main

import (
	"bytes"
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
)

func runCheckGlobalRecoveries(ctx context.Context, inv *invocation) error {
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.GetGlobalRecoveries(ctx, &recoveryv1.GetGlobalRecoveriesRequest{})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeRecoveryMode(w, resp.GetGlobalRecoveries()) })
}

func runDisableGlobalRecoveries(ctx context.Context, inv *invocation) error {
	return setGlobalRecoveries(ctx, inv, false)
}

func runEnableGlobalRecoveries(ctx context.Context, inv *invocation) error {
	return setGlobalRecoveries(ctx, inv, true)
}

func setGlobalRecoveries(ctx context.Context, inv *invocation, enabled bool) error {
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.SetGlobalRecoveries(ctx, &recoveryv1.SetGlobalRecoveriesRequest{
		Enabled: enabled, RequestedBy: inv.opts.caller,
	})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeRecoveryMode(w, resp.GetGlobalRecoveries()) })
}

func runBeginDowntime(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	d, err := inv.downtimeDuration()
	if err != nil {
		return err
	}
	owner := inv.opts.owner
	if owner == "" {
		owner = inv.opts.caller
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.BeginDowntime(ctx, &recoveryv1.BeginDowntimeRequest{
		Instance: key, Duration: durationpb.New(d), Owner: owner, Reason: inv.opts.reason,
	})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, key) })
}

// downtimeDuration returns --duration, which begin-downtime needs.
func (inv *invocation) downtimeDuration() (time.Duration, error) {
	if inv.opts.duration == "" {
		return 0, usagef("%s: --duration is required, such as --duration 2h", inv.cmd.name)
	}
	d, err := time.ParseDuration(inv.opts.duration)
	if err != nil {
		return 0, usagef("--duration %q: not a duration such as 90m or 2h", inv.opts.duration)
	}
	if d <= 0 {
		return 0, usagef("--duration %s: must be positive", inv.opts.duration)
	}
	return d, nil
}

func runEndDowntime(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.EndDowntime(ctx, &recoveryv1.EndDowntimeRequest{Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, key) })
}

func runDowntimed(ctx context.Context, inv *invocation) error {
	client, err := inv.recovery()
	if err != nil {
		return err
	}
	resp, err := client.ListDowntimes(ctx, &recoveryv1.ListDowntimesRequest{})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, d := range resp.GetDowntimes() {
			writeDowntime(w, d)
		}
	})
}
