package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are Argon2id's cost parameters (RFC 9106 §3.1).
type PasswordParams struct {
	// Memory is the memory size m in KiB. Zero means
	// [DefaultPasswordParams]'s.
	Memory uint32
	// Iterations is the number of passes t. Zero means the default's.
	Iterations uint32
	// Parallelism is the number of lanes p. Zero means the default's.
	Parallelism uint8
	// SaltLength is the salt size in bytes. Zero means 16 (RFC 9106 §3.1:
	// 128 bits is sufficient).
	SaltLength uint32
	// KeyLength is the tag size in bytes. Zero means 32.
	KeyLength uint32
}

// Bounds on parameters, also applied when parsing a stored hash so that a
// corrupted or hostile record cannot make verification allocate gigabytes or
// run for minutes.
const (
	maxMemory     = 1024 * 1024 // 1 GiB
	maxIterations = 64
	minSalt       = 8
	maxSalt       = 64
	minKey        = 16
	maxKey        = 64
)

// DefaultPasswordParams returns RFC 9106 §4's second recommended option, for
// machines where 2 GiB per hash is too much: Argon2id, t=3, p=4, m=64 MiB,
// 128-bit salt, 256-bit tag. Each hash or verification allocates 64 MiB;
// timings are in BENCHMARKS.md.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 64 * 1024, Iterations: 3, Parallelism: 4, SaltLength: 16, KeyLength: 32}
}

func (p PasswordParams) withDefaults() PasswordParams {
	d := DefaultPasswordParams()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Iterations == 0 {
		p.Iterations = d.Iterations
	}
	if p.Parallelism == 0 {
		p.Parallelism = d.Parallelism
	}
	if p.SaltLength == 0 {
		p.SaltLength = d.SaltLength
	}
	if p.KeyLength == 0 {
		p.KeyLength = d.KeyLength
	}
	return p
}

// validate checks p (after defaults) against the bounds; field prefixes the
// field names of errors.
func (p PasswordParams) validate(field string) error {
	switch {
	case p.Memory < 8*uint32(p.Parallelism):
		return &FieldError{Field: field + ".Memory", Rule: "must be at least 8 KiB per lane"}
	case p.Memory > maxMemory:
		return &FieldError{Field: field + ".Memory", Rule: fmt.Sprintf("must be at most %d KiB", maxMemory)}
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return &FieldError{Field: field + ".Iterations", Rule: fmt.Sprintf("must be between 1 and %d", maxIterations)}
	case p.Parallelism < 1:
		return &FieldError{Field: field + ".Parallelism", Rule: "must be at least 1"}
	case p.SaltLength < minSalt || p.SaltLength > maxSalt:
		return &FieldError{Field: field + ".SaltLength", Rule: fmt.Sprintf("must be between %d and %d bytes", minSalt, maxSalt)}
	case p.KeyLength < minKey || p.KeyLength > maxKey:
		return &FieldError{Field: field + ".KeyLength", Rule: fmt.Sprintf("must be between %d and %d bytes", minKey, maxKey)}
	}
	return nil
}

// ParsedHash is a decoded Argon2id PHC string.
type ParsedHash struct {
	// Params are the cost parameters (SaltLength and KeyLength are the
	// lengths of Salt and Key).
	Params PasswordParams
	// Salt and Key are the raw salt and tag.
	Salt, Key []byte
}

// phcPrefix is the algorithm and version part of every hash we write:
// Argon2 version 0x13 (RFC 9106 §3.1).
const phcPrefix = "$argon2id$v=19$"

// HashPassword hashes pw with Argon2id and params (zero fields take
// [DefaultPasswordParams]'s), drawing the salt from random (nil means
// crypto/rand). The result is a PHC string:
//
//	$argon2id$v=19$m=65536,t=3,p=4$<salt>$<tag>
//
// with salt and tag in unpadded standard base64, as the reference
// implementation and libsodium write it.
func HashPassword(pw Password, params PasswordParams, random io.Reader) (PasswordHash, error) {
	p := params.withDefaults()
	if err := p.validate("PasswordParams"); err != nil {
		return "", err
	}
	if random == nil {
		random = rand.Reader
	}
	salt := make([]byte, p.SaltLength)
	if _, err := io.ReadFull(random, salt); err != nil {
		return "", fmt.Errorf("access: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return encodeHash(p, salt, key), nil
}

func encodeHash(p PasswordParams, salt, key []byte) PasswordHash {
	b64 := base64.RawStdEncoding
	return PasswordHash(fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", phcPrefix, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)))
}

// ParsePasswordHash decodes a PHC string written by [HashPassword]. It accepts
// only argon2id, version 19, parameters in the order m, t, p without
// leading zeros, and values within the bounds HashPassword accepts;
// everything else is refused with [ErrInvalidInput], so that Encode(Parse(s))
// == s.
func ParsePasswordHash(h PasswordHash) (ParsedHash, error) {
	bad := func(rule string) (ParsedHash, error) {
		return ParsedHash{}, &FieldError{Field: "password_hash", Rule: rule}
	}
	rest, ok := strings.CutPrefix(string(h), phcPrefix)
	if !ok {
		return bad("must start with " + phcPrefix)
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return bad("must have parameters, salt and hash")
	}
	var vals [3]uint64
	params := strings.Split(parts[0], ",")
	if len(params) != 3 {
		return bad("parameters must be m, t and p")
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return bad("parameters must be m, t and p in that order")
		}
		if v == "" || (len(v) > 1 && v[0] == '0') || strings.ContainsFunc(v, func(r rune) bool { return r < '0' || r > '9' }) {
			return bad("parameter " + name + " must be a decimal number")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + name + " is out of range")
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return bad("parameter p is out of range")
	}
	// The decoder skips '\r' and '\n' even in strict mode; comparing the
	// re-encoding keeps one spelling per hash (found by FuzzParsePasswordHash).
	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[1])
	if err != nil || b64.EncodeToString(salt) != parts[1] {
		return bad("salt must be unpadded base64")
	}
	key, err := b64.DecodeString(parts[2])
	if err != nil || b64.EncodeToString(key) != parts[2] {
		return bad("hash must be unpadded base64")
	}
	p := PasswordParams{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2]),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))}
	if err := p.validate("password_hash"); err != nil {
		return ParsedHash{}, err
	}
	return ParsedHash{Params: p, Salt: salt, Key: key}, nil
}

// Encode returns the PHC string of h.
func (h ParsedHash) Encode() PasswordHash { return encodeHash(h.Params, h.Salt, h.Key) }

// VerifyPassword reports whether pw matches the encoded hash, comparing in
// constant time. A malformed hash is an error, never a match.
func VerifyPassword(encoded PasswordHash, pw Password) (bool, error) {
	h, err := ParsePasswordHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(pw), h.Salt, h.Params.Iterations, h.Params.Memory, h.Params.Parallelism, h.Params.KeyLength)
	return subtle.ConstantTimeCompare(key, h.Key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// params (after defaults): the caller rehashes after the next successful
// login.
func NeedsRehash(encoded PasswordHash, params PasswordParams) bool {
	h, err := ParsePasswordHash(encoded)
	if err != nil {
		return true
	}
	want := params.withDefaults()
	return h.Params != want
}

// PasswordPolicy is the rule for new passwords, after NIST SP 800-63B §3.1.1.2:
// length matters, composition rules do not.
type PasswordPolicy struct {
	// MinLength is the minimum length in characters. Zero means 12.
	MinLength int
	// MaxLength is the maximum length in characters. Zero means 128.
	MaxLength int
}

func (p PasswordPolicy) withDefaults() PasswordPolicy {
	if p.MinLength == 0 {
		p.MinLength = 12
	}
	if p.MaxLength == 0 {
		p.MaxLength = 128
	}
	return p
}

func (p PasswordPolicy) validate() error {
	d := p.withDefaults()
	switch {
	case p.MinLength < 0 || (p.MinLength > 0 && p.MinLength < 8):
		return &FieldError{Field: "Config.Policy.MinLength", Rule: "must be at least 8 (NIST SP 800-63B)"}
	case p.MaxLength < 0 || d.MaxLength < d.MinLength:
		return &FieldError{Field: "Config.Policy.MaxLength", Rule: "must not be less than MinLength"}
	case d.MaxLength > 1024:
		return &FieldError{Field: "Config.Policy.MaxLength", Rule: "must be at most 1024"}
	}
	return nil
}

// Check refuses a new password for the operator named username: not UTF-8,
// control characters, too short or too long, one character repeated, or
// containing the username (case-insensitive).
func (p PasswordPolicy) Check(pw Password, username string) error {
	p = p.withDefaults()
	s := pw.Reveal()
	bad := func(rule string) error { return &FieldError{Field: "password", Rule: rule} }
	switch n := utf8.RuneCountInString(s); {
	case !utf8.ValidString(s):
		return bad("must be valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return bad("must not contain control characters")
	case n < p.MinLength:
		return bad(fmt.Sprintf("must be at least %d characters", p.MinLength))
	case n > p.MaxLength:
		return bad(fmt.Sprintf("must be at most %d characters", p.MaxLength))
	case strings.Count(s, string([]rune(s)[:1])) == n:
		return bad("must not repeat a single character")
	case len(username) >= 3 && strings.Contains(strings.ToLower(s), strings.ToLower(username)):
		return bad("must not contain the username")
	}
	return nil
}
