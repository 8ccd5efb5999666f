package topology

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func mustParseMariaDBGTIDPos(t testing.TB, s string) MariaDBGTIDPos {
	t.Helper()
	pos, err := ParseMariaDBGTIDPos(s)
	if err != nil {
		t.Fatalf("ParseMariaDBGTIDPos(%q): %v", s, err)
	}
	return pos
}

func TestParseMariaDBGTIDPos(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want MariaDBGTIDPos
		str  string
	}{
		{name: "empty", in: "", want: MariaDBGTIDPos{}, str: ""},
		{name: "blank", in: " \n", want: MariaDBGTIDPos{}, str: ""},
		{name: "one domain", in: "0-1-100", want: MariaDBGTIDPos{0: {Domain: 0, ServerID: 1, Seq: 100}}, str: "0-1-100"},
		{
			name: "sorted by domain", in: "1-2-50,0-1-100",
			want: MariaDBGTIDPos{0: {Domain: 0, ServerID: 1, Seq: 100}, 1: {Domain: 1, ServerID: 2, Seq: 50}},
			str:  "0-1-100,1-2-50",
		},
		{
			name: "spaces and newlines", in: " 0-1-100 ,\n 10-3-7\n",
			want: MariaDBGTIDPos{0: {Domain: 0, ServerID: 1, Seq: 100}, 10: {Domain: 10, ServerID: 3, Seq: 7}},
			str:  "0-1-100,10-3-7",
		},
		{
			name: "largest values", in: "4294967295-4294967295-18446744073709551615",
			want: MariaDBGTIDPos{4294967295: {Domain: 4294967295, ServerID: 4294967295, Seq: 18446744073709551615}},
			str:  "4294967295-4294967295-18446744073709551615",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMariaDBGTIDPos(tt.in)
			if err != nil {
				t.Fatalf("ParseMariaDBGTIDPos(%q): %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseMariaDBGTIDPos(%q) = %v, want %v", tt.in, got, tt.want)
			}
			if got.String() != tt.str {
				t.Errorf("String() = %q, want %q", got.String(), tt.str)
			}
		})
	}
}

func TestParseMariaDBGTIDPosErrors(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		wantInError string
	}{
		{name: "two parts", in: "0-100", wantInError: `"0-100" is not domain-server-seq`},
		{name: "four parts", in: "0-1-2-3", wantInError: `"0-1-2-3"`},
		{name: "mysql set", in: uuidA + ":1-5", wantInError: "is not domain-server-seq"},
		{name: "non-number domain", in: "x-1-100", wantInError: `domain "x"`},
		{name: "non-number server", in: "0-y-100", wantInError: `server_id "y"`},
		{name: "non-number seq", in: "0-1-z", wantInError: `sequence number "z"`},
		{name: "negative", in: "-1-1-100", wantInError: `"-1-1-100"`},
		{name: "domain too large", in: "4294967296-1-1", wantInError: `domain "4294967296"`},
		{name: "empty entry", in: "0-1-100,,1-1-1", wantInError: `"" is not domain-server-seq`},
		{name: "trailing comma", in: "0-1-100,", wantInError: `"" is not domain-server-seq`},
		{name: "domain twice", in: "0-1-100,0-2-101", wantInError: "domain 0 appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMariaDBGTIDPos(tt.in)
			if !errors.Is(err, ErrInvalidGTID) {
				t.Fatalf("ParseMariaDBGTIDPos(%q) = %v, %v; want ErrInvalidGTID", tt.in, got, err)
			}
			if !strings.Contains(err.Error(), tt.wantInError) {
				t.Errorf("error %q does not name %q", err, tt.wantInError)
			}
		})
	}
}

func TestMariaDBGTIDPosCompare(t *testing.T) {
	tests := []struct {
		name      string
		a, b      string
		aAtLeastB bool
		bAtLeastA bool
		aAheadOfB []uint32
		bAheadOfA []uint32
	}{
		{name: "both empty", a: "", b: "", aAtLeastB: true, bAtLeastA: true},
		{name: "empty is reached by all", a: "0-1-5", b: "", aAtLeastB: true, aAheadOfB: []uint32{0}},
		{name: "equal", a: "0-1-100,1-2-50", b: "1-2-50,0-1-100", aAtLeastB: true, bAtLeastA: true},
		{name: "ahead in one domain", a: "0-1-101,1-2-50", b: "0-1-100,1-2-50", aAtLeastB: true, aAheadOfB: []uint32{0}},
		{
			name: "each ahead in a different domain", a: "0-1-101,1-2-49", b: "0-1-100,1-2-50",
			aAheadOfB: []uint32{0}, bAheadOfA: []uint32{1},
		},
		{name: "domain only on one side", a: "0-1-100,7-3-1", b: "0-1-100", aAtLeastB: true, aAheadOfB: []uint32{7}},
		{
			name: "server id is not compared", a: "0-2-100", b: "0-1-100",
			aAtLeastB: true, bAtLeastA: true,
		},
		{name: "seq decides across server ids", a: "0-2-99", b: "0-1-100", bAtLeastA: true, bAheadOfA: []uint32{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParseMariaDBGTIDPos(t, tt.a), mustParseMariaDBGTIDPos(t, tt.b)
			if got := a.AtLeast(b); got != tt.aAtLeastB {
				t.Errorf("a.AtLeast(b) = %v, want %v", got, tt.aAtLeastB)
			}
			if got := b.AtLeast(a); got != tt.bAtLeastA {
				t.Errorf("b.AtLeast(a) = %v, want %v", got, tt.bAtLeastA)
			}
			if got := a.DomainsAhead(b); !slices.Equal(got, tt.aAheadOfB) {
				t.Errorf("a.DomainsAhead(b) = %v, want %v", got, tt.aAheadOfB)
			}
			if got := b.DomainsAhead(a); !slices.Equal(got, tt.bAheadOfA) {
				t.Errorf("b.DomainsAhead(a) = %v, want %v", got, tt.bAheadOfA)
			}
		})
	}
}

func TestMariaDBGTIDPosStringUsesKey(t *testing.T) {
	// A hand-built position may leave Domain unset in its values.
	pos := MariaDBGTIDPos{3: {ServerID: 1, Seq: 9}, 0: {ServerID: 2, Seq: 4}}
	if got, want := pos.String(), "0-2-4,3-1-9"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
