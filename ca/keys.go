package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"

	kmsapi "go.step.sm/crypto/kms/apiv1"
	"go.step.sm/crypto/kms/softkms"
	"go.step.sm/crypto/pemutil"

	"github.com/registra-pki/registra/internal/atomicfile"
)

// KeyAlgorithm selects the algorithm and size of the hierarchy's keys. The
// zero value means [ECDSAP256].
type KeyAlgorithm int

// The key algorithms a hierarchy can use. Their String values are stored in
// the hierarchy manifest and never change.
const (
	// ECDSAP256 is ECDSA on NIST P-256 with SHA-256 signatures.
	ECDSAP256 KeyAlgorithm = iota + 1
	// ECDSAP384 is ECDSA on NIST P-384 with SHA-384 signatures.
	ECDSAP384
	// RSA3072 is RSA with a 3072-bit modulus and SHA-256 PKCS #1 v1.5
	// signatures.
	RSA3072
	// RSA4096 is RSA with a 4096-bit modulus and SHA-256 PKCS #1 v1.5
	// signatures.
	RSA4096
)

var keyAlgorithmNames = map[KeyAlgorithm]string{
	ECDSAP256: "ECDSA-P256",
	ECDSAP384: "ECDSA-P384",
	RSA3072:   "RSA-3072",
	RSA4096:   "RSA-4096",
}

// String returns the stable name of a, e.g. "ECDSA-P256".
func (a KeyAlgorithm) String() string {
	if n, ok := keyAlgorithmNames[a]; ok {
		return n
	}
	return fmt.Sprintf("KeyAlgorithm(%d)", int(a))
}

// ParseKeyAlgorithm returns the algorithm named by s ("ECDSA-P256",
// "ECDSA-P384", "RSA-3072", "RSA-4096").
func ParseKeyAlgorithm(s string) (KeyAlgorithm, error) {
	for a, n := range keyAlgorithmNames {
		if n == s {
			return a, nil
		}
	}
	return 0, &FieldError{Field: "KeyAlgorithm", Rule: fmt.Sprintf("unknown algorithm %q: use ECDSA-P256, ECDSA-P384, RSA-3072 or RSA-4096", s)}
}

func (a KeyAlgorithm) orDefault() KeyAlgorithm {
	if a == 0 {
		return ECDSAP256
	}
	return a
}

func (a KeyAlgorithm) valid() bool {
	_, ok := keyAlgorithmNames[a]
	return ok
}

// createKeyRequest returns the key manager request for a key of algorithm a
// named name.
func (a KeyAlgorithm) createKeyRequest(name string) *kmsapi.CreateKeyRequest {
	req := &kmsapi.CreateKeyRequest{Name: name}
	switch a {
	case ECDSAP256:
		req.SignatureAlgorithm = kmsapi.ECDSAWithSHA256
	case ECDSAP384:
		req.SignatureAlgorithm = kmsapi.ECDSAWithSHA384
	case RSA3072:
		req.SignatureAlgorithm, req.Bits = kmsapi.SHA256WithRSA, 3072
	case RSA4096:
		req.SignatureAlgorithm, req.Bits = kmsapi.SHA256WithRSA, 4096
	}
	return req
}

// matches reports whether pub is a key of algorithm a.
func (a KeyAlgorithm) matches(pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return (a == ECDSAP256 && k.Curve == elliptic.P256()) || (a == ECDSAP384 && k.Curve == elliptic.P384())
	case *rsa.PublicKey:
		return (a == RSA3072 && k.N.BitLen() == 3072) || (a == RSA4096 && k.N.BitLen() == 4096)
	}
	return false
}

// signatureAlgorithm returns the x509 signature algorithm a CA key of
// algorithm a signs with.
func (a KeyAlgorithm) signatureAlgorithm() x509.SignatureAlgorithm {
	switch a {
	case ECDSAP384:
		return x509.ECDSAWithSHA384
	case RSA3072, RSA4096:
		return x509.SHA256WithRSA
	default:
		return x509.ECDSAWithSHA256
	}
}

// KeyRef records where a hierarchy key lives. Exactly one field is set.
type KeyRef struct {
	// File is the path, relative to the data directory, of a software key
	// stored as PKCS #8 PEM (encrypted with PBES2 when a password is set),
	// mode 0600.
	File string `json:"file,omitempty"`
	// Name is the key's name in the key manager, as its CreateKey returned
	// it (for example a pkcs11: URI, RFC 7512). The key never leaves the
	// key manager.
	Name string `json:"name,omitempty"`
}

// keyStore creates and reopens the hierarchy's keys.
//
// A key manager that hands back the private key from CreateKey (softkms, and
// any software manager) does not keep it anywhere: softkms's CreateKey
// ignores Name. Such keys are written by us as PKCS #8 PEM files under the
// data directory and reopened with softkms from the file. A key manager that
// keeps the key (an HSM) returns only a name and a public key: we record the
// name and reopen the key with CreateSigner, so the key never leaves it.
type keyStore struct {
	dir      string
	km       kmsapi.KeyManager // nil means software keys only
	soft     *softkms.SoftKMS
	password []byte
}

func newKeyStore(dir string, km kmsapi.KeyManager, password []byte) *keyStore {
	return &keyStore{dir: dir, km: km, soft: &softkms.SoftKMS{}, password: password}
}

// create makes a new key named name (for the key manager) or stored as
// file role+".key" (for software keys).
func (s *keyStore) create(alg KeyAlgorithm, role, name string) (KeyRef, crypto.Signer, error) {
	km := s.km
	if km == nil {
		km = s.soft
		name = ""
	}
	resp, err := km.CreateKey(alg.createKeyRequest(name))
	if err != nil {
		return KeyRef{}, nil, fmt.Errorf("ca: creating %s key: %w", role, err)
	}
	if resp.PrivateKey != nil {
		signer, ok := resp.PrivateKey.(crypto.Signer)
		if !ok {
			return KeyRef{}, nil, fmt.Errorf("ca: creating %s key: private key %T is not a crypto.Signer", role, resp.PrivateKey)
		}
		ref, err := s.persist(role, signer)
		if err != nil {
			return KeyRef{}, nil, err
		}
		return ref, signer, nil
	}
	if resp.Name == "" {
		return KeyRef{}, nil, fmt.Errorf("ca: creating %s key: key manager returned neither a key name nor a private key", role)
	}
	sreq := resp.CreateSignerRequest
	if sreq.Signer == nil && sreq.SigningKey == "" && len(sreq.SigningKeyPEM) == 0 {
		sreq.SigningKey = resp.Name
	}
	signer, err := km.CreateSigner(&sreq)
	if err != nil {
		return KeyRef{}, nil, fmt.Errorf("ca: opening %s key %s: %w", role, resp.Name, err)
	}
	return KeyRef{Name: resp.Name}, signer, nil
}

// persist writes a software key as PKCS #8 PEM, mode 0600, under
// dir/keys/<role>.key.
func (s *keyStore) persist(role string, key crypto.Signer) (KeyRef, error) {
	opts := []pemutil.Options{pemutil.WithPKCS8(true)}
	if len(s.password) > 0 {
		opts = append(opts, pemutil.WithPassword(s.password))
	}
	block, err := pemutil.Serialize(key, opts...)
	if err != nil {
		return KeyRef{}, fmt.Errorf("ca: encoding %s key: %w", role, err)
	}
	rel := filepath.Join("keys", role+".key")
	if err := os.MkdirAll(filepath.Join(s.dir, "keys"), 0o700); err != nil {
		return KeyRef{}, fmt.Errorf("ca: creating key directory: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(s.dir, rel), pemEncode(block), 0o600); err != nil {
		return KeyRef{}, fmt.Errorf("ca: writing %s key: %w", role, err)
	}
	return KeyRef{File: rel}, nil
}

// open reopens a key recorded in the manifest.
func (s *keyStore) open(ref KeyRef) (crypto.Signer, error) {
	switch {
	case ref.File != "" && ref.Name != "":
		return nil, fmt.Errorf("key reference names both a file and a key manager key")
	case ref.File != "":
		if filepath.IsAbs(ref.File) || !filepath.IsLocal(ref.File) {
			return nil, fmt.Errorf("key file %q is outside the data directory", ref.File)
		}
		path := filepath.Join(s.dir, ref.File)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("key file %s has mode %v: group and others must have no access", ref.File, fi.Mode().Perm())
		}
		return s.soft.CreateSigner(&kmsapi.CreateSignerRequest{SigningKey: path, Password: s.password})
	case ref.Name != "":
		if s.km == nil {
			return nil, fmt.Errorf("key %s is held by a key manager and HierarchyConfig.KeyManager is nil", ref.Name)
		}
		return s.km.CreateSigner(&kmsapi.CreateSignerRequest{SigningKey: ref.Name})
	default:
		return nil, fmt.Errorf("key reference is empty")
	}
}
