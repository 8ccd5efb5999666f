package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// parseDSN parses a PostgreSQL URL or keyword/value DSN into a pool
// configuration. Its errors name the problem but never the password.
func parseDSN(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err == nil {
		return cfg, nil
	}
	// Not wrapped: pgx's parse errors quote the DSN, redacting the password
	// only on a best-effort basis, and net/url's quote it as is.
	return nil, fmt.Errorf("parse PostgreSQL DSN: %s", redact(parseProblem(err), dsn))
}

// parseProblem returns what is wrong according to err, without the DSN
// itself where err is known to quote it.
func parseProblem(err error) string {
	var pce *pgconn.ParseConfigError
	if !errors.As(err, &pce) {
		return err.Error()
	}
	text := pce.Error() // cannot parse `DSN`: msg[ (inner)]
	inner := errors.Unwrap(pce)
	if inner != nil {
		text = strings.TrimSuffix(text, " ("+inner.Error()+")")
	}
	if i := strings.LastIndex(text, "`: "); i >= 0 {
		text = text[i+len("`: "):]
	}
	var urlErr *url.Error
	switch {
	case errors.As(inner, &urlErr):
		return text + ": " + urlErr.Err.Error()
	case inner != nil:
		return text + ": " + inner.Error()
	}
	return text
}

// passwordValue matches a keyword/value or URL query password setting.
var passwordValue = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)`)

// redact replaces in text anything in dsn that may be a password.
func redact(text, dsn string) string {
	var secrets []string
	for _, m := range passwordValue.FindAllStringSubmatch(dsn, -1) {
		secrets = append(secrets, m[1], strings.Trim(m[1], "'"))
	}
	if _, rest, ok := strings.Cut(dsn, "://"); ok {
		// The userinfo ends at one of the @: try each.
		for at := range len(rest) {
			if rest[at] != '@' {
				continue
			}
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				secrets = append(secrets, pw)
			}
		}
	}
	// Longest first, so that a candidate is not cut up by a shorter one.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		if s == "" {
			continue
		}
		text = strings.ReplaceAll(text, s, "xxxxx")
		if unescaped, err := url.QueryUnescape(s); err == nil && unescaped != "" {
			text = strings.ReplaceAll(text, unescaped, "xxxxx")
		}
	}
	return text
}
