package hsm_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// The building blocks take a Token where they take any key manager or KEK.
var (
	_ apiv1.KeyManager = (*hsm.Token)(nil)
	_ envelope.KEK     = (*hsm.KEK)(nil)
)

func writePEM(t *testing.T, dir, name, typ string, ders ...[]byte) string {
	t.Helper()
	var b []byte
	for _, der := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})...)
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

// opensslVerify runs openssl verify and returns its combined output and
// whether it exited zero.
func opensslVerify(t *testing.T, openssl string, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command(openssl, append([]string{"verify"}, args...)...).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("openssl verify: %v", err)
		}
	}
	return string(out), err == nil
}

// TestQualifiedCertificateOnHSM is acceptance 2 of issue #9: the CA
// hierarchy is bootstrapped in SoftHSM2, a qualified certificate is issued
// for a holder key generated in the token, the holder's remote signature
// works, the certificate is revoked (its key destroyed) and published on a
// CRL signed by the issuing CA key in the token, and openssl checks the
// chain, the CRL and the revocation. OCSP is answered with the HSM's OCSP
// signer key, and the code vault runs on an HSM KEK.
func TestQualifiedCertificateOnHSM(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	ctx := t.Context()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }

	// The hierarchy: three keys generated in the token.
	names := ca.KeyNames{Root: "pkcs11:object=root-ca", Issuing: "pkcs11:object=issuing-ca", OCSP: "pkcs11:object=ocsp-signer"}
	dir := t.TempDir()
	iss := catest.NewIssuer(t, catest.WithDir(dir), catest.WithKeyManager(tok, names), catest.WithNow(clock))
	h := iss.Hierarchy()
	for i, ref := range h.KeyRefs() {
		assert.Empty(t, ref.File, "key %d: no key file", i)
		assert.True(t, strings.HasPrefix(ref.Name, "pkcs11:object="), "key %d: recorded by name: %s", i, ref.Name)
	}

	// The holder's remote-signature key, generated in the token.
	holderKey, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=holder-RSSMRA85T10A562S", SignatureAlgorithm: apiv1.ECDSAWithSHA256})
	require.NoError(t, err)
	issue := func() *ca.Issued {
		issued, err := iss.Issue(ctx, ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: holderKey.PublicKey})
		require.NoError(t, err)
		return issued
	}
	revoked, kept := issue(), issue()
	assert.Equal(t, holderKey.PublicKey, revoked.Certificate.PublicKey)

	// A remote signature with the holder key verifies under the certificate.
	holder, err := tok.CreateSigner(&holderKey.CreateSignerRequest)
	require.NoError(t, err)
	doc := sha256.Sum256([]byte("contratto firmato"))
	sig, err := holder.Sign(rand.Reader, doc[:], crypto.SHA256)
	require.NoError(t, err)
	assert.True(t, ecdsa.VerifyASN1(revoked.Certificate.PublicKey.(*ecdsa.PublicKey), doc[:], sig))

	files := t.TempDir()
	root := writePEM(t, files, "root.pem", "CERTIFICATE", h.Root().Raw)
	issuing := writePEM(t, files, "issuing.pem", "CERTIFICATE", h.Issuing().Raw)
	chain := writePEM(t, files, "chain.pem", "CERTIFICATE", h.Issuing().Raw, h.Root().Raw)
	leaf := writePEM(t, files, "revoked.pem", "CERTIFICATE", revoked.Certificate.Raw)
	keptLeaf := writePEM(t, files, "kept.pem", "CERTIFICATE", kept.Certificate.Raw)

	out, ok := opensslVerify(t, openssl, "-CAfile", root, "-untrusted", issuing, leaf)
	require.True(t, ok, "chain: %s", out)

	// Revocation: the holder key is destroyed, the serial goes on a CRL
	// signed with the issuing CA key in the token.
	require.NoError(t, tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: holderKey.Name}))
	built, err := crl.Build(ctx, &crl.Template{
		Number:            big.NewInt(1),
		ThisUpdate:        now,
		NextUpdate:        now.Add(24 * time.Hour),
		DistributionPoint: revoked.Certificate.CRLDistributionPoints[0],
		ExpiredCertsOnCRL: h.Issuing().NotBefore,
	}, crl.Entries([]crl.Entry{{
		SerialNumber:   revoked.Certificate.SerialNumber,
		RevocationTime: now,
		ReasonCode:     crl.KeyCompromise,
	}}), crl.KeySigner{Cert: h.Issuing(), Key: h.IssuingSigner()})
	require.NoError(t, err)
	require.NoError(t, built.Verify(h.Issuing()))
	crlFile := writePEM(t, files, "issuing.crl", "X509 CRL", built.DER)

	crlText, err := exec.Command(openssl, "crl", "-in", crlFile, "-CAfile", chain, "-noout", "-text").CombinedOutput()
	require.NoError(t, err, "%s", crlText)
	assert.Contains(t, string(crlText), "verify OK", "openssl checks the CRL signature")
	assert.Contains(t, strings.ToUpper(string(crlText)), strings.ToUpper(revoked.Certificate.SerialNumber.Text(16)))
	assert.Contains(t, string(crlText), "Key Compromise")

	out, ok = opensslVerify(t, openssl, "-crl_check", "-CAfile", root, "-untrusted", issuing, "-CRLfile", crlFile, leaf)
	assert.False(t, ok, "the revoked certificate must not verify: %s", out)
	assert.Contains(t, out, "certificate revoked")
	t.Logf("openssl verify -crl_check of the revoked certificate:\n%s", out)
	out, ok = opensslVerify(t, openssl, "-crl_check", "-CAfile", root, "-untrusted", issuing, "-CRLfile", crlFile, keptLeaf)
	assert.True(t, ok, "the CRL is accepted and the other certificate is good: %s", out)

	// The holder key is gone from the token: both halves.
	for _, o := range tk.Objects(t) {
		assert.NotEqual(t, "holder-RSSMRA85T10A562S", o.Label, "%s still in the token", o.Class)
	}
	_, err = tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: holderKey.Name})
	assert.ErrorIs(t, err, hsm.ErrNotFound)
	_, err = holder.Sign(rand.Reader, doc[:], crypto.SHA256)
	assert.ErrorIs(t, err, hsm.ErrNotFound, "no signature after revocation")

	// OCSP, signed by the delegated responder key in the token.
	status := crltest.NewStore()
	status.Issue(revoked.Certificate.SerialNumber)
	_, err = status.Change(crl.Revoke, revoked.Certificate.SerialNumber, crl.KeyCompromise, crl.Immediate, now)
	require.NoError(t, err)
	responder, err := crl.NewResponder(crl.ResponderConfig{
		Issuer: h.Issuing(),
		Signer: crl.KeySigner{Cert: h.OCSP(), Key: h.OCSPSigner()},
		Source: status,
		Now:    clock,
	})
	require.NoError(t, err)
	resp, err := responder.Respond(ctx, crltest.OCSPRequest(t, revoked.Certificate.SerialNumber, h.Issuing(), crypto.SHA1, nil))
	require.NoError(t, err)
	respFile := filepath.Join(files, "ocsp.der")
	require.NoError(t, os.WriteFile(respFile, resp, 0o600))
	ocspText, err := exec.Command(openssl, "ocsp", "-respin", respFile, "-issuer", issuing, "-cert", leaf,
		"-CAfile", chain, "-no_nonce", "-resp_text").CombinedOutput()
	require.NoError(t, err, "%s", ocspText)
	assert.Contains(t, string(ocspText), "Response verify OK")
	assert.Contains(t, string(ocspText), leaf+": revoked")

	// After a restart (a new Token, an empty handle cache) the hierarchy
	// reopens: the three keys are found in the token by the names recorded
	// in the manifest, and the issuing key still signs.
	require.NoError(t, tok.Close())
	restarted := tk.Open(t)
	again, err := ca.OpenHierarchy(ctx, withKeyManager(catest.HierarchyConfig(dir), restarted, names, clock))
	require.NoError(t, err)
	assert.Equal(t, h.Issuing().Raw, again.Issuing().Raw)
	assert.Equal(t, h.KeyRefs(), again.KeyRefs())
	iss2, err := ca.NewIssuer(catest.IssuerConfig(again))
	require.NoError(t, err)
	holder2, err := restarted.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=holder-2"})
	require.NoError(t, err)
	issued, err := iss2.Issue(ctx, ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: holder2.PublicKey})
	require.NoError(t, err)
	require.NoError(t, issued.Certificate.CheckSignatureFrom(h.Issuing()))
}

// TestHierarchyAlgorithmsOnHSM bootstraps hierarchies with ECDSA P-384 and
// RSA-3072 keys in the token and has openssl verify a qualified certificate
// for a holder key of the same kind.
func TestHierarchyAlgorithmsOnHSM(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	tests := []struct {
		name   string
		alg    ca.KeyAlgorithm
		holder apiv1.CreateKeyRequest
	}{
		{name: "ECDSA-P384", alg: ca.ECDSAP384, holder: apiv1.CreateKeyRequest{SignatureAlgorithm: apiv1.ECDSAWithSHA384}},
		{name: "RSA-3072", alg: ca.RSA3072, holder: apiv1.CreateKeyRequest{SignatureAlgorithm: apiv1.SHA256WithRSA, Bits: 3072}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := hsmtest.New(t).Open(t)
			names := ca.KeyNames{Root: "pkcs11:object=root", Issuing: "pkcs11:object=issuing", OCSP: "pkcs11:object=ocsp"}
			iss := catest.NewIssuer(t, catest.WithKeyManager(tok, names), catest.WithKeyAlgorithm(tc.alg))
			h := iss.Hierarchy()
			assert.Equal(t, tc.alg, h.KeyAlgorithm())
			tc.holder.Name = "pkcs11:object=holder"
			hk, err := tok.CreateKey(&tc.holder)
			require.NoError(t, err)
			issued, err := iss.Issue(t.Context(), ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: catest.Holder(), PublicKey: hk.PublicKey})
			require.NoError(t, err)
			dir := t.TempDir()
			root := writePEM(t, dir, "root.pem", "CERTIFICATE", h.Root().Raw)
			issuing := writePEM(t, dir, "issuing.pem", "CERTIFICATE", h.Issuing().Raw)
			leaf := writePEM(t, dir, "leaf.pem", "CERTIFICATE", issued.Certificate.Raw)
			out, ok := opensslVerify(t, openssl, "-CAfile", root, "-untrusted", issuing, leaf)
			assert.True(t, ok, "%s", out)
		})
	}
}

func withKeyManager(c ca.HierarchyConfig, km apiv1.KeyManager, names ca.KeyNames, now func() time.Time) ca.HierarchyConfig {
	c.KeyManager, c.KeyNames, c.Now = km, names, now
	return c
}

// TestVaultOnHSM runs the code vault of package envelope on an AES-256 KEK
// held in the token.
func TestVaultOnHSM(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	ctx := t.Context()
	kek, err := tok.CreateKEK(ctx, "pkcs11:object=code-vault")
	require.NoError(t, err)
	vault, err := envelope.NewVault(envelope.VaultConfig{KEK: kek, Hash: envelope.HashParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	require.NoError(t, err)

	codes, err := envelope.RemoteSignature.Generate(nil)
	require.NoError(t, err)
	rec, err := vault.Seal(ctx, "product-1", codes, envelope.RemoteSignature.Verifiable())
	require.NoError(t, err)
	assert.Equal(t, kek.KeyID(), rec.KeyID)

	got, err := vault.Open(ctx, "product-1", rec)
	require.NoError(t, err)
	assert.Equal(t, codes, got)
	_, err = vault.Open(ctx, "product-2", rec)
	assert.Error(t, err, "the product ID is the associated data")
	pin, ok := codes.Get(envelope.SigningPIN)
	require.True(t, ok)
	assert.NoError(t, rec.Verify(envelope.SigningPIN, pin))

	// A new Token on the same HSM finds the KEK by name and opens the record.
	require.NoError(t, tok.Close())
	kek2, err := tk.Open(t).KEK(context.Background(), rec.KeyID)
	require.NoError(t, err)
	vault2, err := envelope.NewVault(envelope.VaultConfig{KEK: kek2})
	require.NoError(t, err)
	got, err = vault2.Open(ctx, "product-1", rec)
	require.NoError(t, err)
	assert.Equal(t, codes, got)
	for _, o := range tk.Objects(t) {
		if o.Label == "code-vault" {
			assert.Equal(t, "Secret Key", o.Class)
			assert.Equal(t, "AES length 32", o.Type)
			assert.True(t, o.Has("never extractable"))
		}
	}
}

// TestEvidenceSealingOnHSM seals a recognition evidence bundle (CMS
// SignedData, CAdES-BES) with an evidence key held in the token, and checks
// the seal with recognition.VerifySealed and openssl cms -verify.
func TestEvidenceSealingOnHSM(t *testing.T) {
	t.Parallel()
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	ctx := t.Context()
	tok := hsmtest.New(t).Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=evidence-seal", SignatureAlgorithm: apiv1.ECDSAWithSHA256})
	require.NoError(t, err)
	key, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)
	now := time.Now()
	root := recognitiontest.NewRoot(t, "Evidence Root", now.Add(-time.Hour), now.Add(24*time.Hour))
	cert := root.IssueFor(t, recognitiontest.Person{GivenName: "Registra", Surname: "Evidence",
		NonRepudiation: true, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)}, resp.PublicKey)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Key: key})
	require.NoError(t, err)

	form := []byte("%PDF-1.7 modulo di richiesta firmato")
	digest := recognition.DigestOf(form)
	ev := recognition.Evidence{
		Manifest: recognition.Manifest{
			Version: recognition.ManifestVersion, Method: recognition.MethodOffline, OrderID: "order-1",
			StartedAt: now.Add(-time.Minute).UTC(), CompletedAt: now.UTC(),
			Artefacts: []recognition.ArtefactRef{{Kind: recognition.KindSignedPaperForm, MediaType: "application/pdf", Size: len(form), SHA256: digest}},
		},
		Artefacts: map[recognition.Digest][]byte{digest: form},
	}
	sealed, err := sealer.Seal(ctx, &ev)
	require.NoError(t, err)
	got, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: root.Pool()})
	require.NoError(t, err)
	assert.True(t, got.Sealer.Equal(cert))

	dir := t.TempDir()
	p7m := filepath.Join(dir, "manifest.p7m")
	require.NoError(t, os.WriteFile(p7m, sealed.Signature, 0o600))
	rootPEM := writePEM(t, dir, "root.pem", "CERTIFICATE", root.Cert.Raw)
	testutil.Run(t, openssl, "cms", "-verify", "-inform", "DER", "-in", p7m, "-CAfile", rootPEM, "-purpose", "any", "-out", filepath.Join(dir, "manifest.json"))
}
