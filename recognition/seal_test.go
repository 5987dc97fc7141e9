package recognition_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// offlineEvidence returns verified Offline evidence.
func offlineEvidence(t *testing.T) recognition.Evidence {
	t.Helper()
	v, err := recognition.NewOffline(recognition.OfflineConfig{Now: clock(fixedNow)})
	require.NoError(t, err)
	ev, err := v.Verify(context.Background(), offlineSubmission(t, recognition.RoleOperator))
	require.NoError(t, err)
	return ev
}

func TestSealAndVerify(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ev := offlineEvidence(t)
	before := cloneEvidence(ev)
	sealed, err := p.sealer.Seal(context.Background(), &ev)
	require.NoError(t, err)
	assert.Equal(t, before, ev, "Seal must not modify the evidence")

	got, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: p.root.Pool()})
	require.NoError(t, err)
	assert.Equal(t, ev.Manifest, *got.Manifest)
	assert.True(t, got.Sealer.Equal(p.evidenceCert))
	assert.WithinDuration(t, time.Now(), got.SigningTime, time.Minute)
	require.Len(t, got.Chain, 3)

	t.Run("bundle file round trip", func(t *testing.T) {
		t.Parallel()
		b, err := sealed.MarshalBinary()
		require.NoError(t, err)
		again, err := sealed.MarshalBinary()
		require.NoError(t, err)
		assert.Equal(t, b, again, "the bundle file is deterministic")
		back, err := recognition.ParseSealed(b)
		require.NoError(t, err)
		assert.Equal(t, sealed, back)
		_, err = recognition.VerifySealed(back, recognition.SealVerifyOptions{Roots: p.root.Pool()})
		require.NoError(t, err)
	})
	t.Run("openssl verifies the seal", func(t *testing.T) {
		t.Parallel()
		openssl := testutil.RequireTool(t, "openssl", "openssl")
		dir := t.TempDir()
		in := filepath.Join(dir, "manifest.p7m")
		require.NoError(t, os.WriteFile(in, sealed.Signature, 0o600))
		rootPath, _ := recognitiontest.WritePEM(t, dir, "root", nil, p.root.Cert)
		out := filepath.Join(dir, "manifest.json")
		testutil.Run(t, openssl, "cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", rootPath, "-purpose", "any", "-out", out)
		content, err := os.ReadFile(out)
		require.NoError(t, err)
		want, err := ev.Manifest.Canonical()
		require.NoError(t, err)
		assert.Equal(t, want, content)
	})
	t.Run("wrong trust anchor", func(t *testing.T) {
		t.Parallel()
		other := recognitiontest.NewRoot(t, "Other Root", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		_, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: other.Pool()})
		assert.ErrorIs(t, err, recognition.ErrChain)
	})
}

// TestSealedTamper flips every byte of the manifest and of every artefact
// and checks that verification fails each time (issue #8, acceptance 3).
func TestSealedTamper(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ev := offlineEvidence(t)
	sealed, err := p.sealer.Seal(context.Background(), &ev)
	require.NoError(t, err)
	opts := recognition.SealVerifyOptions{Roots: p.root.Pool()}
	manifest, err := ev.Manifest.Canonical()
	require.NoError(t, err)
	at := bytes.Index(sealed.Signature, manifest)
	require.Positive(t, at, "the manifest is attached to the signature")

	t.Run("manifest bytes", func(t *testing.T) {
		t.Parallel()
		for i := range manifest {
			sig := bytes.Clone(sealed.Signature)
			sig[at+i] ^= 0x01
			_, err := recognition.VerifySealed(&recognition.Sealed{Signature: sig, Artefacts: sealed.Artefacts}, opts)
			require.Error(t, err, "byte %d", i)
			require.ErrorIs(t, err, recognition.ErrSignature, "byte %d", i)
		}
	})
	t.Run("artefact bytes", func(t *testing.T) {
		t.Parallel()
		for d, b := range sealed.Artefacts {
			for i := range b {
				arts := map[recognition.Digest][]byte{}
				for k, v := range sealed.Artefacts {
					arts[k] = v
				}
				changed := bytes.Clone(b)
				changed[i] ^= 0x80
				arts[d] = changed
				_, err := recognition.VerifySealed(&recognition.Sealed{Signature: sealed.Signature, Artefacts: arts}, opts)
				require.Error(t, err, "artefact %s byte %d", d, i)
				ve, ok := errorsAs[*recognition.VerificationError](err)
				require.True(t, ok)
				assert.Equal(t, []recognition.CheckName{recognition.CheckArtefact}, ve.Checks())
			}
		}
	})
	t.Run("artefact missing, extra, truncated", func(t *testing.T) {
		t.Parallel()
		var first recognition.Digest
		for d := range sealed.Artefacts {
			first = d
			break
		}
		missing := map[recognition.Digest][]byte{}
		for k, v := range sealed.Artefacts {
			if k != first {
				missing[k] = v
			}
		}
		extra := map[recognition.Digest][]byte{recognition.DigestOf([]byte("x")): []byte("x")}
		for k, v := range sealed.Artefacts {
			extra[k] = v
		}
		for name, arts := range map[string]map[recognition.Digest][]byte{"missing": missing, "extra": extra} {
			_, err := recognition.VerifySealed(&recognition.Sealed{Signature: sealed.Signature, Artefacts: arts}, opts)
			assert.ErrorIs(t, err, recognition.ErrVerification, name)
		}
	})
	t.Run("several failures are all reported", func(t *testing.T) {
		t.Parallel()
		other := recognitiontest.NewRoot(t, "Other Root", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		_, err := recognition.VerifySealed(&recognition.Sealed{Signature: sealed.Signature}, recognition.SealVerifyOptions{Roots: other.Pool()})
		ve, ok := errorsAs[*recognition.VerificationError](err)
		require.True(t, ok)
		assert.Contains(t, ve.Checks(), recognition.CheckChain)
		assert.Contains(t, ve.Checks(), recognition.CheckArtefact)
		assert.Greater(t, len(ve.Failed), 2)
	})
	t.Run("not a signature", func(t *testing.T) {
		t.Parallel()
		_, err := recognition.VerifySealed(&recognition.Sealed{Signature: manifest}, opts)
		assert.ErrorIs(t, err, recognition.ErrFormat)
	})
}

func TestSealRefusesIncompleteEvidence(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	cases := []struct {
		name  string
		edit  func(*recognition.Evidence)
		field string
	}{
		{"missing bytes", func(e *recognition.Evidence) {
			delete(e.Artefacts, e.Manifest.Artefacts[0].SHA256)
		}, "manifest.artefacts[0]"},
		{"unlisted bytes", func(e *recognition.Evidence) {
			e.Artefacts[recognition.DigestOf([]byte("x"))] = []byte("x")
		}, "artefacts"},
		{"failed check", func(e *recognition.Evidence) {
			e.Manifest.Checks = append(e.Manifest.Checks, recognition.Check{Name: recognition.CheckContent, Result: recognition.Fail})
		}, "manifest.checks"},
		{"no method", func(e *recognition.Evidence) { e.Manifest.Method = 0 }, "manifest.method"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := offlineEvidence(t)
			tc.edit(&ev)
			_, err := p.sealer.Seal(context.Background(), &ev)
			require.ErrorIs(t, err, recognition.ErrInvalidInput)
			fe, ok := errorsAs[*recognition.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
}

func TestSealerConfigValidate(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	_, otherKey := p.issuing.Issue(t, recognitiontest.Person{GivenName: "A", Surname: "B", NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)})
	_, err := recognition.NewSealer(recognition.SealerConfig{})
	assert.EqualError(t, err, "recognition: invalid input: certificate: is required; key: is required")
	_, err = recognition.NewSealer(recognition.SealerConfig{Certificate: p.evidenceCert, Key: otherKey})
	assert.EqualError(t, err, "recognition: key: does not match the certificate")
}

func TestManifestCanonical(t *testing.T) {
	t.Parallel()
	ev := offlineEvidence(t)
	b, err := ev.Manifest.Canonical()
	require.NoError(t, err)
	m, err := recognition.ParseManifest(b)
	require.NoError(t, err)
	assert.Equal(t, ev.Manifest, *m)

	for name, bad := range map[string][]byte{
		"indented":      append([]byte(" "), b...),
		"trailing":      append(bytes.Clone(b), '\n'),
		"unknown field": bytes.Replace(b, []byte(`{"version":1,`), []byte(`{"version":1,"x":1,`), 1),
		"other version": bytes.Replace(b, []byte(`{"version":1,`), []byte(`{"version":2,`), 1),
		"local time":    bytes.Replace(b, []byte(`"started_at":"2026-03-02T10:00:00Z"`), []byte(`"started_at":"2026-03-02T11:00:00+01:00"`), 1),
	} {
		_, err := recognition.ParseManifest(bad)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput, name)
	}
}

func cloneEvidence(e recognition.Evidence) recognition.Evidence {
	c := e
	c.Artefacts = map[recognition.Digest][]byte{}
	for k, v := range e.Artefacts {
		c.Artefacts[k] = bytes.Clone(v)
	}
	return c
}

func TestVerifySealedRefusesCAKey(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ev := offlineEvidence(t)
	manifest, err := ev.Manifest.Canonical()
	require.NoError(t, err)
	// Signed by the issuing CA's own key: a certificate for certSign only.
	sig := recognitiontest.SignP7M(t, manifest, p.issuing.Cert, p.issuing.Key, nil, recognitiontest.SignOptions{})
	_, err = recognition.VerifySealed(&recognition.Sealed{Signature: sig, Artefacts: ev.Artefacts}, recognition.SealVerifyOptions{Roots: p.root.Pool()})
	ve, ok := errorsAs[*recognition.VerificationError](err)
	require.True(t, ok)
	assert.Equal(t, []recognition.CheckName{recognition.CheckKeyUsage}, ve.Checks())
}
