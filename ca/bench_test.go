package ca_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	zx509 "github.com/zmap/zcrypto/x509"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// Issuance benchmarks (issue #3, "Performance"), ECDSA P-256 issuing CA;
// run with -cpu 1, see BENCHMARKS.md:
//
//	(a) Issue: a qualified certificate from a public key through ca, linted;
//	(b) CreateCertificate: x509.CreateCertificate of an equivalent template
//	    with the same key;
//	(c) Sign: the raw crypto.Signer.Sign of that key on a SHA-256 digest.
//
// The three run as sub-benchmarks of one benchmark, in one process, so
// their ratios compare like with like.

type issuanceBench struct {
	iss    *ca.Issuer
	req    ca.Request
	tmpl   *x509.Certificate
	parent *x509.Certificate
	pub    crypto.PublicKey
	signer crypto.Signer
	digest []byte
}

func newIssuanceBench(b *testing.B) *issuanceBench {
	b.Helper()
	iss := catest.NewIssuer(b)
	key := catest.Key(b)
	req := ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: key.Public()}
	is, err := iss.Issue(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	c := is.Certificate
	// The equivalent template: the issued certificate's fields, with the
	// extensions x509 does not build itself passed through ExtraExtensions.
	tmpl := &x509.Certificate{
		SerialNumber:          c.SerialNumber,
		RawSubject:            c.RawSubject,
		NotBefore:             c.NotBefore,
		NotAfter:              c.NotAfter,
		KeyUsage:              c.KeyUsage,
		SubjectKeyId:          c.SubjectKeyId,
		OCSPServer:            c.OCSPServer,
		IssuingCertificateURL: c.IssuingCertificateURL,
		CRLDistributionPoints: c.CRLDistributionPoints,
		SignatureAlgorithm:    c.SignatureAlgorithm,
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(ca.OIDQCStatements) || e.Id.Equal(ca.OIDCertificatePolicies) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	sum := sha256.Sum256(c.RawTBSCertificate)
	return &issuanceBench{
		iss: iss, req: req, tmpl: tmpl, parent: iss.Hierarchy().Issuing(), pub: key.Public(),
		signer: iss.Hierarchy().IssuingSigner(), digest: sum[:],
	}
}

func (s *issuanceBench) issue(b *testing.B) {
	ctx := context.Background()
	start := cpuTime()
	for b.Loop() {
		if _, err := s.iss.Issue(ctx, s.req); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, "issuance/cpu-s")
}

// reportCPU reports the CPU time per operation and the operations per CPU
// second under the given unit name.
func reportCPU(b *testing.B, start time.Duration, rate string) {
	perOp := float64(cpuTime()-start) / float64(b.N)
	b.ReportMetric(perOp, "cpu-ns/op")
	if perOp > 0 {
		b.ReportMetric(1e9/perOp, rate)
	}
}

func (s *issuanceBench) createCertificate(b *testing.B) {
	start := cpuTime()
	for b.Loop() {
		if _, err := x509.CreateCertificate(rand.Reader, s.tmpl, s.parent, s.pub, s.signer); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, "certs/cpu-s")
}

func (s *issuanceBench) sign(b *testing.B) {
	start := cpuTime()
	for b.Loop() {
		if _, err := s.signer.Sign(rand.Reader, s.digest, crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, "signs/cpu-s")
}

func BenchmarkIssuance(b *testing.B) {
	s := newIssuanceBench(b)
	b.Run("a=Issue", s.issue)
	b.Run("b=CreateCertificate", s.createCertificate)
	b.Run("c=Sign", s.sign)
}

// BenchmarkPrepare isolates the first phase (build, capture TBS, throwaway
// signature, lint), for profiling.
func BenchmarkPrepare(b *testing.B) {
	s := newIssuanceBench(b)
	ctx := context.Background()
	start := cpuTime()
	for b.Loop() {
		if _, err := s.iss.Prepare(ctx, s.req); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start, "prepares/cpu-s")
}

// BenchmarkLint splits the cost of linting a prepared certificate: the
// zcrypto parse alone, the parse derived from the shape's base
// (lintparse.go), then parse + lints with the shape cache (derived parse,
// only the lints that apply, shape-only verdicts reused) and without it
// (full parse, every lint through zlint's Execute).
func BenchmarkLint(b *testing.B) {
	s := newIssuanceBench(b)
	ticket, err := s.iss.Prepare(context.Background(), s.req)
	if err != nil {
		b.Fatal(err)
	}
	l := s.iss.Linter()
	b.Run("parse", func(b *testing.B) {
		start := cpuTime()
		for b.Loop() {
			if _, err := zx509.ParseCertificate(ticket.LintCertificate); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start, "parses/cpu-s")
	})
	b.Run("derived", func(b *testing.B) {
		start := cpuTime()
		for b.Loop() {
			if _, ok := ca.DerivedParse(l, ticket.LintCertificate); !ok {
				b.Fatal("not derived")
			}
		}
		reportCPU(b, start, "parses/cpu-s")
	})
	b.Run("applicable", func(b *testing.B) {
		start := cpuTime()
		for b.Loop() {
			if err := l.CheckCertificate(ticket.LintCertificate, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start, "lints/cpu-s")
	})
	b.Run("all", func(b *testing.B) {
		start := cpuTime()
		for b.Loop() {
			if err := l.CheckCertificateFull(ticket.LintCertificate, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start, "lints/cpu-s")
	})
}
