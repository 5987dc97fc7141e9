package registra_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"log"
	"math/big"
	"os"
	"time"

	"github.com/pquerna/otp/totp"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
)

// evidenceSealer returns a recognition.Sealer with a self-signed
// evidence-sealing certificate, and the pool that trusts it. A deployment
// uses a certificate of its own evidence CA.
func evidenceSealer(now time.Time) (*recognition.Sealer, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Evidence sealing"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Key: key})
	if err != nil {
		log.Fatal(err)
	}
	return sealer, pool
}

// code returns what the authenticator app shows for an enrolment at t.
func code(e registra.Enrolment, t time.Time) access.Passcode {
	c, err := totp.GenerateCode(e.Secret.Reveal(), t)
	if err != nil {
		log.Fatal(err)
	}
	return access.Passcode(c)
}

// Example opens a platform, bootstraps it, and takes a request from draft
// to an issued remote signature certificate: create, submit, recognise
// (offline), issue.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "registra-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	sealer, evidenceRoots := evidenceSealer(now)

	// Cheap Argon2id and PBKDF2 parameters keep the example fast; keep the
	// defaults in production.
	p, err := registra.Open(ctx, registra.Config{Dir: dir, EvidenceRoots: evidenceRoots,
		Now:       func() time.Time { return now },
		Access:    access.Config{Password: access.PasswordParams{Memory: 1024, Iterations: 1, Parallelism: 1}},
		VaultHash: envelope.HashParams{Time: 1, MemoryKiB: 1024, Threads: 1},
		CMS:       envelope.CMSConfig{Iterations: envelope.MinIterations}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	// A fresh platform: the first organisation and its admin, who creates
	// a RAO. The RAO confirms the TOTP enrolment, then logs in.
	const password = access.Password("a long example password")
	units := []registra.Unit{{ID: "rome", Name: "Rome office"}}
	if _, err := p.Bootstrap(ctx, registra.BootstrapInput{
		Organisation: registra.Organisation{ClientCode: "ACME", Name: "Acme S.p.A.", Units: units},
		Admin:        registra.OperatorInput{Username: "admin", Password: password},
	}); err != nil {
		log.Fatal(err)
	}
	_, enrolment, err := p.CreateOperator(ctx, registra.Actor{OperatorID: "admin"}, registra.OperatorInput{
		Username: "anna.rao", Name: "Anna Bianchi", Roles: []access.Role{access.RoleRAO}, Unit: "rome", Password: password})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.ConfirmTOTP(ctx, "anna.rao", password, code(enrolment, now)); err != nil {
		log.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	session, err := p.Login(ctx, "anna.rao", password, code(enrolment, now))
	if err != nil {
		log.Fatal(err)
	}
	rao, err := p.Authenticate(ctx, session.Token.Reveal())
	if err != nil {
		log.Fatal(err)
	}

	// The request: a remote qualified signature for Mario Rossi,
	// recognised in person (offline).
	born := time.Date(1985, 12, 10, 0, 0, 0, 0, time.UTC)
	tc, _ := taxcode.Compute(taxcode.Person{Surname: "Rossi", GivenName: "Mario", BirthDate: born, Sex: taxcode.Male, Place: "A562"})
	applicant := registra.Applicant{TaxCode: tc.String(), FirstName: "Mario", Surname: "Rossi", Sex: "M", BirthDate: born,
		BirthPlace: "A562", Email: "mario.rossi@example.org", Mobile: "+393401234567", PrivacyConsent: true,
		Document: registra.Document{Country: "IT", Type: "identity_card", Number: "CA00000AA",
			IssuedOn: now.AddDate(-1, 0, 0), ExpiresOn: now.AddDate(9, 0, 0)},
		Residence: registra.Address{Street: "Via Roma 1", PostalCode: "00100", City: "Roma", Country: "IT"}}
	order, err := p.CreateDraft(ctx, rao, registra.OrderInput{ProductType: registra.ProductRemoteSignature,
		Method: recognition.MethodOffline, Applicant: applicant})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", order.Status)
	if order, err = p.Submit(ctx, rao, order.ID); err != nil {
		log.Fatal(err)
	}
	fmt.Println("submitted:", order.Status)

	// Recognition: the offline verifier checks the uploads, the sealer
	// seals the evidence, the platform records it.
	offline, _ := recognition.NewOffline(recognition.OfflineConfig{Now: func() time.Time { return now }})
	evidence, err := offline.Verify(ctx, recognition.Submission{OrderID: order.ID,
		Applicant: recognition.Applicant{TaxCode: applicant.TaxCode, GivenName: "Mario", Surname: "Rossi"},
		Operator:  recognition.Operator{ID: "anna.rao", Name: "Anna Bianchi", Role: recognition.RoleRAO, Org: "ACME", Unit: "rome"},
		Consents:  []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: true}},
		Uploads: []recognition.Upload{
			{Kind: recognition.KindDocumentFront, Data: []byte("\xff\xd8\xff front")},
			{Kind: recognition.KindDocumentBack, Data: []byte("\xff\xd8\xff back")},
			{Kind: recognition.KindSignedPaperForm, Data: []byte("%PDF-1.7 signed form")},
			{Kind: recognition.KindReport, Data: []byte("%PDF-1.7 recognition report")},
		}})
	if err != nil {
		log.Fatal(err)
	}
	sealed, err := sealer.Seal(ctx, &evidence)
	if err != nil {
		log.Fatal(err)
	}
	if order, err = p.RecordRecognition(ctx, rao, order.ID, sealed); err != nil {
		log.Fatal(err)
	}
	fmt.Println("recognised:", order.Status)

	// Issuance: the key is generated by the platform, the activation codes
	// are sealed in an envelope opened with the holder's tax code.
	product, err := p.Issue(ctx, rao, order.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	if err != nil {
		log.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(product.Certificates[0].DER)
	fmt.Println("issued:", product.Status, cert.Subject.SerialNumber, len(product.Envelopes), "envelope")
	// Output:
	// created: draft
	// submitted: to_identify
	// recognised: to_issue
	// issued: active TINIT-RSSMRA85T10A562S 1 envelope
}
