package crl

import (
	"fmt"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// Linter runs zlint's revocation-list lints from RFC 5280 and the
// community source on signed CRLs. The CA/Browser Forum TLS lints are left
// out: they judge TLS server CAs, and registra's CA issues qualified
// signature certificates (COMPONENTS.md).
type Linter struct {
	registry lint.Registry
}

// NewLinter builds the filtered registry once.
func NewLinter() (*Linter, error) {
	r, err := lint.GlobalRegistry().Filter(lint.FilterOptions{
		IncludeSources: lint.SourceList{lint.RFC5280, lint.Community},
	})
	if err != nil {
		return nil, fmt.Errorf("crl: lint registry: %w", err)
	}
	return &Linter{registry: r}, nil
}

// Lint parses der with zcrypto and runs the lints. A warning, error or
// fatal result is a [*LintError]: nothing is published on a warning
// either.
func (l *Linter) Lint(der []byte) error {
	rl, err := zx509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("%w: zcrypto cannot parse the crl: %w", ErrLint, err)
	}
	rs := zlint.LintRevocationListEx(rl, l.registry)
	bad := map[string]string{}
	for name, r := range rs.Results {
		if r.Status == lint.Warn || r.Status == lint.Error || r.Status == lint.Fatal {
			bad[name] = r.Status.String() + ": " + r.Details
		}
	}
	if len(bad) > 0 {
		return &LintError{Results: bad}
	}
	return nil
}
