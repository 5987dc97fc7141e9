package crl

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
)

// stdlibTemplate expresses t and entries as an x509.RevocationList, with
// our extra extensions as ExtraExtensions, in the order Build writes them.
func stdlibTemplate(t *testing.T, tmpl *Template, issuer *x509.Certificate, entries []Entry) *x509.RevocationList {
	t.Helper()
	var extra []pkix.Extension
	for _, e := range tmpl.extensionList(issuer)[2:] { // AKI and number are the stdlib's own
		b := cryptobyte.NewBuilder(nil)
		e.value(b)
		v, err := b.Bytes()
		require.NoError(t, err)
		extra = append(extra, pkix.Extension{Id: e.oid, Critical: e.critical, Value: v})
	}
	rl := &x509.RevocationList{Number: tmpl.Number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate, ExtraExtensions: extra}
	for _, e := range entries {
		rce := x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: int(e.ReasonCode)}
		if !e.InvalidityDate.IsZero() {
			v, err := asn1.MarshalWithParams(e.InvalidityDate.UTC().Truncate(time.Second), "generalized")
			require.NoError(t, err)
			rce.ExtraExtensions = []pkix.Extension{{Id: oidInvalidityDate, Value: v}}
		}
		rl.RevokedCertificateEntries = append(rl.RevokedCertificateEntries, rce)
	}
	return rl
}

func TestBuildMatchesStdlibByteForByte(t *testing.T) {
	t.Parallel()
	h := newTestIssuer(t)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	big20 := new(big.Int).SetBytes([]byte{0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19})
	entries := []Entry{
		{SerialNumber: big.NewInt(1), RevocationTime: now.Add(-time.Hour), ReasonCode: KeyCompromise, InvalidityDate: now.Add(-48 * time.Hour)},
		{SerialNumber: big.NewInt(2), RevocationTime: now.Add(-2 * time.Hour), ReasonCode: CertificateHold},
		{SerialNumber: big.NewInt(0x80), RevocationTime: now.Add(-3 * time.Hour)},
		{SerialNumber: big.NewInt(0x8000), RevocationTime: now.Add(-4 * time.Hour), ReasonCode: RemoveFromCRL},
		{SerialNumber: big20, RevocationTime: time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC), ReasonCode: PrivilegeWithdrawn},
	}
	cases := []struct {
		name    string
		tmpl    Template
		entries []Entry
	}{
		{"empty full", Template{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)}, nil},
		{"full with every extension", Template{Number: big.NewInt(7), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour),
			DistributionPoint: "http://crl.example/a.crl", FreshestCRL: "http://crl.example/a-delta.crl", ExpiredCertsOnCRL: now.AddDate(-1, 0, 0)}, entries},
		{"delta", Template{Number: big.NewInt(300), BaseNumber: big.NewInt(299), ThisUpdate: now, NextUpdate: now.Add(time.Hour),
			DistributionPoint: "http://crl.example/a.crl", FreshestCRL: "ignored on deltas"}, entries},
		{"generalized time next update", Template{Number: big20, ThisUpdate: now, NextUpdate: time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC)}, entries[:1]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Build(context.Background(), &tc.tmpl, Entries(tc.entries), h)
			require.NoError(t, err)
			want, err := x509.CreateRevocationList(rand.Reader, stdlibTemplate(t, &tc.tmpl, h.Cert, tc.entries), h.Cert, h.Key)
			require.NoError(t, err)
			assert.Equal(t, want, got.DER, "Ed25519 signatures are deterministic: the whole CRL must match")
			assert.Equal(t, len(tc.entries), got.Entries)
			require.NoError(t, got.Verify(h.Cert))
			rl, err := x509.ParseRevocationList(got.DER)
			require.NoError(t, err)
			assert.Equal(t, got.RawTBS, rl.RawTBSRevocationList)
			require.NoError(t, rl.CheckSignatureFrom(h.Cert))
		})
	}
}

func TestAppendEntryFastMatchesCryptobyte(t *testing.T) {
	t.Parallel()
	rng := mrand.New(mrand.NewPCG(1, 2))
	times := []time.Time{
		time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2049, 12, 31, 23, 59, 59, 999, time.UTC),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1949, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600)), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	}
	for i := range 20000 {
		raw := make([]byte, rng.IntN(26))
		_, _ = rng2{rng}.Read(raw)
		serial := new(big.Int).SetBytes(raw)
		if i%7 == 0 {
			serial = new(big.Int).Lsh(big.NewInt(1), uint(rng.IntN(330))) // high bit set, and over the fast path's size
		}
		e := Entry{SerialNumber: serial, RevocationTime: times[rng.IntN(len(times))].Add(time.Duration(rng.Int64N(1e15)))}
		if e.RevocationTime.Year() > 9999 {
			e.RevocationTime = times[0]
		}
		if rng.IntN(2) == 0 {
			e.ReasonCode = []Reason{KeyCompromise, CertificateHold, RemoveFromCRL, AACompromise}[rng.IntN(4)]
		}
		if rng.IntN(3) == 0 {
			e.InvalidityDate = times[rng.IntN(len(times))]
		}
		want, err := appendEntry([]byte{9}, e)
		require.NoError(t, err)
		got := appendEntryFast([]byte{9}, e)
		require.Equal(t, want, got, "entry %+v", e)
	}
}

type rng2 struct{ r *mrand.Rand }

func (r rng2) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}
