package main

import (
	"bytes"
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	discoveryv1 "github.com/vigil-db/vigil/proto/vigil/discovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
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

func runMembers(ctx context.Context, inv *invocation) error {
	client, err := inv.discovery()
	if err != nil {
		return err
	}
	resp, err := client.ListMembers(ctx, &discoveryv1.ListMembersRequest{})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "MEMBER\tDOMAIN\tADDRESS\tOWNED\tR\tLEASE TTL\tLAST HEARTBEAT")
		for _, m := range resp.GetMembers() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", m.GetMemberId(), orDash(m.GetDomain()), m.GetAddr(),
				m.GetOwnedInstances(), m.GetReplicationFactor(), m.GetLeaseTtl().AsDuration(), timeString(m.GetLastHeartbeat()))
		}
		_ = tw.Flush()
	})
}

func runObservers(ctx context.Context, inv *invocation) error {
	key, err := inv.instanceKey()
	if err != nil {
		return err
	}
	client, err := inv.topology()
	if err != nil {
		return err
	}
	resp, err := client.GetInstance(ctx, &topologyv1.GetInstanceRequest{Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "MEMBER\tDOMAIN\tPROBED\tSAW")
		for _, o := range resp.GetInstance().GetObservers() {
			saw := "reachable"
			if !o.GetReachable() {
				saw = "unreachable: " + o.GetError()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.GetMemberId(), orDash(o.GetDomain()),
				o.GetProbeFinished().AsTime().UTC().Format(time.RFC3339Nano), saw)
		}
		_ = tw.Flush()
	})
}
