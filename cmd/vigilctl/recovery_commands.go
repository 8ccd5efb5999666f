package main

import (
	"bytes"
	"context"

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
