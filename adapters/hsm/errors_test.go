//go:build cgo

package hsm_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/miekg/pkcs11"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

func writePIN(t *testing.T, pin string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pin")
	require.NoError(t, os.WriteFile(p, []byte(pin), 0o600))
	return p
}

// TestOpenErrors covers acceptance 4 of issue #9 for opening: a missing
// module, an unknown token and a wrong PIN each have their own sentinel.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	notPKCS11, err := filepath.EvalSymlinks("/lib/x86_64-linux-gnu/libz.so.1")
	if err != nil {
		notPKCS11 = ""
	}
	with := func(edit func(c *hsm.Config)) hsm.Config {
		c := tk.Config
		edit(&c)
		return c
	}
	tests := []struct {
		name    string
		cfg     hsm.Config
		wantErr error
		p11     pkcs11.Error // expected module error in the chain, if any
	}{
		{name: "missing module", cfg: with(func(c *hsm.Config) { c.ModulePath = "/nonexistent/libsofthsm2.so" }), wantErr: hsm.ErrModule},
		{name: "not a PKCS#11 module", cfg: with(func(c *hsm.Config) { c.ModulePath = notPKCS11 }), wantErr: hsm.ErrModule},
		{name: "unknown token", cfg: with(func(c *hsm.Config) { c.TokenLabel = "no-such-token" }), wantErr: hsm.ErrUnknownToken},
		{name: "wrong PIN", cfg: with(func(c *hsm.Config) { c.PINFile = writePIN(t, "0000") }), wantErr: hsm.ErrWrongPIN, p11: pkcs11.CKR_PIN_INCORRECT},
		{name: "PIN file missing", cfg: with(func(c *hsm.Config) { c.PINFile = "/nonexistent/pin" }), wantErr: hsm.ErrInvalidInput},
		{name: "PIN file empty", cfg: with(func(c *hsm.Config) { c.PINFile = writePIN(t, "\n") }), wantErr: hsm.ErrInvalidInput},
		{name: "PIN variable unset", cfg: with(func(c *hsm.Config) { c.PINFile, c.PINEnv = "", "REGISTRA_TEST_UNSET_PIN" }), wantErr: hsm.ErrInvalidInput},
		{name: "invalid config", cfg: with(func(c *hsm.Config) { c.MaxSessions = 1 }), wantErr: hsm.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.ModulePath == "" {
				t.Skip("no non-PKCS#11 shared library at a known path")
			}
			tok, err := hsm.Open(t.Context(), tc.cfg)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, tok)
			for _, other := range []error{hsm.ErrModule, hsm.ErrUnknownToken, hsm.ErrWrongPIN, hsm.ErrInvalidInput} {
				if other != tc.wantErr {
					assert.NotErrorIs(t, err, other)
				}
			}
			if tc.p11 != 0 {
				got, ok := errors.AsType[pkcs11.Error](err)
				require.True(t, ok, "the module's error stays in the chain: %v", err)
				assert.Equal(t, tc.p11, got)
			}
		})
	}

	// The token is still usable with the right PIN after a wrong one.
	tok := tk.Open(t)
	require.NoError(t, tok.Check(t.Context()))
}

func TestOpenErrorMessages(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	c := tk.Config
	c.TokenLabel = "no-such-token"
	_, err := hsm.Open(t.Context(), c)
	assert.EqualError(t, err, "hsm: open no-such-token: unknown token: could not find PKCS#11 token")
	c = tk.Config
	c.PINFile = writePIN(t, "0000")
	_, err = hsm.Open(t.Context(), c)
	assert.EqualError(t, err, "hsm: open "+tk.Label+": wrong pin: failed to log into long term session: pkcs11: 0xA0: CKR_PIN_INCORRECT")
}

// TestOpenPINFromEnv reads the PIN from an environment variable (not
// parallel: it sets the environment).
func TestOpenPINFromEnv(t *testing.T) {
	tk := hsmtest.New(t)
	t.Setenv("REGISTRA_TEST_HSM_PIN", hsmtest.PIN)
	c := tk.Config
	c.PINFile, c.PINEnv = "", "REGISTRA_TEST_HSM_PIN"
	tok, err := hsm.Open(t.Context(), c)
	require.NoError(t, err)
	require.NoError(t, tok.Close())
}

func TestMissingKey(t *testing.T) {
	t.Parallel()
	tok := hsmtest.New(t).Open(t)
	const name = "pkcs11:object=never-created"
	_, err := tok.GetPublicKey(&apiv1.GetPublicKeyRequest{Name: name})
	require.ErrorIs(t, err, hsm.ErrNotFound)
	assert.EqualError(t, err, "hsm: get public key pkcs11:object=never-created: key not found")
	_, err = tok.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: name})
	require.ErrorIs(t, err, hsm.ErrNotFound)
	assert.ErrorIs(t, err, apiv1.NotFoundError{})
	assert.NotErrorIs(t, err, hsm.ErrTokenGone)
	assert.ErrorIs(t, tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: name}), hsm.ErrNotFound)
	_, err = tok.KEK(t.Context(), name)
	assert.ErrorIs(t, err, hsm.ErrNotFound)
}

// tokenGone checks that every operation of a token that disappeared fails
// with ErrTokenGone and produces nothing.
func tokenGone(t *testing.T, tok *hsm.Token, s crypto.Signer, kek *hsm.KEK) {
	t.Helper()
	d := sha256.Sum256([]byte("after"))
	sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
	assert.ErrorIs(t, err, hsm.ErrTokenGone)
	assert.Nil(t, sig, "no signature comes with the error")
	_, err = tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=new"})
	assert.ErrorIs(t, err, hsm.ErrTokenGone)
	_, err = tok.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: "pkcs11:object=not-cached"})
	assert.ErrorIs(t, err, hsm.ErrTokenGone)
	sealed, err := kek.Seal(t.Context(), []byte("code"), nil)
	assert.ErrorIs(t, err, hsm.ErrTokenGone)
	assert.Nil(t, sealed)
	_, err = kek.AEAD(t.Context())
	assert.ErrorIs(t, err, hsm.ErrTokenGone)
	assert.ErrorIs(t, tok.Check(t.Context()), hsm.ErrTokenGone)
}

// TestTokenRemoved deletes the token's directory under the running process
// (acceptance 4 of issue #9). It runs in a child process: see
// hsmtest.Token.Remove.
func TestTokenRemoved(t *testing.T) {
	t.Parallel()
	if !hsmtest.Isolated(t) {
		return
	}
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=ca"})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=kek")
	require.NoError(t, err)
	d := sha256.Sum256([]byte("before"))
	_, err = s.Sign(rand.Reader, d[:], crypto.SHA256)
	require.NoError(t, err)
	require.NoError(t, tok.Check(t.Context()))

	tk.Remove(t)

	tokenGone(t, tok, s, kek)
	err = tok.Check(t.Context())
	t.Logf("Check: %v", err)
}

// TestTokenReinitialised re-initialises the token from another process
// while it is open: the token this process logged into is gone.
func TestTokenReinitialised(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	tok := tk.Open(t)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=ca"})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=kek")
	require.NoError(t, err)

	tk.Reinit(t, tk.Label+"-new")

	tokenGone(t, tok, s, kek)
}

// TestPoolBusy holds the only pool session with a long RSA-4096 generation
// and checks that a signature waiting longer than PoolWaitTimeout fails with
// ErrBusy instead of hanging.
func TestPoolBusy(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	c := tk.Config
	c.MaxSessions = 2                         // one persistent session, one in the pool
	c.PoolWaitTimeout = 20 * time.Millisecond // 400 P-256 signatures, a small part of an RSA-4096 generation
	tok, err := hsm.Open(context.Background(), c)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, tok.Close()) })
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=ca"})
	require.NoError(t, err)
	s, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(t, err)

	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for {
			// The signing loop below may hold the session first.
			_, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=big", SignatureAlgorithm: apiv1.SHA256WithRSA, Bits: 4096})
			if !errors.Is(err, hsm.ErrBusy) {
				assert.NoError(t, err)
				return
			}
		}
	})
	d := sha256.Sum256([]byte("x"))
	var busy error
	for busy == nil {
		select {
		case <-done:
			t.Fatal("the RSA-4096 generation ended before any signature had to wait")
		default:
		}
		if _, err := s.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
			busy = err
		}
	}
	wg.Wait()
	assert.ErrorIs(t, busy, hsm.ErrBusy)
	_, err = s.Sign(rand.Reader, d[:], crypto.SHA256)
	assert.NoError(t, err, "signing works again once the session is free")
}
