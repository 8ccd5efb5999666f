package main

import (
	"bytes"
	"context"

	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
)

func runDiscover(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.discovery()
	if err != nil {
		return err
	}
	resp, err := client.DiscoverInstance(ctx, &discoveryv1.DiscoverInstanceRequest{Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		if k := resp.GetSnapshot().GetKey(); k != nil {
			key = k
		}
		writeKey(w, key)
	})
}

func runForget(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.discovery()
	if err != nil {
		return err
	}
	resp, err := client.ForgetInstance(ctx, &discoveryv1.ForgetInstanceRequest{Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) { writeKey(w, key) })
}

func runForgetCluster(ctx context.Context, inv *invocation) error {
	if inv.opts.cluster == "" {
		return usagef("%s: --cluster is required", inv.cmd.name)
	}
	client, err := inv.discovery()
	if err != nil {
		return err
	}
	resp, err := client.ForgetCluster(ctx, &discoveryv1.ForgetClusterRequest{Cluster: inv.opts.cluster})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, k := range resp.GetForgotten() {
			writeKey(w, k)
		}
	})
}
