package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/registra-pki/registra/ca"
)

// exampleIssuer creates a throwaway hierarchy in a temporary directory and
// an issuer on it.
func exampleIssuer() (*ca.Issuer, func()) {
	dir, err := os.MkdirTemp("", "registra-example-")
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	h, err := ca.OpenHierarchy(ctx, ca.HierarchyConfig{
		Dir:          dir,
		Organization: "Example QTSP",
		KeyAlgorithm: ca.ECDSAP256,
	})
	if err != nil {
		panic(err)
	}
	iss, err := ca.NewIssuer(ca.Config{
		Hierarchy:    h,
		PolicyOID:    asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1},
		PDS:          []ca.PDSLocation{{URL: "https://qtsp.example/pds/en.pdf", Language: "en"}},
		CRLURL:       "http://crl.qtsp.example/issuing.crl",
		OCSPURL:      "http://ocsp.qtsp.example",
		CAIssuersURL: "http://crl.qtsp.example/issuing.cer",
	})
	if err != nil {
		panic(err)
	}
	return iss, func() { os.RemoveAll(dir) }
}

func ExampleOpenHierarchy() {
	dir, _ := os.MkdirTemp("", "registra-example-")
	defer os.RemoveAll(dir)
	cfg := ca.HierarchyConfig{Dir: dir, Organization: "Example QTSP", KeyAlgorithm: ca.ECDSAP384}
	h, err := ca.OpenHierarchy(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Opening the same directory again reuses the hierarchy.
	again, err := ca.OpenHierarchy(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Root().Subject.CommonName)
	fmt.Println(h.Issuing().Subject.CommonName, h.Issuing().MaxPathLenZero)
	fmt.Println(h.OCSP().ExtKeyUsage[0] == x509.ExtKeyUsageOCSPSigning)
	fmt.Println(again.KeyAlgorithm(), again.Issuing().Equal(h.Issuing()))
	// Output:
	// Example QTSP Root CA
	// Example QTSP Qualified CA true
	// true
	// ECDSA-P384 true
}

func ExampleIssuer_Issue() {
	iss, cleanup := exampleIssuer()
	defer cleanup()

	// A remote-signature key generated elsewhere (in the HSM).
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issued, err := iss.Issue(context.Background(), ca.Request{
		Profile:   ca.QualifiedNaturalPerson,
		Holder:    ca.Holder{TaxCode: "RSSMRA85T10A562S", GivenName: "Mario", Surname: "Rossi", IUT: "IUT-0000000001"},
		PublicKey: key.Public(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c := issued.Certificate
	fmt.Println(c.Subject.CommonName)
	fmt.Println(c.Subject.SerialNumber)
	fmt.Println(c.KeyUsage == x509.KeyUsageContentCommitment)
	fmt.Println(c.NotAfter.Sub(c.NotBefore) == 3*365*24*time.Hour)
	fmt.Println(c.CheckSignatureFrom(issued.Chain[0]) == nil)
	// Output:
	// Mario Rossi
	// TINIT-RSSMRA85T10A562S
	// true
	// true
	// true
}

func ExampleIssuer_Prepare() {
	iss, cleanup := exampleIssuer()
	defer cleanup()
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Phase one: validate, build, lint, reserve the serial.
	ticket, err := iss.Prepare(ctx, ca.Request{
		Profile:   ca.OneShot,
		Holder:    ca.Holder{TaxCode: "RSSMRA85T10A562S", GivenName: "Mario", Surname: "Rossi", IUT: "IUT-0000000001"},
		PublicKey: key.Public(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... store ticket.SerialNumber and ticket.TBS durably here ...

	// Phase two: sign exactly the linted TBS.
	issued, err := iss.Sign(ctx, ticket)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(issued.Certificate.SerialNumber.Cmp(ticket.SerialNumber) == 0)
	fmt.Println(issued.Certificate.NotAfter.Sub(issued.Certificate.NotBefore))
	_, err = iss.Sign(ctx, ticket)
	fmt.Println(errors.Is(err, ca.ErrTicket))
	// Output:
	// true
	// 1h0m0s
	// true
}

func ExampleIssuer_IssuePair() {
	iss, cleanup := exampleIssuer()
	defer cleanup()
	csr := func() []byte {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, k)
		return der
	}
	pair, err := iss.IssuePair(context.Background(), ca.PairRequest{
		Signature:      ca.Request{Holder: ca.Holder{TaxCode: "RSSMRA85T10A562S", GivenName: "Mario", Surname: "Rossi", IUT: "IUT-0000000001"}, CSR: csr()},
		Authentication: ca.Request{CSR: csr()},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pair.Signature.Profile, pair.Authentication.Profile)
	// Output: qualified authentication
}

func ExampleIssuer_Prepare_badInput() {
	iss, cleanup := exampleIssuer()
	defer cleanup()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err := iss.Prepare(context.Background(), ca.Request{
		Profile:   ca.QualifiedNaturalPerson,
		Holder:    ca.Holder{TaxCode: "RSSMRA85T10A562S", GivenName: "", Surname: "Rossi", IUT: "IUT-1"},
		PublicKey: key.Public(),
	})
	fmt.Println(errors.Is(err, ca.ErrInvalidInput))
	if fe, ok := errors.AsType[*ca.FieldError](err); ok {
		fmt.Println(fe.Field, "-", fe.Rule)
	}
	// Output:
	// true
	// Holder.GivenName - must not be empty
}

func ExampleIssuer_SignCRL() {
	iss, cleanup := exampleIssuer()
	defer cleanup()
	now := time.Date(2026, time.May, 4, 12, 0, 0, 0, time.UTC)
	der, err := iss.SignCRL(context.Background(), &x509.RevocationList{
		Number:     big.NewInt(1),
		ThisUpdate: now,
		NextUpdate: now.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{
			{SerialNumber: big.NewInt(42), RevocationTime: now.Add(-time.Hour), ReasonCode: 1},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	crl, _ := x509.ParseRevocationList(der)
	fmt.Println(crl.CheckSignatureFrom(iss.Hierarchy().Issuing()) == nil, len(crl.RevokedCertificateEntries))
	// Output: true 1
}

func ExampleQCStatements() {
	der, _ := ca.QCStatements{
		Compliance: true,
		SSCD:       true,
		Types:      []asn1.ObjectIdentifier{ca.OIDQcTypeESign},
		PDS:        []ca.PDSLocation{{URL: "https://qtsp.example/pds/en.pdf", Language: "en"}},
	}.Marshal()
	q, _ := ca.ParseQCStatements(der)
	fmt.Println(q.Compliance, q.SSCD, q.Types[0], q.PDS[0].Language)
	// Output: true true 0.4.0.1862.1.6.1 en
}
