package recognition_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// rawECDSA measures, in the same run, the primitive the evidence
// operations are built on: one P-256 signature or verification of a SHA-256
// digest, averaged over 2,000 operations. (testing.Benchmark cannot be
// nested inside a running benchmark.)
func rawECDSA(key crypto.Signer, verify bool) float64 {
	digest := sha256.Sum256([]byte("manifest"))
	sig, _ := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	pub := key.Public().(*ecdsa.PublicKey)
	const n = 2000
	start := time.Now()
	for range n {
		if verify {
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				panic("verify")
			}
		} else if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			panic(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// BenchmarkSeal: sealing the Offline evidence (canonical manifest, CAdES
// signature) against one raw P-256 signature.
func BenchmarkSeal(b *testing.B) {
	p := newPKI(b)
	ev := offlineEvidenceB(b)
	_, key := p.issuing.IssueEvidenceCert(b)
	raw := rawECDSA(key, false)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.sealer.Seal(ctx, &ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/raw, "x_raw_sign")
}

// BenchmarkVerifySealed: offline verification of a sealed bundle (chain of
// three, manifest, four artefacts) against one raw P-256 verification.
func BenchmarkVerifySealed(b *testing.B) {
	p := newPKI(b)
	ev := offlineEvidenceB(b)
	sealed, err := p.sealer.Seal(context.Background(), &ev)
	if err != nil {
		b.Fatal(err)
	}
	_, key := p.issuing.IssueEvidenceCert(b)
	raw := rawECDSA(key, true)
	opts := recognition.SealVerifyOptions{Roots: p.root.Pool()}
	b.ResetTimer()
	for b.Loop() {
		if _, err := recognition.VerifySealed(sealed, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/raw, "x_raw_verify")
}

// cleanScanner stands in for clamd so the benchmark measures the .p7m
// verification itself.
type cleanScanner struct{}

func (cleanScanner) Scan(_ context.Context, r io.Reader) (recognition.ScanResult, error) {
	_, err := io.Copy(io.Discard, r)
	return recognition.ScanResult{Clean: true, Engine: "none"}, err
}

// BenchmarkSignIDVerify: the whole Sign ID verification of a .p7m (CMS
// signature, chain, CRL signature, qualified checks, identity match) against
// one raw P-256 verification.
func BenchmarkSignIDVerify(b *testing.B) {
	p := newPKI(b)
	a := applicant(b)
	now := time.Now()
	cert, key := p.issuing.Issue(b, recognitiontest.Person{GivenName: a.GivenName, Surname: a.Surname, TaxCode: a.TaxCode,
		Qualified: true, NonRepudiation: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	p7m := recognitiontest.SignP7M(b, recognitiontest.PDF("form"), cert, key, p.issuing.Chain(), recognitiontest.SignOptions{})
	crl := p.issuing.CRL(b, now.Add(-time.Minute), now.Add(time.Hour), now)
	v, err := recognition.NewSignID(recognition.SignIDConfig{Roots: p.root.Pool(), CRLs: recognition.StaticCRLs{crl}, Scanner: cleanScanner{}})
	if err != nil {
		b.Fatal(err)
	}
	s := recognition.Submission{OrderID: "o", Applicant: a, Operator: operator(recognition.RoleRAO), Consents: consents(),
		Uploads: append(documentUploads(), recognition.Upload{Kind: recognition.KindSignedForm, Data: p7m})}
	raw := rawECDSA(key, true)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/raw, "x_raw_verify")
}

func offlineEvidenceB(b *testing.B) recognition.Evidence {
	b.Helper()
	v, err := recognition.NewOffline(recognition.OfflineConfig{Now: clock(fixedNow)})
	if err != nil {
		b.Fatal(err)
	}
	s := recognition.Submission{
		OrderID: "ord-1", Applicant: applicant(b), Operator: operator(recognition.RoleRAO), Consents: consents(),
		Uploads: append(documentUploads(),
			recognition.Upload{Kind: recognition.KindSignedPaperForm, Data: recognitiontest.PDF("form")},
			recognition.Upload{Kind: recognition.KindReport, Data: bytes.Repeat([]byte("%PDF-"), 1)}),
	}
	ev, err := v.Verify(context.Background(), s)
	if err != nil {
		b.Fatal(err)
	}
	return ev
}

// BenchmarkClamAVScan: one INSTREAM scan of a small PDF by a real clamd
// over its Unix socket.
func BenchmarkClamAVScan(b *testing.B) {
	d := recognitiontest.StartClamd(b)
	c, err := recognition.NewClamAV(recognition.ClamAVConfig{Address: d.Socket})
	if err != nil {
		b.Fatal(err)
	}
	form := recognitiontest.PDF("form")
	ctx := context.Background()
	for b.Loop() {
		res, err := c.Scan(ctx, bytes.NewReader(form))
		if err != nil || !res.Clean {
			b.Fatal(res, err)
		}
	}
}
