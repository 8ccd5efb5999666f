package rules

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/vigil-db/vigil/pkg/store"
	"github.com/vigil-db/vigil/pkg/topology"
	analyzerv1 "github.com/vigil-db/vigil/proto/vigil/analyzer/v1"
)

// Detection is one detection of a SaveDetections batch, with the fields
// stores index.
type Detection struct {
	// Msg is the detection to store. It may be the caller's message: never
	// modify it.
	Msg        *analyzerv1.Detection
	Key        topology.InstanceKey
	DetectedAt time.Time
	// ClearedAt is zero while the detection is active.
	ClearedAt time.Time
}

// Detections checks a batch for SaveDetections and reduces it to one entry
// per id: the later in the batch, with the identity of the first (see
// KeepIdentity). Entries are ordered by id.
func Detections(ds []*analyzerv1.Detection) ([]Detection, error) {
	byID := make(map[string]*analyzerv1.Detection, len(ds))
	for i, d := range ds {
		if err := checkDetection(d); err != nil {
			if d.GetId() != "" {
				return nil, fmt.Errorf("%w: detection %d (%q): %w", store.ErrInvalidArgument, i, d.GetId(), err)
			}
			return nil, fmt.Errorf("%w: detection %d: %w", store.ErrInvalidArgument, i, err)
		}
		if first, ok := byID[d.GetId()]; ok {
			d = KeepIdentity(d, first)
		}
		byID[d.GetId()] = d
	}
	rows := make([]Detection, 0, len(byID))
	for _, d := range byID {
		key, _ := topology.KeyFromProto(d.GetInstance()) // checked
		row := Detection{Msg: d, Key: key, DetectedAt: Time(d.GetDetectedAt().AsTime())}
		if d.GetClearedAt() != nil {
			row.ClearedAt = Time(d.GetClearedAt().AsTime())
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b Detection) int { return strings.Compare(a.Msg.GetId(), b.Msg.GetId()) })
	return rows, nil
}

// checkDetection returns what is wrong with d, if anything.
func checkDetection(d *analyzerv1.Detection) error {
	if d == nil {
		return errors.New("is nil")
	}
	// These go into text columns, which hold neither NUL nor invalid UTF-8.
	for _, f := range []struct{ name, value string }{
		{"id", d.GetId()}, {"code", d.GetCode()}, {"cluster", d.GetCluster()}, {"cluster_alias", d.GetClusterAlias()},
	} {
		if err := Text(f.value); err != nil {
			return fmt.Errorf("%s %w", f.name, err)
		}
	}
	switch {
	case d.GetId() == "":
		return errors.New("id is empty")
	case d.GetCode() == "":
		return errors.New("code is empty")
	case d.GetDetectedAt() == nil:
		return errors.New("detected_at is missing")
	}
	if _, err := topology.KeyFromProto(d.GetInstance()); err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	for _, f := range []struct {
		name string
		ts   *timestamppb.Timestamp
	}{
		{"detected_at", d.GetDetectedAt()}, {"changed_at", d.GetChangedAt()}, {"cleared_at", d.GetClearedAt()},
	} {
		if f.ts == nil {
			continue
		}
		if err := f.ts.CheckValid(); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return nil
}

// Text reports whether s can be stored as text: valid UTF-8 without NUL.
func Text(s string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return errors.New("contains a NUL character")
	}
	return nil
}

// KeepIdentity returns d with the identity of first: its code, cluster,
// cluster_alias, instance and detected_at, which never change once a
// detection is stored. It returns d itself when they are the same, or else a
// copy: d is not modified.
func KeepIdentity(d, first *analyzerv1.Detection) *analyzerv1.Detection {
	if d.GetCode() == first.GetCode() && d.GetCluster() == first.GetCluster() &&
		d.GetClusterAlias() == first.GetClusterAlias() &&
		proto.Equal(d.GetInstance(), first.GetInstance()) && proto.Equal(d.GetDetectedAt(), first.GetDetectedAt()) {
		return d
	}
	out := proto.CloneOf(d)
	out.Code, out.Cluster, out.ClusterAlias = first.GetCode(), first.GetCluster(), first.GetClusterAlias()
	out.Instance, out.DetectedAt = proto.CloneOf(first.GetInstance()), proto.CloneOf(first.GetDetectedAt())
	return out
}

// CompareDetections orders detections as ListDetections returns them:
// newest detected_at (at the precision stores keep) first, then the greater
// id (bytewise, as PostgreSQL's "C" collation does).
func CompareDetections(a, b *analyzerv1.Detection) int {
	return cmp.Or(
		Time(b.GetDetectedAt().AsTime()).Compare(Time(a.GetDetectedAt().AsTime())),
		strings.Compare(b.GetId(), a.GetId()),
	)
}

// Cursor is where a page starts: after the detection (or recovery) with
// this detected_at (started_at) and id, in list order.
type Cursor struct {
	At time.Time
	ID string
}

// After reports whether d comes after c in ListDetections order.
func (c Cursor) After(d *analyzerv1.Detection) bool {
	return cmp.Or(
		c.At.Compare(Time(d.GetDetectedAt().AsTime())),
		strings.Compare(c.ID, d.GetId()),
	) > 0
}

// CursorOf returns the cursor of the page that follows d.
func CursorOf(d *analyzerv1.Detection) Cursor {
	return Cursor{At: Time(d.GetDetectedAt().AsTime()), ID: d.GetId()}
}

// Token encodes c as a page token: base64 of "<detected_at unix
// microseconds>/<id>".
func (c Cursor) Token() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + "/" + c.ID))
}

// DetectionPage checks a filter for ListDetections and returns its page
// size and the cursor its page token names (ok is false for the first page).
func DetectionPage(f store.DetectionFilter) (size int, c Cursor, ok bool, err error) {
	switch {
	case f.PageSize < 0:
		return 0, Cursor{}, false, fmt.Errorf("%w: page size %d is negative", store.ErrInvalidArgument, f.PageSize)
	case f.PageSize == 0:
		size = store.DefaultPageSize
	default:
		size = min(f.PageSize, store.MaxPageSize)
	}
	if !f.Instance.IsZero() {
		if err := f.Instance.Validate(); err != nil {
			return 0, Cursor{}, false, fmt.Errorf("%w: instance: %w", store.ErrInvalidArgument, err)
		}
	}
	if f.PageToken == "" {
		return size, Cursor{}, false, nil
	}
	c, err = parseToken(f.PageToken)
	if err != nil {
		return 0, Cursor{}, false, fmt.Errorf("%w: page token %q: %w", store.ErrInvalidArgument, f.PageToken, err)
	}
	return size, c, true, nil
}

var errNotAToken = errors.New("is not one ListDetections returned")

// parseToken decodes a page token made by Cursor.Token.
func parseToken(token string) (Cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return Cursor{}, errNotAToken
	}
	micros, id, _ := strings.Cut(string(raw), "/")
	n, err := strconv.ParseInt(micros, 10, 64)
	at := time.UnixMicro(n).UTC()
	if err != nil || id == "" || Text(id) != nil || timestamppb.New(at).CheckValid() != nil {
		return Cursor{}, errNotAToken
	}
	return Cursor{At: at, ID: id}, nil
}
