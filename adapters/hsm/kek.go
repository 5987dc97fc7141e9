//go:build cgo

package hsm

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ThalesGroup/crypto11"
	"github.com/registra-pki/registra/internal/logattr"
)

// kekBits is the size of a key-encryption key: AES-256.
const kekBits = 256

// gcmTagSize is the GCM tag length: the full 128 bits.
const gcmTagSize = 16

// KEK is an AES-256 key-encryption key held in the token, for the code vault
// of package envelope: activation codes are stored encrypted under it
// (DESIGN.md, "Secrets"). Encryption is AES-GCM computed in the token; the
// key value never leaves it (sensitive, not extractable).
type KEK struct {
	t   *Token
	uri string
	key *crypto11.SecretKey
	gcm cipher.AEAD
}

// CreateKEK generates an AES-256 key in the token, named like key pairs (a
// pkcs11: URI with an object and optionally an id, generated when absent).
// A key with the same label or id is [ErrAlreadyExists].
func (t *Token) CreateKEK(ctx context.Context, name string) (*KEK, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := t.resolve("Name", name)
	if err != nil {
		return nil, err
	}
	if k.Object == "" {
		return nil, &FieldError{Field: "Name", Rule: "object (the key label) is required to create a key"}
	}
	if len(k.ID) == 0 {
		k.ID = make([]byte, generatedIDLen)
		if _, err := io.ReadFull(rand.Reader, k.ID); err != nil {
			return nil, &Error{Op: "create kek", Key: k.String(), Kind: ErrDevice, Err: err}
		}
	}
	uri := k.String()
	if t.closed.Load() {
		return nil, &Error{Op: "create kek", Key: uri, Kind: ErrClosed}
	}
	t.createMu.Lock()
	defer t.createMu.Unlock()
	if err := t.absent("create kek", k); err != nil {
		return nil, err
	}
	template, err := crypto11.NewAttributeSetWithIDAndLabel(k.ID, []byte(k.Object))
	if err != nil {
		return nil, &Error{Op: "create kek", Key: uri, Kind: ErrDevice, Err: err}
	}
	for _, a := range []struct {
		typ crypto11.AttributeType
		val bool
	}{
		{crypto11.CkaSensitive, true},
		{crypto11.CkaExtractable, false},
		{crypto11.CkaPrivate, true},
		{crypto11.CkaEncrypt, true},
		{crypto11.CkaDecrypt, true},
	} {
		if err := template.Set(a.typ, a.val); err != nil {
			return nil, &Error{Op: "create kek", Key: uri, Kind: ErrDevice, Err: err}
		}
	}
	key, err := t.p11.GenerateSecretKeyWithAttributes(template, kekBits, crypto11.CipherAES)
	if err != nil {
		return nil, t.fail("create kek", uri, err)
	}
	kek, err := t.newKEK(uri, key)
	if err != nil {
		return nil, err
	}
	t.log.Info("hsm: key-encryption key created", logattr.KeyURI, uri, "token", t.cfg.TokenLabel)
	return kek, nil
}

// KEK returns the key-encryption key named name. A missing key is
// [ErrNotFound]; a secret key that is not AES-256 is [ErrInvalidInput].
func (t *Token) KEK(ctx context.Context, name string) (*KEK, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := t.resolve("Name", name)
	if err != nil {
		return nil, err
	}
	uri := k.String()
	if t.closed.Load() {
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrClosed}
	}
	t.mu.RLock()
	kek, ok := t.keks[uri]
	t.mu.RUnlock()
	if ok {
		return kek, nil
	}
	found, err := t.p11.FindKeys(k.ID, label(k))
	if err != nil {
		return nil, t.fail("open kek", uri, err)
	}
	switch len(found) {
	case 0:
		if err := t.probe.check(); err != nil {
			return nil, &Error{Op: "open kek", Key: uri, Kind: ErrTokenGone, Err: err}
		}
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrNotFound}
	case 1:
	default:
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("name matches %d secret keys: give both object and id", len(found))}
	}
	key := found[0]
	if key.Cipher != crypto11.CipherAES {
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrInvalidInput, Err: errors.New("not an AES key")}
	}
	attr, err := t.p11.GetAttribute(key, crypto11.CkaValueLen)
	if err != nil {
		return nil, t.fail("open kek", uri, err)
	}
	if n := ulong(attr.Value); n != kekBits/8 {
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("AES key of %d bytes, not %d", n, kekBits/8)}
	}
	return t.newKEK(uri, key)
}

// ulong decodes a CK_ULONG attribute value (native byte order).
func ulong(b []byte) uint64 {
	switch len(b) {
	case 8:
		return binary.NativeEndian.Uint64(b)
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return 0
}

// newKEK wraps a secret key and caches it.
func (t *Token) newKEK(uri string, key *crypto11.SecretKey) (*KEK, error) {
	gcm, err := key.NewGCM()
	if err != nil {
		return nil, &Error{Op: "open kek", Key: uri, Kind: ErrDevice, Err: err}
	}
	kek := &KEK{t: t, uri: uri, key: key, gcm: gcm}
	t.mu.Lock()
	t.keks[uri] = kek
	t.mu.Unlock()
	return kek, nil
}

// KeyID returns the canonical pkcs11: URI of the key, the name stored with
// every record sealed under it.
func (k *KEK) KeyID() string { return k.uri }

// AEAD returns AES-256-GCM computed in the token, with 12-byte nonces and
// 16-byte tags, for callers that need a cipher.AEAD; envelope.Vault uses
// [KEK.Seal] and [KEK.Open] instead. It first asks the slot whether the token is still there, so
// a lost token is an error here ([ErrTokenGone], [ErrClosed]) rather than in
// Seal. The AEAD's Open returns errors unwrapping to [ErrDecrypt],
// [ErrTokenGone] and so on; its Seal, which cipher.AEAD does not let fail,
// panics with such an *[Error] if the token fails in between (use
// [KEK.Seal] to get an error instead). It is safe for concurrent use.
func (k *KEK) AEAD(ctx context.Context) (cipher.AEAD, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if k.t.closed.Load() {
		return nil, &Error{Op: "aead", Key: k.uri, Kind: ErrClosed}
	}
	if err := k.t.probe.check(); err != nil {
		return nil, &Error{Op: "aead", Key: k.uri, Kind: ErrTokenGone, Err: err}
	}
	return tokenGCM{k}, nil
}

// Seal encrypts and authenticates plaintext and additionalData with a fresh
// random nonce and returns nonce || ciphertext || tag.
func (k *KEK) Seal(ctx context.Context, plaintext, additionalData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nonce := make([]byte, gcmNonceSize, gcmNonceSize+len(plaintext)+gcmTagSize)
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, &Error{Op: "seal", Key: k.uri, Kind: ErrDevice, Err: err}
	}
	return k.seal(nonce, nonce, plaintext, additionalData)
}

// Open authenticates and decrypts the output of [KEK.Seal].
func (k *KEK) Open(ctx context.Context, sealed, additionalData []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(sealed) < gcmNonceSize+gcmTagSize {
		return nil, &Error{Op: "open", Key: k.uri, Kind: ErrDecrypt, Err: errors.New("sealed data too short")}
	}
	return k.open(nil, sealed[:gcmNonceSize], sealed[gcmNonceSize:], additionalData)
}

// seal runs the token's GCM encryption, turning crypto11's panic (it has no
// other way to report a failed C_Encrypt through cipher.AEAD) into an error.
func (k *KEK) seal(dst, nonce, plaintext, additionalData []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize {
		return nil, &Error{Op: "seal", Key: k.uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("nonce of %d bytes, not %d", len(nonce), gcmNonceSize)}
	}
	if k.t.closed.Load() {
		return nil, &Error{Op: "seal", Key: k.uri, Kind: ErrClosed}
	}
	var out []byte
	var failure error
	func() {
		defer func() {
			if r := recover(); r != nil {
				if e, ok := r.(error); ok {
					failure = e
				} else {
					failure = fmt.Errorf("%v", r)
				}
			}
		}()
		out = k.gcm.Seal(dst, nonce, plaintext, additionalData)
	}()
	if failure != nil {
		return nil, k.t.fail("seal", k.uri, failure)
	}
	return out, nil
}

// open runs the token's GCM decryption. A failed C_Decrypt on a healthy
// token is an authentication failure (CKR_ENCRYPTED_DATA_INVALID, or the
// module's generic answer to a bad tag).
func (k *KEK) open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize {
		return nil, &Error{Op: "open", Key: k.uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("nonce of %d bytes, not %d", len(nonce), gcmNonceSize)}
	}
	if k.t.closed.Load() {
		return nil, &Error{Op: "open", Key: k.uri, Kind: ErrClosed}
	}
	out, err := k.gcm.Open(dst, nonce, ciphertext, additionalData)
	if err != nil {
		e := k.t.fail("open", k.uri, err)
		if te, ok := errors.AsType[*Error](e); ok && te.Kind == ErrDevice && strings.HasPrefix(err.Error(), "C_Decrypt:") {
			te.Kind = ErrDecrypt
		}
		return nil, e
	}
	return out, nil
}

// tokenGCM is the cipher.AEAD of a KEK.
type tokenGCM struct{ k *KEK }

// NonceSize returns 12.
func (g tokenGCM) NonceSize() int { return gcmNonceSize }

// Overhead returns 16, the tag size.
func (g tokenGCM) Overhead() int { return gcmTagSize }

// Seal implements cipher.AEAD; it panics with an *Error if the token fails.
func (g tokenGCM) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	out, err := g.k.seal(dst, nonce, plaintext, additionalData)
	if err != nil {
		panic(err)
	}
	return out
}

// Open implements cipher.AEAD.
func (g tokenGCM) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	return g.k.open(dst, nonce, ciphertext, additionalData)
}
