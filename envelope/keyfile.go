package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/registra-pki/registra/internal/atomicfile"
)

// KEK is the key-encryption key that protects codes in the [Vault]. The key
// itself never leaves its holder: the vault asks it to seal and open data
// with AES-256-GCM. [KeyFile] is the software default; the HSM adapter
// satisfies KEK with an AES key inside the token. Seal returns an error
// rather than panicking as cipher.AEAD's Seal would have to, because an HSM
// can fail in the middle of an operation.
type KEK interface {
	// KeyID names the key. It is stored with every record so that a record
	// sealed under another key fails with a clear error.
	KeyID() string
	// Seal encrypts and authenticates plaintext and additionalData with
	// AES-256-GCM under a fresh random 12-byte nonce and returns
	// nonce || ciphertext || 16-byte tag. It may talk to an HSM, hence ctx.
	Seal(ctx context.Context, plaintext, additionalData []byte) ([]byte, error)
	// Open authenticates and decrypts the output of Seal. When sealed or
	// additionalData were changed, or another key sealed them, its error
	// matches [ErrIntegrity] (errors.Is); any other error is the device's.
	Open(ctx context.Context, sealed, additionalData []byte) ([]byte, error)
}

// Sizes of the AES-GCM nonce and tag in a sealed KEK output.
const (
	kekNonceSize = 12
	kekTagSize   = 16
)

// KeyFileName is the file, inside [KeyFileConfig].Dir, that holds the
// software KEK.
const KeyFileName = "vault.kek"

// KeyFileConfig configures [OpenKeyFile].
type KeyFileConfig struct {
	// Dir is the directory holding the key file; it is created with mode
	// 0700 when missing. Required.
	Dir string
	// Rand is the source of the key when one is created; nil means
	// crypto/rand.
	Rand io.Reader
}

// Validate checks the config's fields.
func (c *KeyFileConfig) Validate() error {
	if c.Dir == "" {
		return &FieldError{Field: "dir", Rule: "is required"}
	}
	return nil
}

// KeyFile is the software KEK: 32 random bytes in a file of mode 0600.
type KeyFile struct {
	id   string
	aead cipher.AEAD
}

var _ KEK = (*KeyFile)(nil)

// OpenKeyFile loads the key in cfg.Dir, creating it first if the directory
// holds none. Creation is atomic and never overwrites: the key is written
// to a temporary file, synced, then hard-linked to its name, so two
// processes racing to create it end up sharing one key. A key file readable
// by group or others, or of the wrong size, is refused.
func OpenKeyFile(cfg KeyFileConfig) (*KeyFile, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Rand == nil {
		cfg.Rand = cryptorand.Reader
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("envelope: key file: creating directory: %w", err)
	}
	path := filepath.Join(cfg.Dir, KeyFileName)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createKeyFile(path, cfg.Rand); err != nil {
			return nil, err
		}
		key, err = readKeyFile(path)
	}
	if err != nil {
		return nil, err
	}
	return newKeyFile(key)
}

func newKeyFile(key []byte) (*KeyFile, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("envelope: key file: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("envelope: key file: %w", err)
	}
	// The ID is a key check value: a hash of the key under a fixed label,
	// which names the key without revealing it.
	sum := sha256.Sum256(append([]byte("registra envelope kek id\x00"), key...))
	return &KeyFile{id: "file:" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("envelope: key file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("envelope: key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, &FieldError{Field: "key_file", Rule: "must not be readable by group or others (mode 0600)"}
	}
	key := make([]byte, 33)
	n, err := io.ReadFull(f, key)
	if n != 32 || !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, &FieldError{Field: "key_file", Rule: "must hold exactly 32 bytes"}
	}
	return key[:32], nil
}

func createKeyFile(path string, r io.Reader) error {
	key := make([]byte, 32)
	if _, err := io.ReadFull(r, key); err != nil {
		return fmt.Errorf("envelope: key file: reading random bytes: %w", err)
	}
	defer clear(key)
	// Create, unlike a rename, fails when the name exists: a concurrent
	// creator wins and we read its key.
	if err := atomicfile.Create(path, key, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("envelope: key file: %w", err)
	}
	return nil
}

// KeyID returns "file:" and the first 8 bytes, in hex, of a hash of the key.
func (k *KeyFile) KeyID() string { return k.id }

// Seal encrypts and authenticates plaintext and additionalData under the key
// with a fresh random nonce; see [KEK].
func (k *KeyFile) Seal(ctx context.Context, plaintext, additionalData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nonce := make([]byte, kekNonceSize, kekNonceSize+len(plaintext)+kekTagSize)
	if _, err := io.ReadFull(cryptorand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("envelope: key file: reading random bytes: %w", err)
	}
	return k.aead.Seal(nonce, nonce, plaintext, additionalData), nil
}

// Open authenticates and decrypts the output of [KeyFile.Seal]. It fails
// with [ErrIntegrity] when anything was changed.
func (k *KeyFile) Open(ctx context.Context, sealed, additionalData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(sealed) < kekNonceSize+kekTagSize {
		return nil, ErrIntegrity
	}
	pt, err := k.aead.Open(nil, sealed[:kekNonceSize], sealed[kekNonceSize:], additionalData)
	if err != nil {
		return nil, ErrIntegrity
	}
	return pt, nil
}
