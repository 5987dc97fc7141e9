package crl_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

// exampleCA is a self-signed Ed25519 CRL issuer from a fixed seed.
func exampleCA() crl.KeySigner {
	seed := sha256.Sum256([]byte("example"))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Issuing CA"},
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, SubjectKeyId: []byte{1, 2, 3},
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return crl.KeySigner{Cert: cert, Key: key}
}

func ExampleBuild() {
	ca := exampleCA()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	entries := []crl.Entry{
		{SerialNumber: big.NewInt(0x1001), RevocationTime: now.Add(-time.Hour), ReasonCode: crl.KeyCompromise},
		{SerialNumber: big.NewInt(0x1002), RevocationTime: now.Add(-2 * time.Hour), ReasonCode: crl.CertificateHold},
	}
	b, err := crl.Build(context.Background(), &crl.Template{
		Number: big.NewInt(42), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour),
		DistributionPoint: "http://crl.example/issuing.crl", ExpiredCertsOnCRL: ca.Cert.NotBefore,
	}, crl.Entries(entries), ca)
	if err != nil {
		panic(err)
	}
	rl, err := x509.ParseRevocationList(b.DER)
	if err != nil {
		panic(err)
	}
	fmt.Println("number", rl.Number, "signature ok:", rl.CheckSignatureFrom(ca.Cert) == nil)
	for _, e := range rl.RevokedCertificateEntries {
		fmt.Printf("%x %s %s\n", e.SerialNumber, e.RevocationTime.Format(time.RFC3339), crl.Reason(e.ReasonCode))
	}
	// Output:
	// number 42 signature ok: true
	// 1001 2026-03-01T11:00:00Z keyCompromise
	// 1002 2026-03-01T10:00:00Z certificateHold
}

func ExampleDeltaEntries() {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	changes := []crl.Change{
		// Held on the base CRL, then reactivated: removeFromCRL.
		{Seq: 1, SerialNumber: big.NewInt(1), Kind: crl.Reactivate, From: crl.Held, RevocationTime: t0},
		// Suspended, then revoked: the final reason, back-dated to the
		// suspension start.
		{Seq: 2, SerialNumber: big.NewInt(2), Kind: crl.Suspend, From: crl.Good, RevocationTime: t0},
		{Seq: 3, SerialNumber: big.NewInt(2), Kind: crl.Revoke, From: crl.Held, Reason: crl.PrivilegeWithdrawn, RevocationTime: t0},
		// Suspended and reactivated between two CRLs: listed on an
		// earlier delta, so removed again.
		{Seq: 4, SerialNumber: big.NewInt(3), Kind: crl.Suspend, From: crl.Good, RevocationTime: t0.Add(time.Hour)},
		{Seq: 5, SerialNumber: big.NewInt(3), Kind: crl.Reactivate, From: crl.Held, RevocationTime: t0.Add(2 * time.Hour)},
	}
	for _, e := range crl.DeltaEntries(changes) {
		fmt.Println(e.SerialNumber, e.ReasonCode, e.RevocationTime.Format("15:04"))
	}
	// Output:
	// 1 removeFromCRL 09:00
	// 2 privilegeWithdrawn 09:00
	// 3 removeFromCRL 11:00
}

func ExampleScheduler_PublishDue() {
	ca := exampleCA()
	store := crltest.NewStore()
	journal := crltest.NewJournal()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := crl.NewScheduler(crl.SchedulerConfig{
		Scope: "example-ca", Source: store, Journal: journal, Signer: ca,
		Publishers: []crl.Publisher{&crltest.Recorder{}}, Now: func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	store.Issue(big.NewInt(7))
	show := func(p crl.Pass) {
		for _, c := range p.Published {
			fmt.Printf("crl %s delta=%v entries=%d\n", c.Number, c.Delta, c.Entries)
		}
		for _, r := range p.Receipts {
			fmt.Printf("receipt: serial %s %s %s on crl %s after %v, deadline met: %v\n", r.SerialNumber, r.Kind, r.Mode, r.CRLNumber, r.Lag(), !r.Missed())
		}
		fmt.Println("next due", p.Next.Format(time.TimeOnly))
	}
	p, err := s.PublishDue(context.Background(), now) // nothing published yet: full + delta
	if err != nil {
		panic(err)
	}
	show(p)

	if _, err := store.Change(crl.Revoke, big.NewInt(7), crl.KeyCompromise, crl.Immediate, now); err != nil {
		panic(err)
	}
	now = now.Add(5 * time.Second) // the coalescing window closes
	p, err = s.PublishDue(context.Background(), now)
	if err != nil {
		panic(err)
	}
	show(p)
	// Output:
	// crl 1 delta=false entries=0
	// crl 2 delta=true entries=0
	// next due 12:30:00
	// crl 3 delta=true entries=1
	// receipt: serial 7 revoke immediate on crl 3 after 5s, deadline met: true
	// next due 12:30:05
}
