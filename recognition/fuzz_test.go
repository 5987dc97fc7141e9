package recognition

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// The seed corpora in testdata/fuzz/<FuzzName>/ are real artefacts written
// by TestFuzzSeeds with -update (see golden_test.go).

// FuzzP7M runs the .p7m verification path on arbitrary bytes: parsing, the
// signature and signing-certificate checks, the QCStatements and subject
// lookups. It must never panic, and a file that parses must keep its
// content and signer.
func FuzzP7M(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = SniffMediaType(b)
		m, ce := parseSignedMessage(b)
		if ce != nil {
			if ce.Check != CheckFormat {
				t.Fatalf("parse failure reported as %s", ce.Check)
			}
			return
		}
		if m.Signer == nil || len(m.Content) == 0 {
			t.Fatal("parsed message without signer or content")
		}
		_ = m.checkSignature()
		_ = m.checkSigningCertificate()
		_ = checkQualified(m.Signer)
		_ = subjectAttr(m.Signer, oidSurname)
		_ = sameTaxCode(m.Signer.Subject.SerialNumber, "RSSMRA85T10A562S")
	})
}

// fuzzSPID returns a SPID verifier with fresh keys: no input can carry a
// valid signature of its identity provider.
func fuzzSPID(f *testing.F) *SPID {
	f.Helper()
	cert := func(key *rsa.PrivateKey, name string) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			f.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			f.Fatal(err)
		}
		return c
	}
	idpKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	spKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	base, _ := url.Parse("http://127.0.0.1:1")
	idp := saml.IdentityProvider{Key: idpKey, Certificate: cert(idpKey, "fuzz idp"),
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso")}
	md, err := xml.Marshal(idp.Metadata())
	if err != nil {
		f.Fatal(err)
	}
	v, err := NewSPID(SPIDConfig{EntityID: "https://registra.test/spid", ACSURL: "https://registra.test/spid/acs",
		IdPMetadata: md, Key: spKey, Certificate: cert(spKey, "fuzz sp"), OneShotRoots: x509.NewCertPool()})
	if err != nil {
		f.Fatal(err)
	}
	return v
}

// FuzzSAMLResponse runs the SAML parsing and verification path on arbitrary
// bytes. It must never panic and never accept a response.
func FuzzSAMLResponse(f *testing.F) {
	v := fuzzSPID(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := v.parseResponse(b, []string{"id-1"})
		if err == nil {
			t.Fatalf("accepted a response not signed by the identity provider: %+v", a)
		}
		r := &recorder{now: time.Now, artefacts: map[Digest][]byte{}, manifest: Manifest{Attributes: map[string]string{}}}
		if a := v.checkResponse(context.Background(), r, "fuzz", b, []string{"id-1"}, time.Now()); a != nil {
			t.Fatal("checkResponse accepted a response")
		}
	})
}

// FuzzManifest: a manifest that parses re-encodes to the same bytes.
func FuzzManifest(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		again, err := m.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("canonical form differs:\n%s\n%s", b, again)
		}
	})
}

// FuzzVideoPayload: a parsed session record has its required fields.
func FuzzVideoPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseVideoPayload(b)
		if err != nil {
			return
		}
		if p.SessionID == "" || p.OrderID == "" || (p.Outcome != OutcomeApproved && p.Outcome != OutcomeRejected) {
			t.Fatalf("accepted an incomplete record: %+v", p)
		}
	})
}

// FuzzClamdReply: only "OK" is clean, and a threat always has a name.
func FuzzClamdReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		res, err := ParseClamdReply(s)
		if err != nil {
			return
		}
		if !res.Clean && res.Threat == "" {
			t.Fatalf("%q: infected without a threat name", s)
		}
		if res.Clean && res.Threat != "" {
			t.Fatalf("%q: clean with a threat", s)
		}
	})
}

// FuzzParseSealed: a bundle that parses round-trips through MarshalBinary.
func FuzzParseSealed(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSealed(b)
		if err != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		again, err := ParseSealed(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Signature, s.Signature) || len(again.Artefacts) != len(s.Artefacts) {
			t.Fatal("bundle does not round-trip")
		}
	})
}
