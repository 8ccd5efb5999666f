package topology

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidGTID is wrapped by every error about malformed GTID text, of
// either dialect.
var ErrInvalidGTID = errors.New("invalid GTID")

// maxGNO is the largest transaction number MySQL hands out (2^63-1).
const maxGNO = math.MaxInt64

// maxTagLength is the longest GTID tag MySQL 8.4 accepts.
const maxTagLength = 32

// GTIDSet is a MySQL GTID set, as printed in gtid_executed, gtid_purged,
// Executed_Gtid_Set and Retrieved_Gtid_Set.
//
// A transaction source is a server UUID plus an optional tag (MySQL 8.4
// tagged GTIDs, "uuid:tag:n"); each source holds sorted, merged, inclusive
// intervals of transaction numbers. UUIDs and tags are kept in lower case.
// The zero value is the empty set. A GTIDSet is never changed in place: every
// operation returns a new set, so sets can be shared between goroutines.
type GTIDSet struct {
	sources map[gtidSource][]gnoInterval
}

// gtidSource is what MySQL calls a TSID: a server UUID and a tag, "" when
// untagged.
type gtidSource struct {
	uuid string
	tag  string
}

func compareSources(a, b gtidSource) int {
	if c := cmp.Compare(a.uuid, b.uuid); c != 0 {
		return c
	}
	return cmp.Compare(a.tag, b.tag)
}

// gnoInterval is an inclusive range of transaction numbers, 1 <= start <= end.
type gnoInterval struct {
	start, end uint64
}

// ParseGTIDSet parses a MySQL GTID set such as
// "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,<uuid>:tag:1-3".
//
// Entries are separated by commas, with any spaces or newlines around them
// (MySQL prints ",\n"). UUIDs and tags may be in any case. A UUID may appear
// in several entries, and within one entry a tag applies to the intervals
// that follow it ("uuid:1-4:tag:1-2" is four untagged and two tagged
// transactions). Blank text is the empty set. Errors wrap ErrInvalidGTID and
// quote the entry at fault.
func ParseGTIDSet(s string) (GTIDSet, error) {
	if strings.TrimSpace(s) == "" {
		return GTIDSet{}, nil
	}
	sources := make(map[gtidSource][]gnoInterval)
	entries := strings.Split(s, ",")
	for i, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return GTIDSet{}, fmt.Errorf("%w: entry %d of %d is empty", ErrInvalidGTID, i+1, len(entries))
		}
		if err := parseGTIDEntry(entry, sources); err != nil {
			return GTIDSet{}, fmt.Errorf("%w: set entry %q: %w", ErrInvalidGTID, entry, err)
		}
	}
	for src, ivs := range sources {
		sources[src] = normaliseIntervals(ivs)
	}
	return GTIDSet{sources: sources}, nil
}

// parseGTIDEntry adds one "uuid[:tag]:interval[:interval|:tag...]" entry to
// sources, leaving the intervals unsorted.
func parseGTIDEntry(entry string, sources map[gtidSource][]gnoInterval) error {
	fields := strings.Split(entry, ":")
	uuid := strings.TrimSpace(fields[0])
	if len(fields) == 1 {
		return fmt.Errorf("missing ':' after UUID %q", uuid)
	}
	if !isServerUUID(uuid) {
		return fmt.Errorf("UUID %q is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", uuid)
	}
	src := gtidSource{uuid: strings.ToLower(uuid)}
	intervalsSinceTag := 0
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
		switch {
		case f == "":
			return errors.New("empty interval")
		case isTagStart(f[0]):
			if src.tag != "" && intervalsSinceTag == 0 {
				return fmt.Errorf("tag %q has no intervals", src.tag)
			}
			if !isGTIDTag(f) {
				return fmt.Errorf("tag %q is not 1 to %d letters, digits or underscores starting with a letter or underscore", f, maxTagLength)
			}
			src.tag = strings.ToLower(f)
			intervalsSinceTag = 0
		default:
			iv, err := parseGNOInterval(f)
			if err != nil {
				return err
			}
			sources[src] = append(sources[src], iv)
			intervalsSinceTag++
		}
	}
	if intervalsSinceTag == 0 {
		if src.tag != "" {
			return fmt.Errorf("tag %q has no intervals", src.tag)
		}
		return fmt.Errorf("UUID %q has no intervals", uuid)
	}
	return nil
}

// parseGNOInterval parses "n" or "n-m".
func parseGNOInterval(s string) (gnoInterval, error) {
	startText, endText, isRange := strings.Cut(s, "-")
	start, err := parseGNO(strings.TrimSpace(startText), s)
	if err != nil {
		return gnoInterval{}, err
	}
	end := start
	if isRange {
		if end, err = parseGNO(strings.TrimSpace(endText), s); err != nil {
			return gnoInterval{}, err
		}
	}
	if end < start {
		return gnoInterval{}, fmt.Errorf("interval %q ends before it starts", s)
	}
	return gnoInterval{start: start, end: end}, nil
}

func parseGNO(s, interval string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Errorf("interval %q: %q is not a transaction number", interval, s)
	case n == 0:
		return 0, fmt.Errorf("interval %q: transaction numbers start at 1", interval)
	case n > maxGNO:
		return 0, fmt.Errorf("interval %q: %d is above the largest transaction number %d", interval, n, uint64(maxGNO))
	}
	return n, nil
}

// isServerUUID reports whether s is a UUID in the 8-4-4-4-12 hex form MySQL
// prints.
func isServerUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHexDigit(c) {
				return false
			}
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isTagStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isGTIDTag reports whether s is a valid MySQL 8.4 GTID tag.
func isGTIDTag(s string) bool {
	if len(s) == 0 || len(s) > maxTagLength || !isTagStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isTagStart(c) && !('0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// normaliseIntervals sorts ivs and merges overlapping and adjacent intervals,
// reusing ivs' storage.
func normaliseIntervals(ivs []gnoInterval) []gnoInterval {
	slices.SortFunc(ivs, func(a, b gnoInterval) int { return cmp.Compare(a.start, b.start) })
	out := ivs[:0]
	for _, iv := range ivs {
		// end+1 cannot overflow: ends are at most maxGNO.
		if n := len(out); n > 0 && iv.start <= out[n-1].end+1 {
			out[n-1].end = max(out[n-1].end, iv.end)
			continue
		}
		out = append(out, iv)
	}
	return out
}

// subtractIntervals returns the parts of a not in b; both must be normalised.
func subtractIntervals(a, b []gnoInterval) []gnoInterval {
	var out []gnoInterval
	j := 0
	for _, iv := range a {
		for j < len(b) && b[j].end < iv.start {
			j++
		}
		start := iv.start
		for k := j; k < len(b) && b[k].start <= iv.end; k++ {
			if b[k].start > start {
				out = append(out, gnoInterval{start: start, end: b[k].start - 1})
			}
			start = b[k].end + 1
		}
		if start <= iv.end {
			out = append(out, gnoInterval{start: start, end: iv.end})
		}
	}
	return out
}

// String returns the set in canonical form: sources sorted by UUID, untagged
// intervals before tagged ones, tags sorted, intervals merged, all in lower
// case, entries separated by "," without newlines. The empty set is "".
func (s GTIDSet) String() string {
	var b strings.Builder
	lastUUID := ""
	for _, src := range s.sortedSources() {
		if src.uuid != lastUUID {
			if lastUUID != "" {
				b.WriteByte(',')
			}
			b.WriteString(src.uuid)
			lastUUID = src.uuid
		}
		if src.tag != "" {
			b.WriteByte(':')
			b.WriteString(src.tag)
		}
		for _, iv := range s.sources[src] {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(iv.start, 10))
			if iv.end != iv.start {
				b.WriteByte('-')
				b.WriteString(strconv.FormatUint(iv.end, 10))
			}
		}
	}
	return b.String()
}

func (s GTIDSet) sortedSources() []gtidSource {
	return slices.SortedFunc(maps.Keys(s.sources), compareSources)
}

// IsEmpty reports whether the set holds no transaction.
func (s GTIDSet) IsEmpty() bool { return len(s.sources) == 0 }

// Count returns the number of transactions in the set, saturating at the
// largest uint64.
func (s GTIDSet) Count() uint64 {
	var n uint64
	for _, ivs := range s.sources {
		for _, iv := range ivs {
			size := iv.end - iv.start + 1
			if n > math.MaxUint64-size {
				return math.MaxUint64
			}
			n += size
		}
	}
	return n
}

// UUIDs returns the distinct server UUIDs in the set, sorted, whatever their
// tags.
func (s GTIDSet) UUIDs() []string {
	uuids := make([]string, 0, len(s.sources))
	for src := range s.sources {
		uuids = append(uuids, src.uuid)
	}
	slices.Sort(uuids)
	return slices.Compact(uuids)
}

// Equal reports whether both sets hold exactly the same transactions.
func (s GTIDSet) Equal(other GTIDSet) bool {
	return maps.EqualFunc(s.sources, other.sources, slices.Equal)
}

// Contains reports whether every transaction of other is also in s (s is a
// superset of other). Every set contains the empty set.
func (s GTIDSet) Contains(other GTIDSet) bool {
	for src, ivs := range other.sources {
		if len(subtractIntervals(ivs, s.sources[src])) > 0 {
			return false
		}
	}
	return true
}

// Union returns the transactions in s, in other, or in both.
func (s GTIDSet) Union(other GTIDSet) GTIDSet {
	out := make(map[gtidSource][]gnoInterval, len(s.sources)+len(other.sources))
	for src, ivs := range s.sources {
		out[src] = slices.Clone(ivs)
	}
	for src, ivs := range other.sources {
		out[src] = normaliseIntervals(append(out[src], ivs...))
	}
	return GTIDSet{sources: out}
}

// Subtract returns the transactions in s that are not in other.
func (s GTIDSet) Subtract(other GTIDSet) GTIDSet {
	out := make(map[gtidSource][]gnoInterval, len(s.sources))
	for src, ivs := range s.sources {
		if rest := subtractIntervals(ivs, other.sources[src]); len(rest) > 0 {
			out[src] = rest
		}
	}
	return GTIDSet{sources: out}
}

// RemoveUUIDs returns s without any transaction, tagged or not, whose server
// UUID is one of uuids. UUIDs are matched case-insensitively; text that is
// not a UUID matches nothing.
func (s GTIDSet) RemoveUUIDs(uuids ...string) GTIDSet {
	drop := make(map[string]bool, len(uuids))
	for _, u := range uuids {
		drop[strings.ToLower(strings.TrimSpace(u))] = true
	}
	out := make(map[gtidSource][]gnoInterval, len(s.sources))
	for src, ivs := range s.sources {
		if !drop[src.uuid] {
			out[src] = ivs // intervals are never changed in place, so sharing is safe
		}
	}
	return GTIDSet{sources: out}
}
