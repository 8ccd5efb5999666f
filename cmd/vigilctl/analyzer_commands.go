package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func runReplicationAnalysis(ctx context.Context, inv *invocation) error {
	cluster, key, err := inv.optionalClusterOrInstance()
	if err != nil {
		return err
	}
	client, err := inv.analyzer()
	if err != nil {
		return err
	}
	resp, err := client.GetReplicationAnalysis(ctx, &analyzerv1.GetReplicationAnalysisRequest{Cluster: cluster, Instance: key})
	if err != nil {
		return err
	}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, d := range resp.GetDetections() {
			writeAnalysisLine(w, d)
		}
		for _, wn := range resp.GetWarnings() {
			fmt.Fprintf(w, "warning %s on %s: %s\n", wn.GetCode(), wn.GetCluster(), wn.GetDescription())
		}
	})
}

func runAuditFailureDetection(ctx context.Context, inv *invocation) error {
	if inv.opts.limit <= 0 {
		return usagef("--limit %d: must be positive", inv.opts.limit)
	}
	cluster, key, err := inv.optionalClusterOrInstance()
	if err != nil {
		return err
	}
	client, err := inv.analyzer()
	if err != nil {
		return err
	}
	detections, err := firstN(inv.opts.limit, func(token string, pageSize int32) ([]*analyzerv1.Detection, string, error) {
		resp, err := client.ListDetections(ctx, &analyzerv1.ListDetectionsRequest{
			Cluster: cluster, Instance: key, PageSize: pageSize, PageToken: token,
		})
		return resp.GetDetections(), resp.GetNextPageToken(), err
	})
	if err != nil {
		return err
	}
	resp := &analyzerv1.ListDetectionsResponse{Detections: detections}
	return inv.emit(resp, func(w *bytes.Buffer) {
		for _, d := range detections {
			writeAuditLine(w, d)
		}
	})
}

// runDetectionEvents prints every failure event as it arrives, until ctx is
// done (exit 0) or the analyzer ends the stream: cleanly (exit 0) or with an
// error, such as when this subscriber fell behind or the analyzer stops.
func runDetectionEvents(ctx context.Context, inv *invocation) error {
	client, err := inv.analyzer()
	if err != nil {
		return err
	}
	stream, err := client.StreamFailureEvents(ctx, &analyzerv1.StreamFailureEventsRequest{Subscriber: "vigilctl:" + inv.opts.caller})
	if err != nil {
		return streamEnd(ctx, err)
	}
	var line bytes.Buffer
	for {
		event, err := stream.Recv()
		if err != nil {
			return streamEnd(ctx, err)
		}
		line.Reset()
		if inv.opts.json {
			// One object per line (JSON Lines), synced markers included.
			b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(event)
			if err != nil {
				return fmt.Errorf("render JSON: %w", err)
			}
			line.Write(b)
			line.WriteByte('\n')
		} else if d := event.GetDetection(); d != nil {
			writeEventLine(&line, d)
		}
		if _, err := inv.stdout.Write(line.Bytes()); err != nil {
			return err
		}
	}
}

// streamEnd returns nil when the stream ended because the server closed it
// or the user interrupted, else err.
func streamEnd(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case ctx.Err() != nil && status.Code(err) == codes.Canceled:
		return nil
	}
	return err
}

// optionalClusterOrInstance returns the cluster (--cluster) or the instance
// (-i) a command is narrowed to, or neither.
func (inv *invocation) optionalClusterOrInstance() (string, *topologyv1.InstanceKey, error) {
	if inv.opts.cluster == "" && inv.opts.instance == "" {
		return "", nil, nil
	}
	return inv.clusterOrInstance()
}
