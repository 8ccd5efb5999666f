package mysql

import (
	"fmt"
	"regexp"
	"strings"

	topologyv1 "github.com/vigil-db/vigil/proto/vigil/topology/v1"
)

// classifier applies a ClassificationConfig.
type classifier struct {
	queries      []classificationQuery // the configured ones, in a fixed order
	dataCenterRE *regexp.Regexp
	regionRE     *regexp.Regexp
	ruleREs      []ruleRE
}

// ruleRE is a compiled PromotionRulePattern.
type ruleRE struct {
	re   *regexp.Regexp
	rule topologyv1.PromotionRule
}

func newClassifier(cfg ClassificationConfig) (*classifier, error) {
	dc, err := compilePattern("data centre pattern", cfg.DataCenterPattern)
	if err != nil {
		return nil, err
	}
	region, err := compilePattern("region pattern", cfg.RegionPattern)
	if err != nil {
		return nil, err
	}
	c := &classifier{queries: configuredQueries(cfg), dataCenterRE: dc, regionRE: region}
	for i, p := range cfg.PromotionRulePatterns {
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return nil, fmt.Errorf("classification promotion rule pattern %d: %w", i, err)
		}
		rule, err := parsePromotionRule(p.Rule)
		if err != nil {
			return nil, fmt.Errorf("classification promotion rule pattern %d: %w", i, err)
		}
		c.ruleREs = append(c.ruleREs, ruleRE{re: re, rule: rule})
	}
	return c, nil
}

// classificationQuery is one configured query and where its answer goes.
type classificationQuery struct {
	field string
	query string
	set   func(*topologyv1.Classification, string) error
}

// configuredQueries lists the configured queries in a fixed order.
func configuredQueries(cfg ClassificationConfig) []classificationQuery {
	all := []classificationQuery{
		{"cluster alias", cfg.ClusterAliasQuery, func(cl *topologyv1.Classification, v string) error { cl.ClusterAlias = v; return nil }},
		{"cluster domain", cfg.ClusterDomainQuery, func(cl *topologyv1.Classification, v string) error { cl.ClusterDomain = v; return nil }},
		{"data centre", cfg.DataCenterQuery, func(cl *topologyv1.Classification, v string) error { cl.DataCenter = v; return nil }},
		{"region", cfg.RegionQuery, func(cl *topologyv1.Classification, v string) error { cl.Region = v; return nil }},
		{"physical environment", cfg.PhysicalEnvironmentQuery, func(cl *topologyv1.Classification, v string) error {
			cl.PhysicalEnvironment = v
			return nil
		}},
		{"promotion rule", cfg.PromotionRuleQuery, func(cl *topologyv1.Classification, v string) error {
			rule, err := parsePromotionRule(v)
			cl.PromotionRule = rule
			return err
		}},
		{"instance alias", cfg.InstanceAliasQuery, func(cl *topologyv1.Classification, v string) error { cl.InstanceAlias = v; return nil }},
	}
	out := all[:0]
	for _, q := range all {
		if q.query != "" {
			out = append(out, q)
		}
	}
	return out
}

// applyPatterns fills the data centre, region and promotion rule from the
// host name where no query set them.
func (c *classifier) applyPatterns(cl *topologyv1.Classification, host string) {
	for _, r := range c.ruleREs {
		if cl.PromotionRule != topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED {
			break
		}
		if r.re.MatchString(host) {
			cl.PromotionRule = r.rule
		}
	}
	if cl.DataCenter == "" {
		cl.DataCenter = firstGroup(c.dataCenterRE, host)
	}
	if cl.Region == "" {
		cl.Region = firstGroup(c.regionRE, host)
	}
}

// configured reports whether there is anything to classify with.
func (c *classifier) configured() bool {
	return c.dataCenterRE != nil || c.regionRE != nil || len(c.ruleREs) > 0 || len(c.queries) > 0
}

func firstGroup(re *regexp.Regexp, s string) string {
	if re == nil {
		return ""
	}
	if m := re.FindStringSubmatch(s); len(m) == 2 {
		return m[1]
	}
	return ""
}

// parsePromotionRule reads must, prefer, neutral, prefer_not or must_not
// (case and surrounding space ignored, '-' accepted for '_').
func parsePromotionRule(s string) (topologyv1.PromotionRule, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_") {
	case "must":
		return topologyv1.PromotionRule_PROMOTION_RULE_MUST, nil
	case "prefer":
		return topologyv1.PromotionRule_PROMOTION_RULE_PREFER, nil
	case "neutral":
		return topologyv1.PromotionRule_PROMOTION_RULE_NEUTRAL, nil
	case "prefer_not":
		return topologyv1.PromotionRule_PROMOTION_RULE_PREFER_NOT, nil
	case "must_not":
		return topologyv1.PromotionRule_PROMOTION_RULE_MUST_NOT, nil
	}
	return topologyv1.PromotionRule_PROMOTION_RULE_UNSPECIFIED,
		fmt.Errorf("promotion rule %q: want must, prefer, neutral, prefer_not or must_not", s)
}
