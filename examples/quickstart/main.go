// Command quickstart creates a CA hierarchy and issues one certificate of
// every holder profile, writing PEM files to a directory:
//
//	go run ./examples/quickstart -out DIR
//
// DIR receives root.pem, issuing.pem and ocsp.pem (the hierarchy, with its
// manifest hierarchy.json and software keys under keys/), and qualified.pem,
// role.pem, one-shot.pem, usage-limited.pem and the on-device pair
// device-signature.pem + authentication.pem (one operation) for the
// textbook holder Mario Rossi (RSSMRA85T10A562S, an invented person). Run it
// again on the same directory and it reuses the hierarchy.
//
// Check the result with a foreign client:
//
//	openssl verify -CAfile DIR/root.pem -untrusted DIR/issuing.pem DIR/qualified.pem
//	openssl x509 -in DIR/qualified.pem -noout -text
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/registra-pki/registra/ca"
)

func main() {
	out := flag.String("out", "", "directory to write the hierarchy and the certificates to (required)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "usage: quickstart -out DIR")
		os.Exit(2)
	}
	if err := run(context.Background(), *out, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// examplePolicy is the CA policy OID of the example, under the private
// enterprise number reserved for documentation (RFC 5612).
var examplePolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

func run(ctx context.Context, out string, w io.Writer) error {
	h, err := ca.OpenHierarchy(ctx, ca.HierarchyConfig{
		Dir:                    out,
		Organization:           "Registra Example QTSP",
		OrganizationIdentifier: "VATIT-00000000000",
		RootCRLURL:             "http://crl.registra.example/root.crl",
		RootCertURL:            "http://crl.registra.example/root.cer",
		IssuingCertURL:         "http://crl.registra.example/issuing.cer",
	})
	if err != nil {
		return err
	}
	iss, err := ca.NewIssuer(ca.Config{
		Hierarchy:    h,
		PolicyOID:    examplePolicy,
		CPSURL:       "https://pki.registra.example/cps",
		PDS:          []ca.PDSLocation{{URL: "https://pki.registra.example/pds/en.pdf", Language: "en"}, {URL: "https://pki.registra.example/pds/it.pdf", Language: "it"}},
		CRLURL:       "http://crl.registra.example/issuing.crl",
		OCSPURL:      "http://ocsp.registra.example",
		CAIssuersURL: "http://crl.registra.example/issuing.cer",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "hierarchy in %s (%s keys)\n", out, h.KeyAlgorithm())
	for _, c := range []struct {
		file string
		cert *x509.Certificate
	}{{ca.RootFile, h.Root()}, {ca.IssuingFile, h.Issuing()}, {ca.OCSPFile, h.OCSP()}} {
		fmt.Fprintf(w, "  %-20s %s, valid until %s\n", c.file, c.cert.Subject.CommonName, c.cert.NotAfter.UTC().Format(time.DateTime))
	}

	holder := ca.Holder{TaxCode: "RSSMRA85T10A562S", GivenName: "Mario", Surname: "Rossi", IUT: "IUT-0000000001"}
	role := holder
	role.Organization, role.OrganizationIdentifier, role.Title = "Example Partner S.p.A.", "VATIT-12345678901", "Registration Authority Officer"

	// Remote signature: the key is generated elsewhere (in an HSM); only
	// its public key reaches the CA.
	remote := map[string]ca.Request{
		"qualified.pem":     {Profile: ca.QualifiedNaturalPerson, Holder: holder},
		"role.pem":          {Profile: ca.Role, Holder: role},
		"one-shot.pem":      {Profile: ca.OneShot, Holder: holder},
		"usage-limited.pem": {Profile: ca.UsageLimited, Holder: holder},
	}
	for _, file := range []string{"qualified.pem", "role.pem", "one-shot.pem", "usage-limited.pem"} {
		req := remote[file]
		key, err := newKey()
		if err != nil {
			return err
		}
		req.PublicKey = key.Public()
		is, err := iss.Issue(ctx, req)
		if err != nil {
			return fmt.Errorf("issuing %s: %w", file, err)
		}
		if err := write(out, file, is.Certificate, w); err != nil {
			return err
		}
	}

	// On-device: the device makes two keys and two CSRs; one operation
	// returns the signature and the authentication certificates.
	sigCSR, err := newCSR()
	if err != nil {
		return err
	}
	authCSR, err := newCSR()
	if err != nil {
		return err
	}
	pair, err := iss.IssuePair(ctx, ca.PairRequest{
		Signature:      ca.Request{Holder: holder, CSR: sigCSR},
		Authentication: ca.Request{CSR: authCSR},
	})
	if err != nil {
		return fmt.Errorf("issuing the on-device pair: %w", err)
	}
	if err := write(out, "device-signature.pem", pair.Signature.Certificate, w); err != nil {
		return err
	}
	return write(out, "authentication.pem", pair.Authentication.Certificate, w)
}

func newKey() (crypto.Signer, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func newCSR() ([]byte, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	return x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
}

func write(dir, file string, c *x509.Certificate, w io.Writer) error {
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(w, "  %-20s %s, serial %x, valid until %s\n", file, c.Subject.CommonName, c.SerialNumber, c.NotAfter.UTC().Format(time.DateTime))
	return nil
}
