//go:build cgo

package hsm_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// TestConcurrentUse signs, creates keys and seals from many goroutines on a
// pool smaller than the number of goroutines (run it with -race).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	c := tk.Config
	c.MaxSessions = 4
	tok, err := hsm.Open(t.Context(), c)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, tok.Close()) })
	shared, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=shared"})
	require.NoError(t, err)
	kek, err := tok.CreateKEK(t.Context(), "pkcs11:object=kek")
	require.NoError(t, err)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			own, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: fmt.Sprintf("pkcs11:object=own-%d", g)})
			if !assert.NoError(t, err) {
				return
			}
			for i := range 25 {
				for _, resp := range []*apiv1.CreateKeyResponse{shared, own} {
					s, err := tok.CreateSigner(&resp.CreateSignerRequest)
					if !assert.NoError(t, err) {
						return
					}
					d := sha256.Sum256(fmt.Appendf(nil, "%d/%d", g, i))
					sig, err := s.Sign(rand.Reader, d[:], crypto.SHA256)
					if !assert.NoError(t, err) {
						return
					}
					assert.True(t, ecdsa.VerifyASN1(resp.PublicKey.(*ecdsa.PublicKey), d[:], sig))
				}
				msg := fmt.Appendf(nil, "code %d/%d", g, i)
				sealed, err := kek.Seal(t.Context(), msg, nil)
				if !assert.NoError(t, err) {
					return
				}
				got, err := kek.Open(t.Context(), sealed, nil)
				assert.NoError(t, err)
				assert.Equal(t, msg, got)
			}
		})
	}
	wg.Wait()
	assert.Len(t, tk.Objects(t), 2*9+1)
}

// TestLogging checks that the configured logger hears about the token and
// key events, by key name, and never sees the PIN.
func TestLogging(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	c := tk.Config
	c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		// No timestamps: the PIN's digits could show up in one.
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	tok, err := hsm.Open(t.Context(), c)
	require.NoError(t, err)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=logged"})
	require.NoError(t, err)
	require.NoError(t, tok.DeleteKey(&apiv1.DeleteKeyRequest{Name: resp.Name}))
	require.NoError(t, tok.Close())
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"token open", "token=" + tk.Label, "key created", "key destroyed", `key_uri="` + resp.Name + `"`, "token closed"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, hsmtest.PIN)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCrypto11PathSpellingsCollide records the pitfall Open avoids by
// resolving symbolic links: crypto11 shares a module only between contexts
// opened with the same path string, and a second spelling of the loaded
// library fails with CKR_CRYPTOKI_ALREADY_INITIALIZED.
func TestCrypto11PathSpellingsCollide(t *testing.T) {
	t.Parallel()
	tk := hsmtest.New(t)
	require.NotEqual(t, hsmtest.ModulePath, tk.Config.ModulePath)
	_, err := crypto11.Configure(&crypto11.Config{Path: hsmtest.ModulePath, TokenLabel: tk.Label, Pin: hsmtest.PIN})
	require.Error(t, err)
	p11, ok := errors.AsType[pkcs11.Error](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED), p11)
	assert.True(t, strings.Contains(err.Error(), "failed to initialize module"), err.Error())
}
