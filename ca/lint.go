package ca

import (
	"fmt"
	"slices"
	"strings"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"

	// Our own lints register themselves with zlint's global registry here,
	// and only here (STYLE.md §2.12).
	_ "github.com/registra-pki/registra/ca/lints/etsi"
)

// certificateSources are the zlint sources that govern qualified signature
// certificates and the CA certificates above them. The CA/Browser Forum TLS
// and S/MIME rules do not apply to signature certificates (issue #3), and
// report false errors on them.
var certificateSources = lint.SourceList{
	lint.RFC5280, // certificate and CRL profile
	lint.RFC3279, // algorithm identifiers
	lint.RFC5480, // ECC subject public key information
	lint.RFC5891, // IDNA labels in names
	lint.RFC8813, // ECC key usage
	lint.EtsiEsi, // ETSI EN 319 412-x qualified certificate profiles
}

// crlSources are the zlint sources whose CRL lints [Linter] runs: the RFC
// 5280 CRL profile and the community lints on entries (duplicates,
// revocation dates).
var crlSources = lint.SourceList{lint.RFC5280, lint.Community}

// Exclusion is a zlint lint that [Linter] does not run, with the reason.
type Exclusion struct {
	// Lint is the zlint name.
	Lint string
	// Reason says why the lint does not apply to our certificates.
	Reason string
	// Citation names the clause or issue behind the reason.
	Citation string
}

// exclusions is the one table of lints switched off in the chosen sources.
// It is empty: every certificate registra makes passes every lint of those
// sources without error (TestZlintNoErrorPerProfile). The CA/Browser Forum,
// Mozilla, Apple, Chrome and community certificate lints are left out by
// source instead (issue #3: they govern TLS and S/MIME certificates, not
// signature certificates). A lint added here needs a reason and a citation,
// and TestExclusionsDocumented checks both.
var exclusions = []Exclusion{}

// Exclusions returns a copy of the table of excluded lints.
func Exclusions() []Exclusion { return slices.Clone(exclusions) }

// Linter runs the filtered zlint registry on certificates and CRLs before
// they are signed. Build it once ([NewLinter]) and share it: it is safe for
// concurrent use. Its only state is a bounded cache of which lints apply to
// each certificate shape (see lintshape.go), which never changes a verdict.
type Linter struct {
	registry  lint.Registry
	certs     []*lint.CertificateLint
	crls      []*lint.RevocationListLint
	config    lint.Configuration
	shapeOnly []bool
	shapes    *shapeCache
}

// NewLinter filters zlint's global registry to the sources that govern
// qualified certificates (RFC 5280, 3279, 5480, 5891, 8813 and ETSI ESI; for
// CRLs, RFC 5280 and the community CRL lints), removes the lints of [Exclusions], and includes
// registra's own lints (package ca/lints/etsi).
func NewLinter() (*Linter, error) {
	names := make([]string, len(exclusions))
	for i, e := range exclusions {
		names[i] = e.Lint
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{
		IncludeSources: certificateSources,
		ExcludeNames:   names,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: building lint registry: %w", err)
	}
	crlReg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{
		IncludeSources: crlSources,
		ExcludeNames:   names,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: building crl lint registry: %w", err)
	}
	return &Linter{
		registry:  reg,
		certs:     reg.CertificateLints().Lints(),
		crls:      crlReg.RevocationListLints().Lints(),
		config:    reg.GetConfiguration(),
		shapeOnly: shapeOnlyMask(reg.CertificateLints().Lints()),
		shapes:    &shapeCache{shapes: map[[32]byte]*shapeEntry{}},
	}, nil
}

// LintNames returns the names of the certificate lints the linter runs,
// sorted.
func (l *Linter) LintNames() []string {
	names := make([]string, 0, len(l.certs))
	for _, c := range l.certs {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// CheckCertificate lints a DER certificate (in registra, always one signed
// by a throwaway key). It returns nil when no lint reports an error or fatal
// result, and otherwise a [*LintError] naming each failing lint. what
// describes the certificate in the error message.
func (l *Linter) CheckCertificate(der []byte, what string) error {
	key, ok := certificateShape(der)
	var entry *shapeEntry
	if ok {
		entry = l.shapes.get(key)
	}
	var c *zx509.Certificate
	if entry != nil && entry.base != nil {
		c = entry.base.derive(der)
	}
	if c == nil {
		var err error
		if c, err = zx509.ParseCertificate(der); err != nil {
			return &LintError{Subject: what, Findings: []LintFinding{{Lint: "zcrypto_parse", Status: "fatal", Details: err.Error()}}}
		}
	}
	var findings []LintFinding
	report := func(cl *lint.CertificateLint, res *lint.LintResult) {
		if res.Status == lint.Error || res.Status == lint.Fatal {
			findings = append(findings, finding(cl.LintMetadata, res))
		}
	}
	if entry == nil {
		// First certificate of its shape: run everything, remember.
		learnt := &shapeEntry{applies: make([]bool, len(l.certs)), results: make([]*lint.LintResult, len(l.certs))}
		for i, cl := range l.certs {
			applies, res := runLint(cl, c, l.config)
			learnt.applies[i] = applies
			if applies && l.shapeOnly[i] && res.Status != lint.NE {
				learnt.results[i] = res
			}
			report(cl, res)
		}
		if ok {
			learnt.base = newParseBase(der)
			l.shapes.put(key, learnt)
		}
		return lintResult(what, findings)
	}
	for i, cl := range l.certs {
		switch {
		case !entry.applies[i]:
			// CheckApplies was false for this shape: NA.
		case !cl.CheckEffective(c):
			// Applies, but the rule was not in force at NotBefore: NE.
		case entry.results[i] != nil:
			report(cl, entry.results[i])
		default:
			report(cl, executeLint(cl, c, l.config))
		}
	}
	return lintResult(what, findings)
}

// CheckCertificateFull lints like [Linter.CheckCertificate] but runs every
// lint through zlint's own CertificateLint.Execute, without the shape cache.
// Tests use it to show that the cache never changes a verdict.
func (l *Linter) CheckCertificateFull(der []byte, what string) error {
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		return &LintError{Subject: what, Findings: []LintFinding{{Lint: "zcrypto_parse", Status: "fatal", Details: err.Error()}}}
	}
	var findings []LintFinding
	for _, cl := range l.certs {
		res := cl.Execute(c, l.config)
		if res.Status == lint.Error || res.Status == lint.Fatal {
			findings = append(findings, finding(cl.LintMetadata, res))
		}
	}
	return lintResult(what, findings)
}

func shapeOnlyMask(certs []*lint.CertificateLint) []bool {
	m := make([]bool, len(certs))
	for i, cl := range certs {
		m[i] = shapeOnly[cl.Name]
	}
	return m
}

// CheckRevocationList lints a DER CRL signed by a throwaway key.
func (l *Linter) CheckRevocationList(der []byte) error {
	r, err := zx509.ParseRevocationList(der)
	if err != nil {
		return &LintError{Subject: "crl", Findings: []LintFinding{{Lint: "zcrypto_parse", Status: "fatal", Details: err.Error()}}}
	}
	var findings []LintFinding
	for _, rl := range l.crls {
		res := rl.Execute(r, l.config)
		if res.Status == lint.Error || res.Status == lint.Fatal {
			findings = append(findings, finding(rl.LintMetadata, res))
		}
	}
	return lintResult("crl", findings)
}

// LintAll runs every lint of the registry through zlint's own entry point
// and returns the full result set; tests use it to check that each profile
// yields no error or fatal result.
func (l *Linter) LintAll(der []byte) (*zlint.ResultSet, error) {
	c, err := zx509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parsing certificate for lint: %w", err)
	}
	return zlint.LintCertificateEx(c, l.registry), nil
}

func finding(m lint.LintMetadata, res *lint.LintResult) LintFinding {
	return LintFinding{Lint: m.Name, Status: strings.ToLower(res.Status.String()), Details: res.Details, Citation: m.Citation}
}

func lintResult(what string, findings []LintFinding) error {
	if len(findings) == 0 {
		return nil
	}
	slices.SortFunc(findings, func(a, b LintFinding) int { return strings.Compare(a.Lint, b.Lint) })
	return &LintError{Subject: what, Findings: findings}
}
