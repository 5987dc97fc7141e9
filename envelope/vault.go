package envelope

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"

	cryptorand "crypto/rand"

	"golang.org/x/crypto/argon2"

	"github.com/registra-pki/registra/internal/logattr"
)

// HashParams are Argon2id's cost parameters (RFC 9106 §3.1).
type HashParams struct {
	// Time is the number of passes.
	Time uint32 `json:"time"`
	// MemoryKiB is the memory used, in KiB.
	MemoryKiB uint32 `json:"memory_kib"`
	// Threads is the degree of parallelism.
	Threads uint8 `json:"threads"`
}

// DefaultHashParams follows RFC 9106 §4's second recommended option (t=3,
// 64 MiB, 4 lanes), for machines where 2 GiB per hash is too much.
var DefaultHashParams = HashParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// Validate checks the parameters against RFC 9106 §3.1's ranges and an
// upper bound that keeps a forged record from exhausting memory.
func (p HashParams) Validate() error {
	switch {
	case p.Time < 1 || p.Time > 16:
		return &FieldError{Field: "hash.time", Rule: "must be between 1 and 16"}
	case p.Threads < 1:
		return &FieldError{Field: "hash.threads", Rule: "must be at least 1"}
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<21:
		return &FieldError{Field: "hash.memory_kib", Rule: "must be between 8×threads and 2 GiB"}
	}
	return nil
}

const (
	recordVersion = 1
	saltSize      = 16
	hashSize      = 32
	maxRecord     = 64 << 10
)

// VaultConfig configures [NewVault].
type VaultConfig struct {
	// KEK encrypts the codes. Required.
	KEK KEK
	// Hash is the cost of the slow hashes kept for verifiable codes; the
	// zero value means [DefaultHashParams].
	Hash HashParams
	// Rand is the source of the salts of the slow hashes; nil means
	// crypto/rand. Nonces come from the KEK.
	Rand io.Reader
	// Gate bounds the slow hashes that run at once; nil means no bound.
	Gate Gate
	// Logger receives debug lines naming products and keys, never codes;
	// nil discards them.
	Logger *slog.Logger
}

// Validate checks the config's fields together.
func (c *VaultConfig) Validate() error {
	if c.KEK == nil {
		return &FieldError{Field: "kek", Rule: "is required"}
	}
	if c.Hash != (HashParams{}) {
		return c.Hash.Validate()
	}
	return nil
}

// Gate bounds how many slow hashes run at once: each Argon2id hash holds
// its memory (64 MiB with [DefaultHashParams]) while it runs. The registra
// package shares one gate between the vault and the operators' passwords.
type Gate interface {
	// Enter returns when a hash may start, or fails with ctx's error or the
	// gate's own (too many already waiting). After a nil error the caller
	// must call Leave.
	Enter(ctx context.Context) error
	// Leave ends a hash started by Enter.
	Leave()
}

// Vault keeps activation codes at rest: encrypted with AES-256-GCM under the
// KEK, with the product ID as associated data, so that a record moved to
// another product does not open. Verifiable codes (see [CodeSpec]) are also
// hashed with Argon2id so that they can be checked without decrypting
// anything. The vault itself stores nothing: it turns codes into a
// [Record] for the store, and back.
type Vault struct {
	kek  KEK
	hash HashParams
	rand io.Reader
	gate Gate
	log  *slog.Logger
}

// NewVault returns a vault. It copies cfg.
func NewVault(cfg VaultConfig) (*Vault, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := &Vault{kek: cfg.KEK, hash: cfg.Hash, rand: cfg.Rand, gate: cfg.Gate, log: cfg.Logger}
	if v.hash == (HashParams{}) {
		v.hash = DefaultHashParams
	}
	if v.rand == nil {
		v.rand = cryptorand.Reader
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	return v, nil
}

// Record is a product's codes at rest. Nothing in it is a code in clear.
type Record struct {
	// Version is the record format, 1.
	Version int `json:"v"`
	// ProductID is the product the codes belong to; it is the GCM
	// associated data.
	ProductID string `json:"product_id"`
	// KeyID names the KEK that sealed the record.
	KeyID string `json:"key_id"`
	// Nonce is the 12-byte GCM nonce.
	Nonce []byte `json:"nonce"`
	// Ciphertext is the sealed payload (codes and tag).
	Ciphertext []byte `json:"ciphertext"`
	// Hashes are the slow hashes of the verifiable codes.
	Hashes []CodeHash `json:"hashes,omitempty"`
}

// CodeHash is the Argon2id hash of one verifiable code.
type CodeHash struct {
	// Name is the code's name.
	Name CodeName `json:"name"`
	// Params are the cost parameters the hash was made with.
	Params HashParams `json:"params"`
	// Salt is 16 random bytes.
	Salt []byte `json:"salt"`
	// Hash is the 32-byte Argon2id output.
	Hash []byte `json:"hash"`
}

// vaultPlain is the sealed payload: codes in order. Only this package
// ever sees it decrypted.
type vaultPlain struct {
	Codes []vaultCode `json:"codes"`
}

type vaultCode struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

func vaultAAD(productID string) []byte {
	return append([]byte("registra envelope vault v1\x00"), productID...)
}

// Seal encrypts codes for productID. verifiable lists the names of the codes
// to hash as well (usually those whose [CodeSpec] is Verifiable), one at a
// time once the config's [Gate] lets them start; a refusal of the gate is
// returned wrapped. It does not modify codes.
func (v *Vault) Seal(ctx context.Context, productID string, codes Codes, verifiable []CodeName) (*Record, error) {
	if productID == "" {
		return nil, &FieldError{Field: "product_id", Rule: "is required"}
	}
	if err := codes.Validate(); err != nil {
		return nil, err
	}
	for _, n := range verifiable {
		if _, ok := codes.Get(n); !ok {
			return nil, &FieldError{Field: "verifiable", Rule: "names a code that is not in the set"}
		}
	}
	plain := vaultPlain{Codes: make([]vaultCode, len(codes))}
	for i, c := range codes {
		plain.Codes[i] = vaultCode{Name: string(c.Name), Code: string(c.Code)}
	}
	pt, err := json.Marshal(plain)
	if err != nil {
		return nil, fmt.Errorf("envelope: vault: encoding: %w", err)
	}
	defer clear(pt)
	rec := &Record{Version: recordVersion, ProductID: productID, KeyID: v.kek.KeyID()}
	if rec.Hashes, err = v.hashCodes(ctx, codes, verifiable); err != nil {
		return nil, err
	}
	sealed, err := v.kek.Seal(ctx, pt, vaultAAD(productID))
	if err != nil {
		return nil, fmt.Errorf("envelope: vault: sealing under the KEK: %w", err)
	}
	if len(sealed) < kekNonceSize+kekTagSize {
		return nil, fmt.Errorf("envelope: vault: KEK: %w", unsupported("vault", "the KEK must give AES-GCM with a 12-byte nonce"))
	}
	rec.Nonce, rec.Ciphertext = sealed[:kekNonceSize:kekNonceSize], sealed[kekNonceSize:]
	v.log.DebugContext(ctx, "vault sealed codes", slog.String(logattr.ProductID, productID),
		slog.String(logattr.KeyURI, rec.KeyID), slog.Any(logattr.CodeNames, codes))
	return rec, nil
}

// hashCodes makes the slow hashes of the verifiable codes, inside the gate.
func (v *Vault) hashCodes(ctx context.Context, codes Codes, verifiable []CodeName) ([]CodeHash, error) {
	if len(verifiable) == 0 {
		return nil, nil
	}
	if v.gate != nil {
		if err := v.gate.Enter(ctx); err != nil {
			return nil, fmt.Errorf("envelope: vault: waiting to hash codes: %w", err)
		}
		defer v.gate.Leave()
	}
	out := make([]CodeHash, 0, len(verifiable))
	for _, n := range verifiable {
		c, _ := codes.Get(n)
		h := CodeHash{Name: n, Params: v.hash, Salt: make([]byte, saltSize)}
		if _, err := io.ReadFull(v.rand, h.Salt); err != nil {
			return nil, fmt.Errorf("envelope: vault: reading random bytes: %w", err)
		}
		h.Hash = argon2.IDKey([]byte(c), h.Salt, h.Params.Time, h.Params.MemoryKiB, h.Params.Threads, hashSize)
		out = append(out, h)
	}
	return out, nil
}

// Open decrypts the codes of productID from rec: for a resend, which seals
// the same codes under a new passphrase. It fails with [ErrIntegrity] when
// rec belongs to another product or was sealed under another key.
func (v *Vault) Open(ctx context.Context, productID string, rec *Record) (Codes, error) {
	if err := rec.validate(); err != nil {
		return nil, err
	}
	if rec.ProductID != productID {
		return nil, fmt.Errorf("%w: record belongs to another product", ErrIntegrity)
	}
	if rec.KeyID != v.kek.KeyID() {
		return nil, fmt.Errorf("%w: record was sealed under key %q, not %q", ErrIntegrity, rec.KeyID, v.kek.KeyID())
	}
	pt, err := v.kek.Open(ctx, slices.Concat(rec.Nonce, rec.Ciphertext), vaultAAD(productID))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("envelope: vault: opening under the KEK: %w", err)
	}
	defer clear(pt)
	var plain vaultPlain
	if err := json.Unmarshal(pt, &plain); err != nil {
		return nil, malformed("vault: payload", "not the expected encoding")
	}
	codes := make(Codes, len(plain.Codes))
	for i, c := range plain.Codes {
		codes[i] = NamedCode{Name: CodeName(c.Name), Code: Code(c.Code)}
	}
	if err := codes.Validate(); err != nil {
		return nil, malformed("vault: payload", "holds an invalid code set")
	}
	return codes, nil
}

// Verify checks candidate against the slow hash of the named code. It
// returns nil on a match, an error wrapping [ErrMismatch] otherwise, and
// one wrapping [ErrNotFound] when the record keeps no hash of that code.
// It needs no key. It runs one slow hash outside any [Gate]: a service that
// checks codes for untrusted callers bounds these calls as it bounds logins.
func (r *Record) Verify(name CodeName, candidate Code) error {
	if err := r.validate(); err != nil {
		return err
	}
	for _, h := range r.Hashes {
		if h.Name != name {
			continue
		}
		got := argon2.IDKey([]byte(candidate), h.Salt, h.Params.Time, h.Params.MemoryKiB, h.Params.Threads, hashSize)
		if subtle.ConstantTimeCompare(got, h.Hash) != 1 {
			return fmt.Errorf("%w: %s", ErrMismatch, name)
		}
		return nil
	}
	return fmt.Errorf("%w: no hash of %s", ErrNotFound, name)
}

// MarshalBinary encodes the record for storage.
func (r *Record) MarshalBinary() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(r)
}

// ParseRecord decodes a record made by [Record.MarshalBinary] and checks its
// shape; it does not decrypt anything.
func ParseRecord(b []byte) (*Record, error) {
	if len(b) > maxRecord {
		return nil, malformed("vault: record", "too large")
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, malformed("vault: record", "not the expected encoding")
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Record) validate() error {
	switch {
	case r == nil:
		return malformed("vault: record", "is nil")
	case r.Version != recordVersion:
		return unsupported("vault: record", "unknown version")
	case r.ProductID == "" || r.KeyID == "":
		return malformed("vault: record", "product and key are required")
	case len(r.Nonce) != 12:
		return malformed("vault: record", "nonce must be 12 bytes")
	case len(r.Ciphertext) < 16:
		return malformed("vault: record", "ciphertext too short")
	}
	seen := make(map[CodeName]bool, len(r.Hashes))
	for _, h := range r.Hashes {
		if !validName(string(h.Name)) || seen[h.Name] {
			return malformed("vault: record", "hash names must be valid and unique")
		}
		seen[h.Name] = true
		if len(h.Salt) != saltSize || len(h.Hash) != hashSize {
			return malformed("vault: record", "hash salt and value must be 16 and 32 bytes")
		}
		if err := h.Params.Validate(); err != nil {
			return unsupported("vault: record", "hash parameters out of range")
		}
	}
	return nil
}
