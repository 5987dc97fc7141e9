//go:build cgo

package hsm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"
)

// nopKey is a key pair posing as a crypto11 one whose Sign does no
// cryptography, so that what the adapter adds to a signature shows in
// nanoseconds rather than drowning in the noise of a real signature.
type nopKey struct {
	pub crypto.PublicKey
	sig []byte
}

func (k nopKey) Public() crypto.PublicKey { return k.pub }
func (k nopKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return k.sig, nil
}
func (nopKey) Delete() error { return nil }

// BenchmarkSignerOverhead isolates the adapter's own cost per signature
// (closed check, RSA options guard; errors are classified only on failure):
// the same no-op key signs directly and through the adapter's signer.
func BenchmarkSignerOverhead(b *testing.B) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	key := nopKey{pub: k.Public(), sig: []byte{0x30, 0}}
	wrapped := &signer{t: &Token{}, key: &cachedKey{uri: "pkcs11:object=nop", signer: key}}
	digest := sha256.Sum256([]byte("registra"))
	for _, tc := range []struct {
		name string
		s    crypto.Signer
	}{{"direct", key}, {"adapter", wrapped}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := tc.s.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
