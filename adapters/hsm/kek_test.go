package hsm_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

func TestKEKSealOpen(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=vault")
	require.NoError(t, err)
	assert.Contains(t, kek.KeyID(), "pkcs11:object=vault;id=%")

	codes := []byte("activation codes: 12345678 87654321")
	ad := []byte("envelope 42")
	sealed, err := kek.Seal(t.Context(), codes, ad)
	require.NoError(t, err)
	assert.Len(t, sealed, 12+len(codes)+16, "nonce, ciphertext, tag")
	assert.False(t, bytes.Contains(sealed, codes), "the plaintext does not show")
	sealed2, err := kek.Seal(t.Context(), codes, ad)
	require.NoError(t, err)
	assert.NotEqual(t, sealed, sealed2, "fresh nonce each time")

	// Reopening by name (cache) and on a new Token (search) both decrypt.
	again, err := tok.KEK(t.Context(), kek.KeyID())
	require.NoError(t, err)
	got, err := again.Open(t.Context(), sealed, ad)
	require.NoError(t, err)
	assert.Equal(t, codes, got)

	tests := []struct {
		name   string
		sealed []byte
		ad     []byte
	}{
		{name: "wrong associated data", sealed: sealed, ad: []byte("envelope 43")},
		{name: "flipped ciphertext bit", sealed: flip(sealed, 14), ad: ad},
		{name: "flipped tag bit", sealed: flip(sealed, len(sealed)-1), ad: ad},
		{name: "flipped nonce bit", sealed: flip(sealed, 0), ad: ad},
		{name: "truncated", sealed: sealed[:20], ad: ad},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kek.Open(t.Context(), tc.sealed, tc.ad)
			require.ErrorIs(t, err, hsm.ErrDecrypt)
			assert.Nil(t, got)
		})
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

func TestKEKAEAD(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=vault;id=%AA")
	require.NoError(t, err)
	aead, err := kek.AEAD(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 12, aead.NonceSize())
	assert.Equal(t, 16, aead.Overhead())

	nonce := bytes.Repeat([]byte{7}, 12)
	ct := aead.Seal([]byte("prefix"), nonce, []byte("secret"), []byte("ad"))
	require.True(t, bytes.HasPrefix(ct, []byte("prefix")), "Seal appends to dst")
	pt, err := aead.Open(nil, nonce, ct[len("prefix"):], []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, []byte("secret"), pt)
	_, err = aead.Open(nil, nonce, ct[len("prefix"):], []byte("other"))
	assert.ErrorIs(t, err, hsm.ErrDecrypt)

	assert.PanicsWithError(t, "hsm: seal pkcs11:object=vault;id=%AA: invalid input: nonce of 8 bytes, not 12", func() {
		aead.Seal(nil, nonce[:8], []byte("secret"), nil)
	}, "a wrong nonce size panics, as crypto/cipher does")

	// The key is found again from a fresh Token.
	require.NoError(t, tok.Close())
	kek2, err := tk.Open(t).KEK(t.Context(), "pkcs11:object=vault")
	require.NoError(t, err)
	aead2, err := kek2.AEAD(t.Context())
	require.NoError(t, err)
	pt, err = aead2.Open(nil, nonce, ct[len("prefix"):], []byte("ad"))
	require.NoError(t, err)
	assert.Equal(t, []byte("secret"), pt)
}

func TestKEKLookupErrors(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	_, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=signing"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		key     string
		wantErr error
	}{
		{name: "missing", key: "pkcs11:object=nothing", wantErr: hsm.ErrNotFound},
		{name: "a key pair is not a KEK", key: "pkcs11:object=signing", wantErr: hsm.ErrNotFound},
		{name: "bad name", key: "vault", wantErr: hsm.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tok.KEK(t.Context(), tc.key)
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
}
