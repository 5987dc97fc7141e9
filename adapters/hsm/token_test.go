package hsm_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// verify checks sig over msg with the public key, as crypto/x509 would.
func verify(t *testing.T, pub crypto.PublicKey, hash crypto.Hash, msg, sig []byte, opts crypto.SignerOpts) {
	t.Helper()
	h := hash.New()
	h.Write(msg)
	digest := h.Sum(nil)
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		assert.True(t, ecdsa.VerifyASN1(pub, digest, sig), "ECDSA signature does not verify")
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			assert.NoError(t, rsa.VerifyPSS(pub, hash, digest, sig, pss))
		} else {
			assert.NoError(t, rsa.VerifyPKCS1v15(pub, hash, digest, sig))
		}
	default:
		t.Fatalf("unexpected public key %T", pub)
	}
}

func sign(t *testing.T, s crypto.Signer, hash crypto.Hash, msg []byte, opts crypto.SignerOpts) []byte {
	t.Helper()
	h := hash.New()
	h.Write(msg)
	sig, err := s.Sign(rand.Reader, h.Sum(nil), opts)
	require.NoError(t, err)
	return sig
}

func TestCreateKeyAlgorithms(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	tests := []struct {
		name  string
		alg   apiv1.SignatureAlgorithm
		bits  int
		curve elliptic.Curve
		hash  crypto.Hash
		opts  crypto.SignerOpts
	}{
		{name: "default is P-256", alg: apiv1.UnspecifiedSignAlgorithm, curve: elliptic.P256(), hash: crypto.SHA256, opts: crypto.SHA256},
		{name: "P-256", alg: apiv1.ECDSAWithSHA256, curve: elliptic.P256(), hash: crypto.SHA256, opts: crypto.SHA256},
		{name: "P-384", alg: apiv1.ECDSAWithSHA384, curve: elliptic.P384(), hash: crypto.SHA384, opts: crypto.SHA384},
		{name: "RSA-3072 by default", alg: apiv1.SHA256WithRSA, bits: 0, hash: crypto.SHA256, opts: crypto.SHA256},
		{name: "RSA-3072 PSS", alg: apiv1.SHA256WithRSAPSS, bits: 3072, hash: crypto.SHA256,
			opts: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{name: "RSA-4096", alg: apiv1.SHA384WithRSA, bits: 4096, hash: crypto.SHA384, opts: crypto.SHA384},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "pkcs11:object=key-" + string(rune('a'+i))
			resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: name, SignatureAlgorithm: tc.alg, Bits: tc.bits})
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(resp.Name, name+";id=%"), "canonical name with a generated id: %s", resp.Name)
			assert.Equal(t, resp.Name, resp.CreateSignerRequest.SigningKey)
			switch pub := resp.PublicKey.(type) {
			case *ecdsa.PublicKey:
				require.NotNil(t, tc.curve, "got ECDSA, want RSA")
				assert.Equal(t, tc.curve.Params().Name, pub.Curve.Params().Name)
			case *rsa.PublicKey:
				require.Nil(t, tc.curve, "got RSA, want ECDSA")
				want := tc.bits
				if want == 0 {
					want = 3072
				}
				assert.Equal(t, want, pub.N.BitLen())
			default:
				t.Fatalf("public key %T", pub)
			}

			// Reopen by the returned name, and by the label alone.
			for _, n := range []string{resp.Name, name} {
				pub, err := tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: n})
				require.NoError(t, err)
				assert.Equal(t, resp.PublicKey, pub)
				s, err := tok.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: n})
				require.NoError(t, err)
				msg := []byte("registra " + n)
				verify(t, resp.PublicKey, tc.hash, msg, sign(t, s, tc.hash, msg, tc.opts), tc.opts)
			}
		})
	}
}

func TestCreateKeyGivenID(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:id=%01%02;object=ocsp%20signer;type=private"})
	require.NoError(t, err)
	assert.Equal(t, "pkcs11:object=ocsp%20signer;id=%01%02", resp.Name)
	// The id alone finds it too, and so does a name that carries our token label.
	for _, n := range []string{"pkcs11:id=%01%02", "pkcs11:token=" + tok.Label() + ";object=ocsp%20signer"} {
		pub, err := tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: n})
		require.NoError(t, err, n)
		assert.Equal(t, resp.PublicKey, pub)
	}
}

func TestCreateKeyInvalid(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	tests := []struct {
		name    string
		req     apiv1.CreateKeyRequest
		wantErr error
		field   string
	}{
		{name: "no name", req: apiv1.CreateKeyRequest{}, wantErr: hsm.ErrInvalidInput, field: "Name"},
		{name: "not a pkcs11 uri", req: apiv1.CreateKeyRequest{Name: "softkms:ca.key"}, wantErr: hsm.ErrInvalidInput, field: "Name"},
		{name: "pin in the name", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k?pin-value=1234"}, wantErr: hsm.ErrInvalidInput, field: "Name"},
		{name: "id without object", req: apiv1.CreateKeyRequest{Name: "pkcs11:id=%01"}, wantErr: hsm.ErrInvalidInput, field: "Name"},
		{name: "other token", req: apiv1.CreateKeyRequest{Name: "pkcs11:token=elsewhere;object=k"}, wantErr: hsm.ErrInvalidInput, field: "Name"},
		{name: "RSA-2048", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k", SignatureAlgorithm: apiv1.SHA256WithRSA, Bits: 2048}, wantErr: hsm.ErrInvalidInput, field: "Bits"},
		{name: "P-521", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k", SignatureAlgorithm: apiv1.ECDSAWithSHA512}, wantErr: hsm.ErrInvalidInput, field: "SignatureAlgorithm"},
		{name: "Ed25519", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k", SignatureAlgorithm: apiv1.PureEd25519}, wantErr: hsm.ErrInvalidInput, field: "SignatureAlgorithm"},
		{name: "extractable", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k", Extractable: true}, wantErr: hsm.ErrInvalidInput, field: "Extractable"},
		{name: "software", req: apiv1.CreateKeyRequest{Name: "pkcs11:object=k", ProtectionLevel: apiv1.Software}, wantErr: hsm.ErrInvalidInput, field: "ProtectionLevel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tok.CreateKey(&tc.req)
			require.ErrorIs(t, err, tc.wantErr)
			fe, ok := errors.AsType[*hsm.FieldError](err)
			require.True(t, ok, "%v is not a *FieldError", err)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	// Bad input changed nothing: the token holds no object.
	assert.Empty(t, tk.Objects(t))

	t.Run("message", func(t *testing.T) {
		_, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=k", SignatureAlgorithm: apiv1.SHA256WithRSA, Bits: 2048})
		assert.EqualError(t, err, "hsm: Bits: RSA keys are 3072 or 4096 bits")
	})
}

func TestCreateKeyAlreadyExists(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	first, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=ca;id=%01"})
	require.NoError(t, err)
	_, err = tok.CreateKEK(t.Context(), "pkcs11:object=kek;id=%02")
	require.NoError(t, err)
	for _, name := range []string{
		"pkcs11:object=ca",           // same label
		"pkcs11:object=other;id=%01", // same id
		"pkcs11:object=kek",          // label of a secret key
	} {
		_, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: name})
		require.ErrorIs(t, err, hsm.ErrAlreadyExists, name)
		assert.ErrorIs(t, err, apiv1.AlreadyExistsError{}, "smallstep callers see it too")
		_, err = tok.CreateKEK(t.Context(), name)
		require.ErrorIs(t, err, hsm.ErrAlreadyExists, name)
	}
	pub, err := tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: "pkcs11:object=ca"})
	require.NoError(t, err)
	assert.Equal(t, first.PublicKey, pub, "the first key is untouched")
	assert.Len(t, tk.Objects(t), 3, "a key pair and a secret key, nothing more")
}

// TestKeysSensitiveNotExtractable is acceptance 3 of issue #9: pkcs11-tool
// shows every private and secret key as sensitive and never extractable.
func TestKeysSensitiveNotExtractable(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	for _, req := range []apiv1.CreateKeyRequest{
		{Name: "pkcs11:object=ca-p256", SignatureAlgorithm: apiv1.ECDSAWithSHA256},
		{Name: "pkcs11:object=ca-p384", SignatureAlgorithm: apiv1.ECDSAWithSHA384},
		{Name: "pkcs11:object=ca-rsa", SignatureAlgorithm: apiv1.SHA256WithRSA, Bits: 3072},
	} {
		_, err := tok.CreateKey(&req)
		require.NoError(t, err)
	}
	_, err := tok.CreateKEK(t.Context(), "pkcs11:object=vault-kek")
	require.NoError(t, err)

	objs := tk.Objects(t)
	classes := map[string]int{}
	for _, o := range objs {
		classes[o.Class]++
		if o.Class != "Private Key" && o.Class != "Secret Key" {
			continue
		}
		assert.True(t, o.Has("sensitive"), "%s %s: access %v", o.Class, o.Label, o.Access)
		assert.True(t, o.Has("always sensitive"), "%s %s: access %v", o.Class, o.Label, o.Access)
		assert.True(t, o.Has("never extractable"), "%s %s: access %v", o.Class, o.Label, o.Access)
		assert.False(t, o.Has("extractable"), "%s %s: access %v", o.Class, o.Label, o.Access)
		assert.True(t, o.Has("local"), "generated in the token: %s %s: access %v", o.Class, o.Label, o.Access)
	}
	assert.Equal(t, map[string]int{"Private Key": 3, "Public Key": 3, "Secret Key": 1}, classes)
}

func TestDeleteKey(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	keep, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=ca"})
	require.NoError(t, err)
	holder, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=holder-1"})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&holder.CreateSignerRequest)
	require.NoError(t, err)
	sign(t, s, crypto.SHA256, []byte("before"), crypto.SHA256)

	require.NoError(t, tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: holder.Name}))

	_, err = tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: holder.Name})
	assert.ErrorIs(t, err, hsm.ErrNotFound)
	assert.ErrorIs(t, err, apiv1.NotFoundError{}, "smallstep callers see it too")
	d := sha256.Sum256([]byte("after"))
	sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
	assert.ErrorIs(t, err, hsm.ErrNotFound, "a signer of a destroyed key fails")
	assert.Nil(t, sig)
	err = tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: holder.Name})
	assert.ErrorIs(t, err, hsm.ErrNotFound, "deleting twice")

	var labels []string
	for _, o := range tk.Objects(t) {
		labels = append(labels, o.Class+" "+o.Label)
	}
	assert.ElementsMatch(t, []string{"Private Key ca", "Public Key ca"}, labels, "both halves of the holder key are gone")
	_, err = tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: keep.Name})
	assert.NoError(t, err)
}

// TestKeyDeletedElsewhere shows the handle cache: a key destroyed by
// another program is still served from the cache, its signature then fails
// with ErrNotFound, and the entry is dropped.
func TestKeyDeletedElsewhere(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=holder;id=%07"})
	require.NoError(t, err)

	other := hsmtest.PKCS11Tool(t, tk, "--login", "--pin", hsmtest.PIN, "--delete-object", "--type", "privkey", "--id", "07")
	t.Log(string(other))

	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err, "served from the cache, no search")
	d := sha512.Sum384([]byte("x"))
	_, err = s.Sign(rand.Reader, d[:], crypto.SHA384)
	require.ErrorIs(t, err, hsm.ErrNotFound)
	_, err = tok.CreateSigner(&resp.CreateSignerRequest)
	assert.ErrorIs(t, err, hsm.ErrNotFound, "the cache entry is gone")
}

func TestRSASignerNeedsOpts(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=rsa", SignatureAlgorithm: apiv1.SHA256WithRSA})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)
	d := sha256.Sum256([]byte("x"))
	_, err = s.Sign(rand.Reader, d[:], nil)
	assert.ErrorIs(t, err, hsm.ErrInvalidInput)
}

func TestClosedToken(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok, err := hsm.Open(context.Background(), tk.Config)
	require.NoError(t, err)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=k"})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=kek")
	require.NoError(t, err)
	require.NoError(t, tok.Close())
	require.NoError(t, tok.Close(), "closing twice is harmless")

	d := sha256.Sum256([]byte("x"))
	_, err = s.Sign(rand.Reader, d[:], crypto.SHA256)
	assert.ErrorIs(t, err, hsm.ErrClosed)
	_, err = tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: resp.Name})
	assert.ErrorIs(t, err, hsm.ErrClosed)
	_, err = tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=k2"})
	assert.ErrorIs(t, err, hsm.ErrClosed)
	assert.ErrorIs(t, tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: resp.Name}), hsm.ErrClosed)
	_, err = kek.Seal(t.Context(), []byte("x"), nil)
	assert.ErrorIs(t, err, hsm.ErrClosed)
	assert.ErrorIs(t, tok.Check(t.Context()), hsm.ErrClosed)

	// The token can be opened again, and the key is still there.
	tok2 := tk.Open(t)
	pub, err := tok2.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: resp.Name})
	require.NoError(t, err)
	assert.Equal(t, resp.PublicKey, pub)
}

// TestModulePathSpellings opens a token through the symbolic link Debian
// installs while the module is loaded under its real path: without the
// resolution of links, the second C_Initialize would fail with
// CKR_CRYPTOKI_ALREADY_INITIALIZED.
func TestModulePathSpellings(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	require.NotEqual(t, hsmtest.ModulePath, tk.Config.ModulePath, "hsmtest loads the resolved path")
	c := tk.Config
	c.ModulePath = hsmtest.ModulePath
	tok, err := hsm.Open(t.Context(), c)
	require.NoError(t, err)
	require.NoError(t, tok.Check(t.Context()))
	require.NoError(t, tok.Close())
}
