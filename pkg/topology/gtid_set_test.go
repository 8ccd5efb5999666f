package topology

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

const (
	uuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
	uuidB = "896e7882-18fe-11ef-ab88-22222d34d411"
	uuidC = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
)

func mustParseGTIDSet(t testing.TB, s string) GTIDSet {
	t.Helper()
	set, err := ParseGTIDSet(s)
	if err != nil {
		t.Fatalf("ParseGTIDSet(%q): %v", s, err)
	}
	return set
}

func TestParseGTIDSet(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  string
		count uint64
	}{
		{name: "empty", in: "", want: "", count: 0},
		{name: "blank", in: " \n\t", want: "", count: 0},
		{name: "single transaction", in: uuidA + ":7", want: uuidA + ":7", count: 1},
		{name: "range and single", in: uuidA + ":1-5:7", want: uuidA + ":1-5:7", count: 6},
		{name: "two uuids sorted", in: uuidB + ":1-3," + uuidA + ":1-5:7-9", want: uuidA + ":1-5:7-9," + uuidB + ":1-3", count: 11},
		{name: "mysql newline separator", in: uuidA + ":1-5,\n" + uuidB + ":1-3\n", want: uuidA + ":1-5," + uuidB + ":1-3", count: 8},
		{name: "spaces around tokens", in: "  " + uuidA + " : 1 - 5 : 7 ,  " + uuidB + ":2 ", want: uuidA + ":1-5:7," + uuidB + ":2", count: 7},
		{name: "upper-case uuid", in: strings.ToUpper(uuidA) + ":1-2", want: uuidA + ":1-2", count: 2},
		{name: "adjacent intervals merge", in: uuidA + ":1-3:4-6", want: uuidA + ":1-6", count: 6},
		{name: "overlapping intervals merge", in: uuidA + ":1-5:3-8:2", want: uuidA + ":1-8", count: 8},
		{name: "unsorted intervals", in: uuidA + ":10-12:1-2:5", want: uuidA + ":1-2:5:10-12", count: 6},
		{name: "uuid repeated across entries", in: uuidA + ":1-3," + uuidB + ":1," + uuidA + ":4-5", want: uuidA + ":1-5," + uuidB + ":1", count: 6},
		{name: "largest transaction number", in: uuidA + ":9223372036854775807", want: uuidA + ":9223372036854775807", count: 1},
		{name: "tagged", in: uuidA + ":tag_1:1-5", want: uuidA + ":tag_1:1-5", count: 5},
		{name: "tag lower-cased", in: uuidA + ":Domain_1:1-3:15-21", want: uuidA + ":domain_1:1-3:15-21", count: 10},
		{name: "untagged then tags in one entry", in: uuidA + ":1-4:bb:1:aa:1-3", want: uuidA + ":1-4:aa:1-3:bb:1", count: 8},
		{name: "tags in separate entries", in: uuidA + ":Domain_2:8-52, " + uuidA + ":Domain_1:1-3", want: uuidA + ":domain_1:1-3:domain_2:8-52", count: 48},
		{name: "same tag twice merges", in: uuidA + ":t:1-2," + uuidA + ":T:3", want: uuidA + ":t:1-3", count: 3},
		{name: "tagged and untagged numbers are distinct", in: uuidA + ":1-3:t:1-3", want: uuidA + ":1-3:t:1-3", count: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGTIDSet(tt.in)
			if err != nil {
				t.Fatalf("ParseGTIDSet(%q): %v", tt.in, err)
			}
			if got.String() != tt.want {
				t.Errorf("String() = %q, want %q", got.String(), tt.want)
			}
			if got.Count() != tt.count {
				t.Errorf("Count() = %d, want %d", got.Count(), tt.count)
			}
			if got.IsEmpty() != (tt.count == 0) {
				t.Errorf("IsEmpty() = %v with %d transactions", got.IsEmpty(), tt.count)
			}
		})
	}
}

func TestParseGTIDSetErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		// wantInError is the part of the text the error must name.
		wantInError string
	}{
		{name: "missing colon", in: uuidA, wantInError: "missing ':'"},
		{name: "missing colon in second entry", in: uuidA + ":1," + uuidB, wantInError: uuidB},
		{name: "short uuid", in: "3e11fa47-71ca-11e1-9e33:1-5", wantInError: "3e11fa47-71ca-11e1-9e33"},
		{name: "non-hex uuid", in: "3e11fa47-71ca-11e1-9e33-c80aa942956z:1", wantInError: "c80aa942956z"},
		{name: "uuid without dashes", in: "3e11fa4771ca11e19e33c80aa9429562:1", wantInError: "3e11fa4771ca11e19e33c80aa9429562"},
		{name: "end before start", in: uuidA + ":5-3", wantInError: `"5-3" ends before it starts`},
		{name: "zero", in: uuidA + ":0-3", wantInError: "start at 1"},
		{name: "zero end", in: uuidA + ":0", wantInError: "start at 1"},
		{name: "non-number", in: uuidA + ":1-x", wantInError: `"x" is not a transaction number`},
		{name: "negative", in: uuidA + ":-1", wantInError: `"-1"`},
		{name: "above largest", in: uuidA + ":9223372036854775808", wantInError: "9223372036854775808"},
		{name: "overflow", in: uuidA + ":1-99999999999999999999", wantInError: "99999999999999999999"},
		{name: "empty interval", in: uuidA + ":1::3", wantInError: "empty interval"},
		{name: "trailing colon", in: uuidA + ":1:", wantInError: "empty interval"},
		{name: "empty entry", in: uuidA + ":1,," + uuidB + ":1", wantInError: "entry 2 of 3 is empty"},
		{name: "trailing comma", in: uuidA + ":1,", wantInError: "entry 2 of 2 is empty"},
		{name: "tag without intervals", in: uuidA + ":tag", wantInError: `tag "tag" has no intervals`},
		{name: "tag followed by tag", in: uuidA + ":a:b:1", wantInError: `tag "a" has no intervals`},
		{name: "tag too long", in: uuidA + ":" + strings.Repeat("t", 33) + ":1", wantInError: strings.Repeat("t", 33)},
		{name: "tag with dash", in: uuidA + ":my-tag:1", wantInError: "my-tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseGTIDSet(tt.in)
			if !errors.Is(err, ErrInvalidGTID) {
				t.Fatalf("ParseGTIDSet(%q) = %v, %v; want ErrInvalidGTID", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not name %q", err, tt.wantInError)
			}
		})
	}
}

func TestGTIDSetOperations(t *testing.T) {
	tests := []struct {
		name       string
		a, b       string
		aContainsB bool
		bContainsA bool
		union      string
		aMinusB    string
		bMinusA    string
		equal      bool
	}{
		{
			name: "both empty", a: "", b: "",
			aContainsB: true, bContainsA: true, union: "", aMinusB: "", bMinusA: "", equal: true,
		},
		{
			name: "empty and non-empty", a: uuidA + ":1-5", b: "",
			aContainsB: true, union: uuidA + ":1-5", aMinusB: uuidA + ":1-5", bMinusA: "",
		},
		{
			name: "equal written differently", a: uuidA + ":1-3:4-6", b: strings.ToUpper(uuidA) + ":1-6",
			aContainsB: true, bContainsA: true, union: uuidA + ":1-6", aMinusB: "", bMinusA: "", equal: true,
		},
		{
			name: "prefix", a: uuidA + ":1-10", b: uuidA + ":1-4",
			aContainsB: true, union: uuidA + ":1-10", aMinusB: uuidA + ":5-10", bMinusA: "",
		},
		{
			name: "hole in the middle", a: uuidA + ":1-10", b: uuidA + ":3-4:7",
			aContainsB: true, union: uuidA + ":1-10", aMinusB: uuidA + ":1-2:5-6:8-10", bMinusA: "",
		},
		{
			name: "overlap", a: uuidA + ":1-6", b: uuidA + ":4-9",
			union: uuidA + ":1-9", aMinusB: uuidA + ":1-3", bMinusA: uuidA + ":7-9",
		},
		{
			name: "gap filled by union", a: uuidA + ":1-3:7-9", b: uuidA + ":4-6",
			union: uuidA + ":1-9", aMinusB: uuidA + ":1-3:7-9", bMinusA: uuidA + ":4-6",
		},
		{
			name: "one interval spans several", a: uuidA + ":2-3:5-6:9", b: uuidA + ":1-10",
			bContainsA: true, union: uuidA + ":1-10", aMinusB: "", bMinusA: uuidA + ":1:4:7-8:10",
		},
		{
			name: "different uuids", a: uuidA + ":1-5", b: uuidB + ":1-5",
			union: uuidA + ":1-5," + uuidB + ":1-5", aMinusB: uuidA + ":1-5", bMinusA: uuidB + ":1-5",
		},
		{
			name: "superset over two uuids", a: uuidA + ":1-5," + uuidB + ":1-9", b: uuidB + ":2-3",
			aContainsB: true, union: uuidA + ":1-5," + uuidB + ":1-9", aMinusB: uuidA + ":1-5," + uuidB + ":1:4-9", bMinusA: "",
		},
		{
			name: "tag is part of the source", a: uuidA + ":1-5", b: uuidA + ":t:1-5",
			union: uuidA + ":1-5:t:1-5", aMinusB: uuidA + ":1-5", bMinusA: uuidA + ":t:1-5",
		},
		{
			name: "tagged subset", a: uuidA + ":1-5:t:1-5", b: uuidA + ":T:2",
			aContainsB: true, union: uuidA + ":1-5:t:1-5", aMinusB: uuidA + ":1-5:t:1:3-5", bMinusA: "",
		},
		{
			name: "largest transaction number", a: uuidA + ":1-9223372036854775807", b: uuidA + ":9223372036854775807",
			aContainsB: true, union: uuidA + ":1-9223372036854775807", aMinusB: uuidA + ":1-9223372036854775806", bMinusA: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParseGTIDSet(t, tt.a), mustParseGTIDSet(t, tt.b)
			if got := a.Contains(b); got != tt.aContainsB {
				t.Errorf("a.Contains(b) = %v, want %v", got, tt.aContainsB)
			}
			if got := b.Contains(a); got != tt.bContainsA {
				t.Errorf("b.Contains(a) = %v, want %v", got, tt.bContainsA)
			}
			if got := a.Union(b).String(); got != tt.union {
				t.Errorf("a.Union(b) = %q, want %q", got, tt.union)
			}
			if got := b.Union(a).String(); got != tt.union {
				t.Errorf("b.Union(a) = %q, want %q", got, tt.union)
			}
			if got := a.Subtract(b).String(); got != tt.aMinusB {
				t.Errorf("a.Subtract(b) = %q, want %q", got, tt.aMinusB)
			}
			if got := b.Subtract(a).String(); got != tt.bMinusA {
				t.Errorf("b.Subtract(a) = %q, want %q", got, tt.bMinusA)
			}
			if got := a.Equal(b); got != tt.equal {
				t.Errorf("a.Equal(b) = %v, want %v", got, tt.equal)
			}
			// The operands are values: no operation may change them.
			if a.String() != mustParseGTIDSet(t, tt.a).String() || b.String() != mustParseGTIDSet(t, tt.b).String() {
				t.Errorf("operands changed: a = %q, b = %q", a, b)
			}
		})
	}
}

func TestGTIDSetUUIDs(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		remove []string
		uuids  []string
		after  string
	}{
		{name: "empty", in: "", remove: []string{uuidA}, uuids: []string{}, after: ""},
		{
			name: "tagged and untagged counted once", in: uuidB + ":1," + uuidA + ":1-2:t:1",
			remove: nil, uuids: []string{uuidA, uuidB}, after: uuidA + ":1-2:t:1," + uuidB + ":1",
		},
		{
			name: "remove takes every tag", in: uuidA + ":1-2:t:1," + uuidB + ":1",
			remove: []string{uuidA}, uuids: []string{uuidA, uuidB}, after: uuidB + ":1",
		},
		{
			name: "remove is case-insensitive", in: uuidA + ":1," + uuidB + ":1," + uuidC + ":1",
			remove: []string{strings.ToUpper(uuidA), " " + uuidC + " "}, uuids: []string{uuidA, uuidB, uuidC}, after: uuidB + ":1",
		},
		{
			name: "unknown and malformed uuids match nothing", in: uuidA + ":1",
			remove: []string{uuidB, "not-a-uuid", ""}, uuids: []string{uuidA}, after: uuidA + ":1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set := mustParseGTIDSet(t, tt.in)
			if got := set.UUIDs(); !slices.Equal(got, tt.uuids) {
				t.Errorf("UUIDs() = %q, want %q", got, tt.uuids)
			}
			if got := set.RemoveUUIDs(tt.remove...).String(); got != tt.after {
				t.Errorf("RemoveUUIDs(%q) = %q, want %q", tt.remove, got, tt.after)
			}
			if set.String() != mustParseGTIDSet(t, tt.in).String() {
				t.Errorf("RemoveUUIDs changed its receiver to %q", set)
			}
		})
	}
}

func TestGTIDSetZeroValue(t *testing.T) {
	var zero GTIDSet
	other := mustParseGTIDSet(t, uuidA+":1-3")
	if !zero.IsEmpty() || zero.String() != "" || zero.Count() != 0 || len(zero.UUIDs()) != 0 {
		t.Fatalf("zero GTIDSet is not empty: %q", zero)
	}
	if !zero.Equal(mustParseGTIDSet(t, "")) {
		t.Error("zero GTIDSet does not equal the parsed empty set")
	}
	if got := zero.Union(other); !got.Equal(other) {
		t.Errorf("zero.Union = %q", got)
	}
	if got := other.Subtract(zero); !got.Equal(other) {
		t.Errorf("Subtract(zero) = %q", got)
	}
	if !other.Contains(zero) || zero.Contains(other) {
		t.Error("Contains with the zero set is wrong")
	}
}

func TestGTIDSetCountSaturates(t *testing.T) {
	var entries []string
	for _, u := range []string{uuidA, uuidB, uuidC} {
		entries = append(entries, u+":1-9223372036854775807")
	}
	if got := mustParseGTIDSet(t, strings.Join(entries, ",")).Count(); got != math.MaxUint64 {
		t.Errorf("Count() = %d, want %d", got, uint64(math.MaxUint64))
	}
}

// FuzzParseGTIDSet checks that the canonical form of any set that parses
// parses back to the same set, and that set algebra agrees with itself.
// Plain `go test` runs the seed corpus only.
func FuzzParseGTIDSet(f *testing.F) {
	for _, seed := range []string{
		"",
		uuidA + ":1-5:7-9",
		uuidA + ":1-3:4-6," + uuidB + ":1",
		strings.ToUpper(uuidA) + ":10-12:1-2,\n" + uuidB + ":3",
		uuidA + ":1-4:bb:1:AA:1-3," + uuidA + ":aa:4",
		uuidA + ":1-9223372036854775807",
		uuidA + ":0",
		uuidA + ":5-3",
		uuidA,
		" , ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseGTIDSet(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidGTID) {
				t.Fatalf("ParseGTIDSet(%q) error %v does not wrap ErrInvalidGTID", s, err)
			}
			return
		}
		canonical := set.String()
		again, err := ParseGTIDSet(canonical)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canonical, s, err)
		}
		if !again.Equal(set) || again.String() != canonical {
			t.Fatalf("%q parsed back from %q as %q", canonical, s, again)
		}
		if !set.Subtract(set).IsEmpty() || !set.Union(set).Equal(set) || !set.Contains(set) {
			t.Fatalf("set algebra of %q is inconsistent", canonical)
		}
	})
}
