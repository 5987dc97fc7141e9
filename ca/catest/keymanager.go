package catest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"

	kmsapi "go.step.sm/crypto/kms/apiv1"
)

// KeyManager is an in-memory kmsapi.KeyManager that behaves like an HSM:
// CreateKey returns only the key's name and public key, never the private
// key, and CreateSigner finds the key by name. Use one value across
// OpenHierarchy calls to test reopening.
type KeyManager struct {
	mu   sync.Mutex
	keys map[string]crypto.Signer
	// Calls counts CreateSigner calls.
	Calls int
}

var _ kmsapi.KeyManager = (*KeyManager)(nil)

// NewKeyManager returns an empty key manager.
func NewKeyManager() *KeyManager { return &KeyManager{keys: map[string]crypto.Signer{}} }

// CreateKey generates a key named req.Name; an existing name is an error,
// as on a token.
func (k *KeyManager) CreateKey(req *kmsapi.CreateKeyRequest) (*kmsapi.CreateKeyResponse, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if req.Name == "" {
		return nil, fmt.Errorf("catest: key name required")
	}
	if _, ok := k.keys[req.Name]; ok {
		return nil, fmt.Errorf("catest: key %s exists", req.Name)
	}
	var (
		key crypto.Signer
		err error
	)
	switch req.SignatureAlgorithm {
	case kmsapi.ECDSAWithSHA256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case kmsapi.ECDSAWithSHA384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case kmsapi.SHA256WithRSA:
		key, err = rsa.GenerateKey(rand.Reader, req.Bits)
	default:
		return nil, fmt.Errorf("catest: unsupported algorithm %v", req.SignatureAlgorithm)
	}
	if err != nil {
		return nil, err
	}
	k.keys[req.Name] = key
	return &kmsapi.CreateKeyResponse{
		Name:                req.Name,
		PublicKey:           key.Public(),
		CreateSignerRequest: kmsapi.CreateSignerRequest{SigningKey: req.Name},
	}, nil
}

// CreateSigner returns the key named req.SigningKey.
func (k *KeyManager) CreateSigner(req *kmsapi.CreateSignerRequest) (crypto.Signer, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.Calls++
	key, ok := k.keys[req.SigningKey]
	if !ok {
		return nil, fmt.Errorf("catest: key %s not found", req.SigningKey)
	}
	return key, nil
}

// GetPublicKey returns the public key of the key named req.Name.
func (k *KeyManager) GetPublicKey(req *kmsapi.GetPublicKeyRequest) (crypto.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[req.Name]
	if !ok {
		return nil, fmt.Errorf("catest: key %s not found", req.Name)
	}
	return key.Public(), nil
}

// Close does nothing.
func (k *KeyManager) Close() error { return nil }
