package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigil-db/vigil/pkg/store"
	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func registerCandidate(t *testing.T, s store.Store, c store.Candidate) {
	t.Helper()
	if err := s.RegisterCandidate(context.Background(), c); err != nil {
		t.Fatalf("RegisterCandidate(%+v): %v", c, err)
	}
}

func checkCandidates(t *testing.T, s store.Store, now time.Time, want ...store.Candidate) {
	t.Helper()
	got, err := s.ListCandidates(context.Background(), now)
	if err != nil {
		t.Fatalf("ListCandidates(%v): %v", now, err)
	}
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Key == w.Key && g.Rule == w.Rule && g.By == w.By &&
			g.RegisteredAt.Equal(w.RegisteredAt) && g.ExpiresAt.Equal(w.ExpiresAt) &&
			g.RegisteredAt.Location() == time.UTC && g.ExpiresAt.Location() == time.UTC
	}
	if !same {
		t.Errorf("ListCandidates(%v) =\n\t%+v\nwant (times in UTC)\n\t%+v", now, got, want)
	}
}

var (
	rulePrefer  = topologyv1.PromotionRule_PROMOTION_RULE_PREFER
	ruleMustNot = topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT
)

func testCandidatesRegister(t *testing.T, s store.Store) {
	a, b, c, d := key("db2", 3306), key("db10", 3306), key("db2", 3305), key("DB3", 3306)
	paris := time.FixedZone("CET", 3600)
	ca := store.Candidate{Key: a, Rule: rulePrefer, By: "alice@example.com", RegisteredAt: at(0), ExpiresAt: at(3600)}
	cb := store.Candidate{Key: b, Rule: ruleMustNot, By: "bob", RegisteredAt: at(10).In(paris), ExpiresAt: at(100).Add(789 * time.Nanosecond)}
	cc := store.Candidate{Key: c, Rule: topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL, By: "", RegisteredAt: at(20), ExpiresAt: at(7200)}
	cd := store.Candidate{Key: d, Rule: topologyv1.PromotionRule_PROMOTION_RULE_MUST, By: strings.Repeat("é", store.MaxCandidateBy), RegisteredAt: at(30), ExpiresAt: at(7200)}
	for _, x := range []store.Candidate{ca, cb, cc, cd} {
		registerCandidate(t, s, x)
	}
	wantB := cb
	wantB.RegisteredAt, wantB.ExpiresAt = at(10), at(100)
	checkCandidates(t, s, at(50), cd, wantB, cc, ca) // hosts bytewise: DB3 < db10 < db2, then ports
	checkCandidates(t, s, at(100), cd, cc, ca)
	checkCandidates(t, s, at(3600), cd, cc)
	checkCandidates(t, s, at(7200))
}

func testCandidatesReplace(t *testing.T, s store.Store) {
	a := key("db1", 3306)
	registerCandidate(t, s, store.Candidate{Key: a, Rule: rulePrefer, By: "alice", RegisteredAt: at(0), ExpiresAt: at(100)})
	mustNot := store.Candidate{Key: a, Rule: ruleMustNot, By: "bob", RegisteredAt: at(10), ExpiresAt: at(20)}
	registerCandidate(t, s, mustNot)
	checkCandidates(t, s, at(15), mustNot)
	checkCandidates(t, s, at(50))

	// An expired registration is replaced too.
	again := store.Candidate{Key: a, Rule: rulePrefer, By: "carol", RegisteredAt: at(60), ExpiresAt: at(70)}
	registerCandidate(t, s, again)
	checkCandidates(t, s, at(65), again)
}

func testCandidatesExpired(t *testing.T, s store.Store) {
	c := store.Candidate{Key: key("db1", 3306), Rule: rulePrefer, By: "alice", RegisteredAt: at(0), ExpiresAt: at(10)}
	registerCandidate(t, s, c)
	checkCandidates(t, s, at(-5), c) // registered later, but in force until it expires
	checkCandidates(t, s, at(10).Add(-time.Microsecond), c)
	checkCandidates(t, s, at(10))
	checkCandidates(t, s, at(11))
}

func testCandidatesInvalid(t *testing.T, s store.Store) {
	ctx := context.Background()
	good := store.Candidate{Key: key("db1", 3306), Rule: rulePrefer, By: "alice", RegisteredAt: at(0), ExpiresAt: at(100)}
	registerCandidate(t, s, good)
	tests := map[string]func(c *store.Candidate){
		"port 0":                      func(c *store.Candidate) { c.Key.Port = 0 },
		"empty host":                  func(c *store.Candidate) { c.Key.Host = "" },
		"bad host":                    func(c *store.Candidate) { c.Key.Host = "db/1" },
		"unspecified rule":            func(c *store.Candidate) { c.Rule = topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED },
		"unknown rule":                func(c *store.Candidate) { c.Rule = 42 },
		"negative rule":               func(c *store.Candidate) { c.Rule = -1 },
		"by too long":                 func(c *store.Candidate) { c.By = strings.Repeat("x", store.MaxCandidateBy+1) },
		"by not UTF-8":                func(c *store.Candidate) { c.By = "bob\xff" },
		"by with NUL":                 func(c *store.Candidate) { c.By = "a\x00b" },
		"no registered_at":            func(c *store.Candidate) { c.RegisteredAt = time.Time{} },
		"no expires_at":               func(c *store.Candidate) { c.ExpiresAt = time.Time{} },
		"expires when registered":     func(c *store.Candidate) { c.ExpiresAt = c.RegisteredAt },
		"expires before registered":   func(c *store.Candidate) { c.ExpiresAt = at(-1) },
		"expires within a µs":         func(c *store.Candidate) { c.ExpiresAt = c.RegisteredAt.Add(999 * time.Nanosecond) },
		"expires after year 9999":     func(c *store.Candidate) { c.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"registered before year 0001": func(c *store.Candidate) { c.RegisteredAt = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			c := good
			c.Rule, c.By = ruleMustNot, "mallory"
			change(&c)
			if err := s.RegisterCandidate(ctx, c); !errors.Is(err, store.ErrInvalidArgument) {
				t.Errorf("RegisterCandidate(%+v) = %v, want ErrInvalidArgument", c, err)
			}
			checkCandidates(t, s, at(50), good)
		})
	}
	if _, err := s.ListCandidates(ctx, time.Time{}); !errors.Is(err, store.ErrInvalidArgument) {
		t.Errorf("ListCandidates(zero time) = %v, want ErrInvalidArgument", err)
	}
}
