package main

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
	recoveryv1 "github.com/vigil-db/vigil/proto/vigil/recovery/v1"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// jsonOptions render --json output with the proto field names, as the REST
// gateway does.
var jsonOptions = protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}

// emit writes resp as JSON with --json, else as text through text.
func (inv *invocation) emit(resp proto.Message, text func(*bytes.Buffer)) error {
	if !inv.opts.json {
		text(&inv.out)
		return nil
	}
	b, err := jsonOptions.Marshal(resp)
	if err != nil {
		return fmt.Errorf("render JSON: %w", err)
	}
	inv.out.Write(b)
	inv.out.WriteByte('\n')
	return nil
}

// keyString renders an instance key as host:port ([host]:port for IPv6).
func keyString(k *topologyv1.InstanceKey) string {
	return net.JoinHostPort(k.GetHost(), strconv.FormatUint(uint64(k.GetPort()), 10))
}

// writeKey writes host:port on a line, or nothing for a missing key.
func writeKey(w *bytes.Buffer, k *topologyv1.InstanceKey) {
	if k.GetHost() == "" {
		return
	}
	writeLine(w, keyString(k))
}

// writeLine writes s on a line, or nothing when s is empty.
func writeLine(w *bytes.Buffer, s string) {
	if s != "" {
		w.WriteString(s)
		w.WriteByte('\n')
	}
}

// writeInstanceKeys writes one host:port per line.
func writeInstanceKeys(w *bytes.Buffer, instances []*topologyv1.Instance) {
	for _, in := range instances {
		writeKey(w, in.GetKey())
	}
}

func writeClusterInfo(w *bytes.Buffer, c *topologyv1.Cluster) {
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", c.GetName())
	fmt.Fprintf(tw, "alias:\t%s\n", c.GetAlias())
	fmt.Fprintf(tw, "domain:\t%s\n", c.GetDomain())
	master := ""
	if c.GetMaster().GetHost() != "" {
		master = keyString(c.GetMaster())
	}
	fmt.Fprintf(tw, "master:\t%s\n", master)
	fmt.Fprintf(tw, "instances:\t%d\n", c.GetInstanceCount())
	_ = tw.Flush()
}

func writeRecoveryMode(w *bytes.Buffer, g *recoveryv1.GlobalRecoveries) {
	if g.GetEnabled() {
		writeLine(w, "enabled")
	} else {
		writeLine(w, "disabled")
	}
}

// writeTabulated writes the analyzer's topology text with its columns
// separated by tabs. A line "  + host:port   [0s,ok,8.0.36,ro,ROW,>>,GTID]"
// becomes "  + host:port<TAB>0s<TAB>ok<TAB>8.0.36<TAB>ro<TAB>ROW<TAB>>>,GTID":
// the five fixed attributes (lag, status, version, ro/rw, binlog format) each
// get a column and the optional rest (">>" when the server logs replica
// updates, then the replication mode) stays together in the last one, so
// every line has the same number of columns. Lines of another shape are
// copied as they are.
func writeTabulated(w *bytes.Buffer, text string) {
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		open := strings.LastIndex(line, " [")
		if open < 0 || !strings.HasSuffix(line, "]") {
			writeLine(w, line)
			continue
		}
		left := strings.TrimRight(line[:open], " ")
		attrs := strings.SplitN(line[open+2:len(line)-1], ",", 6)
		w.WriteString(left)
		for _, a := range attrs {
			w.WriteByte('\t')
			w.WriteString(a)
		}
		w.WriteByte('\n')
	}
}

// instanceString renders an instance key as host:port, or "-" when missing.
func instanceString(k *topologyv1.InstanceKey) string {
	if k.GetHost() == "" {
		return "-"
	}
	return keyString(k)
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// timeString renders a timestamp as RFC 3339 in UTC, or "-" when missing.
func timeString(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "-"
	}
	return ts.AsTime().UTC().Format(time.RFC3339)
}

// writeAnalysisLine writes a detection as orchestrator-client's
// replication-analysis does: "host:port (cluster name): Code".
func writeAnalysisLine(w *bytes.Buffer, d *analyzerv1.Detection) {
	fmt.Fprintf(w, "%s (cluster %s): %s", instanceString(d.GetInstance()), d.GetCluster(), d.GetCode())
	if d.GetDowntimed() {
		w.WriteString(" [downtimed]")
	}
	w.WriteByte('\n')
}

// writeAuditLine writes a detection of the history: when it was detected,
// what, where, and whether it is still active.
func writeAuditLine(w *bytes.Buffer, d *analyzerv1.Detection) {
	state := "active"
	if d.GetClearedAt() != nil || d.GetState() == analyzerv1.DetectionState_DETECTION_STATE_CLEARED {
		state = "cleared at " + timeString(d.GetClearedAt())
	}
	fmt.Fprintf(w, "%s %s %s %s %s\n", timeString(d.GetDetectedAt()), d.GetCode(),
		instanceString(d.GetInstance()), d.GetCluster(), state)
}

// writeEventLine writes one failure event: "changed_at STATE Code
// host:port cluster id=ID".
func writeEventLine(w *bytes.Buffer, d *analyzerv1.Detection) {
	state := strings.TrimPrefix(d.GetState().String(), "DETECTION_STATE_")
	fmt.Fprintf(w, "%s %s %s %s %s id=%s\n", timeString(d.GetChangedAt()), state, d.GetCode(),
		instanceString(d.GetInstance()), d.GetCluster(), d.GetId())
}

// writeDowntime writes "host:port until ends_at by owner: reason", leaving
// out ": reason" when there is none.
func writeDowntime(w *bytes.Buffer, d *recoveryv1.Downtime) {
	fmt.Fprintf(w, "%s until %s by %s", instanceString(d.GetInstance()), timeString(d.GetEndsAt()), d.GetOwner())
	if d.GetReason() != "" {
		fmt.Fprintf(w, ": %s", d.GetReason())
	}
	w.WriteByte('\n')
}
