package mysql

import (
	"testing"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

func TestParsePromotionRule(t *testing.T) {
	tests := map[string]topologyv1.PromotionRule{
		"must":       topologyv1.PromotionRule_PROMOTION_RULE_MUST,
		" Prefer\n":  topologyv1.PromotionRule_PROMOTION_RULE_PREFER,
		"neutral":    topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL,
		"prefer_not": topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT,
		"prefer-not": topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT,
		"MUST_NOT":   topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT,
	}
	for in, want := range tests {
		got, err := parsePromotionRule(in)
		if err != nil || got != want {
			t.Errorf("parsePromotionRule(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "always", "must not"} {
		if got, err := parsePromotionRule(bad); err == nil || got != topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED {
			t.Errorf("parsePromotionRule(%q) = %v, %v; want an error", bad, got, err)
		}
	}
}

func TestClassifierPatterns(t *testing.T) {
	c, err := newClassifier(ClassificationConfig{
		DataCenterPattern: `^db\d+\.([a-z0-9]+)\.`,
		RegionPattern:     `\.(eu|us)-`,
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host, preset, dc, region string
	}{
		{"db1.fra1.eu-central.example.com", "", "fra1", "eu"},
		{"db1.fra1.eu-central.example.com", "from-query", "from-query", "eu"},
		{"127.0.0.1", "", "", ""},
	}
	for _, tt := range tests {
		cl := &topologyv1.Classification{DataCenter: tt.preset}
		c.applyPatterns(cl, tt.host)
		if cl.DataCenter != tt.dc || cl.Region != tt.region {
			t.Errorf("%s (preset %q): dc %q region %q, want %q %q", tt.host, tt.preset, cl.DataCenter, cl.Region, tt.dc, tt.region)
		}
	}
}

func TestClassifierPromotionRulePatterns(t *testing.T) {
	c, err := newClassifier(ClassificationConfig{PromotionRulePatterns: []PromotionRulePattern{
		{Pattern: `^backup-`, Rule: "must_not"}, {Pattern: `\.fra1\.`, Rule: "prefer"}, {Pattern: `^backup-`, Rule: "must"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host   string
		preset topologyv1.PromotionRule
		want   topologyv1.PromotionRule
	}{
		{"backup-1.fra1.example", 0, topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT},
		{"db-1.fra1.example", 0, topologyv1.PromotionRule_PROMOTION_RULE_PREFER},
		{"db-1.fra1.example", topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL, topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL},
		{"db-1.ams1.example", 0, topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED},
	}
	for _, tt := range tests {
		cl := &topologyv1.Classification{PromotionRule: tt.preset}
		c.applyPatterns(cl, tt.host)
		if cl.PromotionRule != tt.want {
			t.Errorf("%s (preset %s): %s, want %s", tt.host, tt.preset, cl.PromotionRule, tt.want)
		}
	}
}

func TestNewProberValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  ProberConfig
	}{
		{"no user", ProberConfig{}},
		{"bad regexp", ProberConfig{Credentials: Credentials{User: "u"}, Classification: ClassificationConfig{DataCenterPattern: "("}}},
		{"no capture group", ProberConfig{Credentials: Credentials{User: "u"}, Classification: ClassificationConfig{RegionPattern: "eu"}}},
		{"two capture groups", ProberConfig{Credentials: Credentials{User: "u"}, Classification: ClassificationConfig{RegionPattern: "(a)(b)"}}},
		{"negative timeout", ProberConfig{Credentials: Credentials{User: "u"}, ReadTimeout: -1}},
		{"bad rule pattern", ProberConfig{Credentials: Credentials{User: "u"}, Classification: ClassificationConfig{PromotionRulePatterns: []PromotionRulePattern{{Pattern: "(", Rule: "prefer"}}}}},
		{"unknown rule", ProberConfig{Credentials: Credentials{User: "u"}, Classification: ClassificationConfig{PromotionRulePatterns: []PromotionRulePattern{{Pattern: "db", Rule: "maybe"}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewProber(tt.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
	p, err := NewProber(ProberConfig{Credentials: Credentials{User: "u"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.Config(); got.ConnectTimeout != DefaultConnectTimeout || got.ReadTimeout != DefaultReadTimeout {
		t.Errorf("defaults not applied: %v", got)
	}
}
