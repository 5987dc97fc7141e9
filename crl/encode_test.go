package crl_test

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
	"github.com/registra-pki/registra/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var pinned = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sampleEntries is a full CRL's worth of every kind of entry.
func sampleEntries() []crl.Entry {
	return []crl.Entry{
		{SerialNumber: big.NewInt(0x1001), RevocationTime: pinned.Add(-72 * time.Hour), ReasonCode: crl.KeyCompromise, InvalidityDate: pinned.Add(-96 * time.Hour)},
		{SerialNumber: big.NewInt(0x1002), RevocationTime: pinned.Add(-5 * time.Hour), ReasonCode: crl.CertificateHold},
		{SerialNumber: big.NewInt(0x1003), RevocationTime: pinned.Add(-50 * time.Hour), ReasonCode: crl.Superseded},
		// Revoked while suspended: back-dated to the suspension start.
		{SerialNumber: big.NewInt(0x1004), RevocationTime: pinned.Add(-240 * time.Hour), ReasonCode: crl.PrivilegeWithdrawn},
		{SerialNumber: big.NewInt(0x1005), RevocationTime: pinned.Add(-time.Hour), ReasonCode: crl.CessationOfOperation},
	}
}

func fullTemplate(number int64) *crl.Template {
	return &crl.Template{
		Number: big.NewInt(number), ThisUpdate: pinned, NextUpdate: pinned.Add(24 * time.Hour),
		DistributionPoint: crltest.CRLURL, FreshestCRL: crltest.DeltaCRLURL, ExpiredCertsOnCRL: crltest.Epoch,
	}
}

func deltaTemplate(number, base int64) *crl.Template {
	return &crl.Template{
		Number: big.NewInt(number), BaseNumber: big.NewInt(base), ThisUpdate: pinned, NextUpdate: pinned.Add(time.Hour),
		DistributionPoint: crltest.CRLURL, ExpiredCertsOnCRL: crltest.Epoch,
	}
}

func deltaEntries() []crl.Entry {
	return []crl.Entry{
		{SerialNumber: big.NewInt(0x1002), RevocationTime: pinned.Add(-time.Minute), ReasonCode: crl.RemoveFromCRL},
		{SerialNumber: big.NewInt(0x1005), RevocationTime: pinned.Add(-time.Hour), ReasonCode: crl.CessationOfOperation},
	}
}

func TestBuildGolden(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t, crltest.WithKeyAlgorithm(crltest.Ed25519))
	cases := []struct {
		file    string
		tmpl    *crl.Template
		entries []crl.Entry
	}{
		{"full.crl", fullTemplate(10), sampleEntries()},
		{"delta.crl", deltaTemplate(11, 10), deltaEntries()},
		{"empty.crl", fullTemplate(1), nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			b, err := crl.Build(context.Background(), tc.tmpl, crl.Entries(tc.entries), h.CRLSigner())
			require.NoError(t, err)
			path := filepath.Join("testdata", tc.file)
			if *update {
				require.NoError(t, os.WriteFile(path, b.DER, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, want, b.DER, "regenerate with: go test ./crl -run TestBuildGolden -update")
		})
	}
}

func TestBuildParsesAndLints(t *testing.T) {
	t.Parallel()
	linter, err := crl.NewLinter()
	require.NoError(t, err)
	for _, alg := range []crltest.KeyAlgorithm{crltest.ECDSAP256, crltest.Ed25519, crltest.RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			h := crltest.NewHierarchy(t, crltest.WithKeyAlgorithm(alg))
			for _, c := range []struct {
				tmpl    *crl.Template
				entries []crl.Entry
			}{{fullTemplate(10), sampleEntries()}, {deltaTemplate(11, 10), deltaEntries()}, {fullTemplate(12), nil}} {
				b, err := crl.Build(context.Background(), c.tmpl, crl.Entries(c.entries), h.CRLSigner())
				require.NoError(t, err)
				require.NoError(t, b.Verify(h.Issuing))
				require.NoError(t, linter.Lint(b.DER))
				rl, err := x509.ParseRevocationList(b.DER)
				require.NoError(t, err)
				require.NoError(t, rl.CheckSignatureFrom(h.Issuing))
				assert.Equal(t, c.tmpl.Number, rl.Number)
				base, err := crl.ParseDeltaBase(rl)
				require.NoError(t, err)
				assert.Equal(t, c.tmpl.BaseNumber, base)
				require.Len(t, rl.RevokedCertificateEntries, len(c.entries))
				for i, e := range c.entries {
					got := rl.RevokedCertificateEntries[i]
					assert.Equal(t, e.SerialNumber, got.SerialNumber)
					assert.True(t, e.RevocationTime.Equal(got.RevocationTime))
					assert.Equal(t, int(e.ReasonCode), got.ReasonCode)
				}
			}
		})
	}
}

func TestBuildOpenSSLText(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	h := crltest.NewHierarchy(t)
	dir := t.TempDir()
	full, err := crl.Build(context.Background(), fullTemplate(10), crl.Entries(sampleEntries()), h.CRLSigner())
	require.NoError(t, err)
	delta, err := crl.Build(context.Background(), deltaTemplate(11, 10), crl.Entries(deltaEntries()), h.CRLSigner())
	require.NoError(t, err)
	issuing := crltest.WritePEM(t, dir, "issuing.pem", h.Issuing)

	fullPath := filepath.Join(dir, "full.crl")
	require.NoError(t, os.WriteFile(fullPath, full.DER, 0o600))
	out := string(testutil.Run(t, openssl, "crl", "-inform", "DER", "-in", fullPath, "-noout", "-text"))
	for _, want := range []string{
		"Serial Number: 1001", "Key Compromise", "Invalidity Date:",
		"Serial Number: 1002", "Certificate Hold",
		"Serial Number: 1003", "Superseded",
		"Serial Number: 1004", "Privilege Withdrawn",
		"Serial Number: 1005", "Cessation Of Operation",
		"X509v3 CRL Number: \n                10",
		"X509v3 Issuing Distribution Point: critical", crltest.CRLURL,
		"X509v3 Freshest CRL:", crltest.DeltaCRLURL,
		"Next Update: Mar  2 12:00:00 2026 GMT",
	} {
		assert.Contains(t, out, want)
	}
	// The reason printed under each serial is the right one.
	assert.Regexp(t, `Serial Number: 1002\s+Revocation Date: [^\n]+\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Certificate Hold`, out)
	// openssl verifies the signature against the issuer.
	vout := testutil.Run(t, openssl, "crl", "-inform", "DER", "-in", fullPath, "-noout", "-CAfile", issuing)
	assert.Contains(t, string(vout), "verify OK")

	deltaPath := filepath.Join(dir, "delta.crl")
	require.NoError(t, os.WriteFile(deltaPath, delta.DER, 0o600))
	out = string(testutil.Run(t, openssl, "crl", "-inform", "DER", "-in", deltaPath, "-noout", "-text"))
	assert.Contains(t, out, "X509v3 Delta CRL Indicator: critical")
	assert.Regexp(t, `Serial Number: 1002\s+Revocation Date: [^\n]+\s+CRL entry extensions:\s+X509v3 CRL Reason Code:\s+Remove From CRL`, out)
}

func TestBuildBadInput(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	ok := sampleEntries()
	leafOnly := crltest.NewHierarchy(t)
	cases := []struct {
		name    string
		tmpl    *crl.Template
		entries []crl.Entry
		signer  crl.Signer
		wantErr error
		field   string
	}{
		{"nil number", &crl.Template{ThisUpdate: pinned, NextUpdate: pinned.Add(time.Hour)}, ok, h.CRLSigner(), crl.ErrInvalidInput, "number"},
		{"21-octet number", &crl.Template{Number: new(big.Int).Lsh(big.NewInt(1), 161), ThisUpdate: pinned, NextUpdate: pinned.Add(time.Hour)}, ok, h.CRLSigner(), crl.ErrInvalidInput, "number"},
		{"next before this", &crl.Template{Number: big.NewInt(1), ThisUpdate: pinned, NextUpdate: pinned}, ok, h.CRLSigner(), crl.ErrInvalidInput, "next_update"},
		{"base not below number", &crl.Template{Number: big.NewInt(5), BaseNumber: big.NewInt(5), ThisUpdate: pinned, NextUpdate: pinned.Add(time.Hour)}, ok, h.CRLSigner(), crl.ErrInvalidInput, "base_number"},
		{"unsorted", fullTemplate(1), []crl.Entry{ok[1], ok[0]}, h.CRLSigner(), crl.ErrInvalidInput, "entries.serial_number"},
		{"duplicate", fullTemplate(1), []crl.Entry{ok[0], ok[0]}, h.CRLSigner(), crl.ErrInvalidInput, "entries.serial_number"},
		{"reason 7", fullTemplate(1), []crl.Entry{{SerialNumber: big.NewInt(1), RevocationTime: pinned, ReasonCode: 7}}, h.CRLSigner(), crl.ErrInvalidInput, "entries.reason_code"},
		{"no revocation time", fullTemplate(1), []crl.Entry{{SerialNumber: big.NewInt(1)}}, h.CRLSigner(), crl.ErrInvalidInput, "entries.revocation_time"},
		{"signer without cRLSign", fullTemplate(1), ok, crl.KeySigner{Cert: leafOnly.OCSP, Key: leafOnly.OCSPKey}, crl.ErrInvalidInput, "signer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := crl.Build(context.Background(), tc.tmpl, crl.Entries(tc.entries), tc.signer)
			require.ErrorIs(t, err, tc.wantErr)
			fe, ok := errors.AsType[*crl.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	_, err := crl.Build(context.Background(), fullTemplate(1), crl.Entries([]crl.Entry{ok[1], ok[0]}), h.CRLSigner())
	assert.EqualError(t, err, "crl: entries.serial_number: 1001 not in strictly ascending order")
}

func TestReconcileRefusesDroppedSerial(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	serials := func(ns ...int64) []*big.Int {
		var out []*big.Int
		for _, n := range ns {
			out = append(out, big.NewInt(n))
		}
		return out
	}
	listed := func(s []*big.Int) func(func(*big.Int, error) bool) {
		return func(yield func(*big.Int, error) bool) {
			for _, x := range s {
				if !yield(x, nil) {
					return
				}
			}
		}
	}
	all := sampleEntries()
	allSerials := serials(0x1001, 0x1002, 0x1003, 0x1004, 0x1005)
	cases := []struct {
		name           string
		entries        []crl.Entry
		listed         []*big.Int
		missing, extra []*big.Int
	}{
		{"equal", all, allSerials, nil, nil},
		{"entry dropped in the middle", append(append([]crl.Entry{}, all[:2]...), all[3:]...), allSerials, serials(0x1003), nil},
		{"last dropped", all[:4], allSerials, serials(0x1005), nil},
		{"all dropped", nil, allSerials, allSerials, nil},
		{"extra entry", all, serials(0x1001, 0x1002, 0x1004, 0x1005), nil, serials(0x1003)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := crl.Build(context.Background(), fullTemplate(3), crl.Reconcile(crl.Entries(tc.entries), listed(tc.listed)), h.CRLSigner())
			if tc.missing == nil && tc.extra == nil {
				require.NoError(t, err)
				assert.Equal(t, len(tc.entries), b.Entries)
				return
			}
			require.ErrorIs(t, err, crl.ErrReconcile)
			re, ok := errors.AsType[*crl.ReconcileError](err)
			require.True(t, ok)
			assert.Equal(t, tc.missing, re.Missing)
			assert.Equal(t, tc.extra, re.Extra)
			assert.Nil(t, b)
		})
	}
}

func TestOpenSSLAvailableForInterop(t *testing.T) {
	t.Parallel()
	path := testutil.RequireTool(t, "openssl", "openssl")
	out, err := exec.Command(path, "version").CombinedOutput()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(out), "OpenSSL 3"), "%s", out)
}
