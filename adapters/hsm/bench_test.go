//go:build cgo

package hsm_test

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/stretchr/testify/require"
	"go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/adapters/hsm"
	"github.com/registra-pki/registra/adapters/hsm/hsmtest"
)

// rawContext opens a second crypto11 context on the token, the raw
// primitive the adapter is measured against. It shares the module (and the
// login) with the Token, as crypto11 does for one module path.
func rawContext(b *testing.B, tk *hsmtest.Token) *crypto11.Context {
	b.Helper()
	c, err := crypto11.Configure(&crypto11.Config{
		Path:        tk.Config.ModulePath,
		TokenLabel:  tk.Label,
		Pin:         hsmtest.PIN,
		MaxSessions: hsm.DefaultMaxSessions,
	})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, c.Close()) })
	return c
}

// signBlock makes n signatures with s on g goroutines and returns the
// elapsed time.
func signBlock(b *testing.B, s crypto.Signer, digest []byte, g, n int) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for range g {
		wg.Go(func() {
			for range n / g {
				if _, err := s.Sign(rand.Reader, digest, crypto.SHA256); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkSignP256 measures ECDSA P-256 signatures per second through the
// adapter (Token.CreateSigner) and directly through crypto11, on the same
// key of the same token, with 1 and 2 goroutines (issue #9 target: adapter
// ÷ crypto11 >= 0.9). The two alternate in blocks of 32 signatures, in ABBA
// order, so that the load of a shared machine falls on both alike; ratio is
// the median of the per-block ratios, total-ratio the ratio of the totals.
func BenchmarkSignP256(b *testing.B) {
	tk := hsmtest.New(b)
	tok := tk.Open(b)
	resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: "pkcs11:object=bench;id=%01", SignatureAlgorithm: apiv1.ECDSAWithSHA256})
	require.NoError(b, err)
	adapter, err := tok.CreateSigner(&resp.CreateSignerRequest)
	require.NoError(b, err)
	direct, err := rawContext(b, tk).FindKeyPair([]byte{1}, []byte("bench"))
	require.NoError(b, err)
	digest := sha256.Sum256([]byte("registra"))

	for _, g := range []int{1, 2} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			const block = 32
			var tDirect, tAdapter time.Duration
			var ratios []float64
			n := 0
			for i := 0; n < b.N; i, n = i+1, n+block {
				var d, a time.Duration
				if i%2 == 0 {
					d = signBlock(b, direct, digest[:], g, block)
					a = signBlock(b, adapter, digest[:], g, block)
				} else {
					a = signBlock(b, adapter, digest[:], g, block)
					d = signBlock(b, direct, digest[:], g, block)
				}
				tDirect, tAdapter = tDirect+d, tAdapter+a
				ratios = append(ratios, d.Seconds()/a.Seconds())
			}
			slices.Sort(ratios)
			direct := float64(n) / tDirect.Seconds()
			viaAdapter := float64(n) / tAdapter.Seconds()
			b.ReportMetric(direct, "crypto11-sigs/s")
			b.ReportMetric(viaAdapter, "adapter-sigs/s")
			b.ReportMetric(viaAdapter/direct, "total-ratio")
			b.ReportMetric(ratios[len(ratios)/2], "ratio")
		})
	}
}

// BenchmarkFindKey shows what the handle cache saves: CreateSigner on a
// token holding 200 key pairs (cached) against crypto11's FindKeyPair,
// which SoftHSM2 answers with a linear scan of the token's objects.
func BenchmarkFindKey(b *testing.B) {
	tk := hsmtest.New(b)
	tok := tk.Open(b)
	var last string
	for i := range 200 {
		resp, err := tok.CreateKey(&apiv1.CreateKeyRequest{Name: fmt.Sprintf("pkcs11:object=holder-%03d", i)})
		require.NoError(b, err)
		last = resp.Name
	}
	raw := rawContext(b, tk)
	b.Run("adapter-cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := tok.CreateSigner(&apiv1.CreateSignerRequest{SigningKey: last}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("crypto11-FindKeyPair", func(b *testing.B) {
		for b.Loop() {
			if _, err := raw.FindKeyPair(nil, []byte("holder-199")); err != nil {
				b.Fatal(err)
			}
		}
	})
}
