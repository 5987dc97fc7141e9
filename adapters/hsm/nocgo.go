//go:build !cgo

package hsm

import (
	"context"
	"crypto"
	"crypto/cipher"

	"go.step.sm/crypto/kms/apiv1"
)

// This file keeps the package's API in binaries built with CGO_ENABLED=0,
// where no PKCS#11 module can be loaded (smallstep's pkcs11_no_cgo.go
// pattern): Open validates its Config and then fails with ErrNoCgo, so a
// server configured for an HSM says why at startup instead of failing to
// compile.

// Token is a logged-in PKCS#11 token. Built without cgo, none can be opened.
type Token struct{}

var (
	_ apiv1.KeyManager = (*Token)(nil)
	_ apiv1.KeyDeleter = (*Token)(nil)
)

// Open validates cfg and returns [ErrNoCgo]: this binary cannot load PKCS#11
// modules.
func Open(ctx context.Context, cfg Config) (*Token, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, &Error{Op: "open", Key: cfg.TokenLabel, Kind: ErrNoCgo}
}

func noCgo(op string) error { return &Error{Op: op, Kind: ErrNoCgo} }

// Label returns the empty string.
func (t *Token) Label() string { return "" }

// Check returns [ErrNoCgo].
func (t *Token) Check(context.Context) error { return noCgo("check") }

// Close returns nil.
func (t *Token) Close() error { return nil }

// GetPublicKey returns [ErrNoCgo].
func (t *Token) GetPublicKey(*apiv1.GetPublicKeyRequest) (crypto.PublicKey, error) {
	return nil, noCgo("get public key")
}

// CreateKey returns [ErrNoCgo].
func (t *Token) CreateKey(*apiv1.CreateKeyRequest) (*apiv1.CreateKeyResponse, error) {
	return nil, noCgo("create key")
}

// CreateSigner returns [ErrNoCgo].
func (t *Token) CreateSigner(*apiv1.CreateSignerRequest) (crypto.Signer, error) {
	return nil, noCgo("create signer")
}

// DeleteKey returns [ErrNoCgo].
func (t *Token) DeleteKey(*apiv1.DeleteKeyRequest) error { return noCgo("delete key") }

// KEK is an AES-256 key-encryption key held in the token. Built without cgo,
// none exists.
type KEK struct{}

// CreateKEK returns [ErrNoCgo].
func (t *Token) CreateKEK(context.Context, string) (*KEK, error) { return nil, noCgo("create kek") }

// KEK returns [ErrNoCgo].
func (t *Token) KEK(context.Context, string) (*KEK, error) { return nil, noCgo("open kek") }

// KeyID returns the empty string.
func (k *KEK) KeyID() string { return "" }

// AEAD returns [ErrNoCgo].
func (k *KEK) AEAD(context.Context) (cipher.AEAD, error) { return nil, noCgo("aead") }

// Seal returns [ErrNoCgo].
func (k *KEK) Seal(context.Context, []byte, []byte) ([]byte, error) { return nil, noCgo("seal") }

// Open returns [ErrNoCgo].
func (k *KEK) Open(context.Context, []byte, []byte) ([]byte, error) { return nil, noCgo("open") }
