package envelope

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/pbkdf2"
	cryptorand "crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/smallstep/pkcs7"
)

// PBKDF2 iteration counts.
const (
	// DefaultIterations is the PBKDF2-HMAC-SHA256 iteration count [CMS]
	// seals with when none is configured: OWASP's 2023 figure for
	// PBKDF2-HMAC-SHA256.
	DefaultIterations = 600_000
	// MinIterations is the lowest count Seal uses and Open accepts (RFC
	// 8018 §4.2 asks for at least 1,000). openssl cms uses 2,048.
	MinIterations = 1_000
	// DefaultMaxIterations is the highest count Open accepts when none is
	// configured, so that a forged envelope cannot pin a CPU for minutes.
	DefaultMaxIterations = 10_000_000
)

// maxRecipients bounds the password recipients Open tries in one
// envelope, so that a forged one cannot multiply the key derivations.
const maxRecipients = 4

// Object identifiers beyond those smallstep/pkcs7 exports.
var (
	// RFC 8018 §A.2 and §B.1.
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	// RFC 3211 §2.3: id-alg-PWRI-KEK.
	oidPWRIKEK = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 3, 9}
	// RFC 3565 §4.1.
	oidAES192CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
)

// ASN.1 shapes of RFC 5652 (EnvelopedData) and RFC 3211 (PasswordRecipientInfo).

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type envelopedData struct {
	Version              int
	RecipientInfos       asn1.RawValue `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
	UnprotectedAttrs     asn1.RawValue `asn1:"optional,tag:1"`
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional,tag:0"`
}

// passwordRecipientInfo is RecipientInfo's pwri [3] alternative; the tag is
// applied when marshalling.
type passwordRecipientInfo struct {
	Version                int
	KeyDerivationAlgorithm pkix.AlgorithmIdentifier `asn1:"optional,tag:0"`
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

// CMSConfig configures [NewCMS].
type CMSConfig struct {
	// Iterations is the PBKDF2 iteration count Seal uses; zero means
	// [DefaultIterations]. It must be at least [MinIterations].
	Iterations int
	// MaxIterations is the highest iteration count Open accepts; zero
	// means [DefaultMaxIterations].
	MaxIterations int
	// Rand is the source of keys, salts, IVs and padding; nil means
	// crypto/rand. Set it only for reproducible test vectors.
	Rand io.Reader
}

// Validate checks the config's fields together.
func (c *CMSConfig) Validate() error {
	if c.Iterations != 0 && c.Iterations < MinIterations {
		return &FieldError{Field: "iterations", Rule: "must be at least 1000"}
	}
	if c.MaxIterations != 0 && c.MaxIterations < max(c.Iterations, MinIterations) {
		return &FieldError{Field: "max_iterations", Rule: "must be at least iterations and 1000"}
	}
	return nil
}

// CMS seals codes as a CMS EnvelopedData with one password recipient
// (RFC 5652 §6, RFC 3211), DER-encoded, the .p7m a holder opens with any
// CMS tool:
//
//	openssl cms -decrypt -inform DER -in codes.p7m -pwri_password P
//
// Seal uses PBKDF2-HMAC-SHA256 with a 16-byte random salt (RFC 8018 §5.2),
// the PWRI-KEK key wrap with AES-256-CBC (RFC 3211 §2.3), and AES-256-CBC
// for the content (RFC 3565). Open also accepts what openssl cms
// -pwri_password makes (PBKDF2-HMAC-SHA1, 8-byte salt, 2,048 iterations),
// AES-128/192/256, and BER or PEM input.
type CMS struct {
	iter, maxIter int
	rand          io.Reader
}

var (
	_ Sealer = (*CMS)(nil)
	_ Opener = (*CMS)(nil)
)

// NewCMS returns a CMS sealer and opener. It copies cfg.
func NewCMS(cfg CMSConfig) (*CMS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &CMS{iter: cfg.Iterations, maxIter: cfg.MaxIterations, rand: cfg.Rand}
	if c.iter == 0 {
		c.iter = DefaultIterations
	}
	if c.maxIter == 0 {
		c.maxIter = max(DefaultMaxIterations, c.iter)
	}
	if c.rand == nil {
		c.rand = cryptorand.Reader
	}
	return c, nil
}

// Seal encrypts codes under passphrase into a .p7m [Envelope]. The content
// is the text "name: code" per line, after a comment line.
func (c *CMS) Seal(ctx context.Context, codes Codes, passphrase Passphrase) (*Envelope, error) {
	if passphrase == "" {
		return nil, &FieldError{Field: "passphrase", Rule: "is required"}
	}
	payload, err := marshalPayload(codes)
	if err != nil {
		return nil, err
	}
	defer clear(payload)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	der, err := sealPWRI(payload, []byte(passphrase), pwriParams{
		iterations: c.iter, saltLen: 16, prf: oidHMACWithSHA256,
		kekCipher: pkcs7.OIDEncryptionAlgorithmAES256CBC, contentCipher: pkcs7.OIDEncryptionAlgorithmAES256CBC,
	}, c.rand)
	if err != nil {
		return nil, err
	}
	return &Envelope{FileName: FileNameCMS, MediaType: MediaTypeCMS, Data: der}, nil
}

// Open decrypts a .p7m made by [CMS.Seal] or by another CMS tool with a
// password recipient and returns its codes. A wrong passphrase gives an
// error wrapping [ErrWrongPassphrase]; input that cannot be read wraps
// [ErrMalformed] or [ErrUnsupported].
func (c *CMS) Open(ctx context.Context, e *Envelope, passphrase Passphrase) (Codes, error) {
	if e == nil {
		return nil, &FieldError{Field: "envelope", Rule: "is required"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	content, err := openPWRI(e.Data, []byte(passphrase), c.maxIter)
	if err != nil {
		return nil, err
	}
	defer clear(content)
	return parsePayload(content)
}

// pwriParams are the algorithm choices of one sealing.
type pwriParams struct {
	iterations    int
	saltLen       int
	prf           asn1.ObjectIdentifier
	kekCipher     asn1.ObjectIdentifier
	contentCipher asn1.ObjectIdentifier
}

func aesKeySize(oid asn1.ObjectIdentifier) int {
	switch {
	case oid.Equal(pkcs7.OIDEncryptionAlgorithmAES128CBC):
		return 16
	case oid.Equal(oidAES192CBC):
		return 24
	case oid.Equal(pkcs7.OIDEncryptionAlgorithmAES256CBC):
		return 32
	}
	return 0
}

func prfHash(oid asn1.ObjectIdentifier) func() hash.Hash {
	switch {
	case oid.Equal(oidHMACWithSHA1):
		return sha1.New
	case oid.Equal(oidHMACWithSHA256):
		return sha256.New
	case oid.Equal(oidHMACWithSHA384):
		return sha512.New384
	case oid.Equal(oidHMACWithSHA512):
		return sha512.New
	}
	return nil
}

// sealPWRI builds the DER ContentInfo.
func sealPWRI(content, password []byte, p pwriParams, r io.Reader) ([]byte, error) {
	kekLen, cekLen, h := aesKeySize(p.kekCipher), aesKeySize(p.contentCipher), prfHash(p.prf)
	if kekLen == 0 || cekLen == 0 || h == nil {
		return nil, unsupported("cms", "cipher or PRF")
	}
	salt := make([]byte, p.saltLen)
	kekIV := make([]byte, 16)
	cek := make([]byte, cekLen)
	contentIV := make([]byte, 16)
	defer clear(cek)
	for _, b := range [][]byte{salt, kekIV, cek, contentIV} {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("envelope: cms: reading random bytes: %w", err)
		}
	}
	kek, err := pbkdf2.Key(h, string(password), salt, p.iterations, kekLen)
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: deriving the key: %w", err)
	}
	defer clear(kek)
	kekBlock, err := aesBlock(kek)
	if err != nil {
		return nil, err
	}
	wrapped, err := pwriWrap(kekBlock, kekIV, cek, r)
	if err != nil {
		return nil, err
	}

	// Content: AES-CBC with PKCS #7 padding (RFC 5652 §6.3).
	cekBlock, err := aesBlock(cek)
	if err != nil {
		return nil, err
	}
	pad := 16 - len(content)%16
	ct := make([]byte, len(content)+pad)
	copy(ct, content)
	for i := len(content); i < len(ct); i++ {
		ct[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(cekBlock, contentIV).CryptBlocks(ct, ct)

	kdfParams := pbkdf2Params{Salt: salt, IterationCount: p.iterations, KeyLength: kekLen}
	if !p.prf.Equal(oidHMACWithSHA1) {
		// hmacWithSHA1 is the DEFAULT and DER omits defaults.
		kdfParams.PRF = pkix.AlgorithmIdentifier{Algorithm: p.prf, Parameters: asn1.NullRawValue}
	}
	kdfDER, err := asn1.Marshal(kdfParams)
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: encoding: %w", err)
	}
	kekAlgDER, err := asn1.Marshal(pkix.AlgorithmIdentifier{Algorithm: p.kekCipher, Parameters: octetString(kekIV)})
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: encoding: %w", err)
	}
	pwri := passwordRecipientInfo{
		Version:                0, // RFC 3211 §2.2: always 0
		KeyDerivationAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfDER}},
		KeyEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidPWRIKEK, Parameters: asn1.RawValue{FullBytes: kekAlgDER}},
		EncryptedKey:           wrapped,
	}
	// RecipientInfo ::= CHOICE { ..., pwri [3] PasswordRecipientInfo, ... },
	// implicitly tagged (RFC 5652 §12.1 uses IMPLICIT TAGS).
	pwriDER, err := asn1.MarshalWithParams(pwri, "tag:3")
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: encoding: %w", err)
	}
	ed := envelopedData{
		Version:        3, // RFC 5652 §6.1: 3 when a pwri is present
		RecipientInfos: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: pwriDER},
		EncryptedContentInfo: encryptedContentInfo{
			ContentType:                pkcs7.OIDData,
			ContentEncryptionAlgorithm: pkix.AlgorithmIdentifier{Algorithm: p.contentCipher, Parameters: octetString(contentIV)},
			EncryptedContent:           asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ct},
		},
	}
	edDER, err := asn1.Marshal(ed)
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: encoding: %w", err)
	}
	der, err := asn1.Marshal(contentInfo{
		ContentType: pkcs7.OIDEnvelopedData,
		Content:     asn1.RawValue{FullBytes: explicit0(edDER)},
	})
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: encoding: %w", err)
	}
	return der, nil
}

func octetString(b []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOctetString, Bytes: b}
}

// explicit0 wraps der in a [0] EXPLICIT tag.
func explicit0(der []byte) []byte {
	var b bytes.Buffer
	writeDER(&b, []byte{0xa0}, der)
	return b.Bytes()
}

// unmarshalAll parses exactly one value from der.
func unmarshalAll(der []byte, v any, where string) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return malformed(where, "not valid DER")
	}
	if len(rest) != 0 {
		return malformed(where, "trailing data")
	}
	return nil
}

// openPWRI parses a ContentInfo and decrypts its content with the first
// password recipient that the password opens.
func openPWRI(in, password []byte, maxIter int) ([]byte, error) {
	der, err := normalizeCMS(in)
	if err != nil {
		return nil, err
	}
	var ci contentInfo
	if err := unmarshalAll(der, &ci, "cms: content info"); err != nil {
		return nil, err
	}
	if !ci.ContentType.Equal(pkcs7.OIDEnvelopedData) {
		return nil, unsupported("cms: content info", "not enveloped data")
	}
	var ed envelopedData
	if err := unmarshalAll(ci.Content.Bytes, &ed, "cms: enveloped data"); err != nil {
		return nil, err
	}
	if ed.Version < 0 || ed.Version > 4 {
		return nil, unsupported("cms: enveloped data", "unknown version")
	}
	if ed.RecipientInfos.Class != asn1.ClassUniversal || ed.RecipientInfos.Tag != asn1.TagSet {
		return nil, unsupported("cms: enveloped data", "originator info is not accepted")
	}
	eci := ed.EncryptedContentInfo
	cekLen := aesKeySize(eci.ContentEncryptionAlgorithm.Algorithm)
	if cekLen == 0 {
		return nil, unsupported("cms: content encryption", "only AES-CBC is accepted")
	}
	var contentIV []byte
	if err := unmarshalAll(eci.ContentEncryptionAlgorithm.Parameters.FullBytes, &contentIV, "cms: content encryption IV"); err != nil {
		return nil, err
	}
	if len(contentIV) != 16 {
		return nil, malformed("cms: content encryption IV", "must be 16 bytes")
	}
	if eci.EncryptedContent.Class != asn1.ClassContextSpecific || eci.EncryptedContent.Tag != 0 {
		return nil, unsupported("cms: encrypted content", "detached content")
	}
	ct := eci.EncryptedContent.Bytes
	if eci.EncryptedContent.IsCompound {
		// BER chunks of the implicit OCTET STRING.
		if ct, err = joinOctets(ct); err != nil {
			return nil, err
		}
	}
	if len(ct) == 0 || len(ct)%16 != 0 {
		return nil, malformed("cms: encrypted content", "must be whole AES blocks")
	}

	// Try the password recipients in order, at most maxRecipients of them
	// (each costs a key derivation); other recipient kinds are skipped.
	rest := ed.RecipientInfos.Bytes
	var firstErr error
	found := 0
	for len(rest) > 0 && found < maxRecipients {
		var ri asn1.RawValue
		rest, err = asn1.Unmarshal(rest, &ri)
		if err != nil {
			return nil, malformed("cms: recipient infos", "not valid DER")
		}
		if ri.Class != asn1.ClassContextSpecific || ri.Tag != 3 || !ri.IsCompound {
			continue
		}
		found++
		cek, err := unwrapRecipient(ri.Bytes, password, cekLen, maxIter)
		if err != nil {
			if firstErr == nil || errors.Is(firstErr, ErrWrongPassphrase) && !errors.Is(err, ErrWrongPassphrase) {
				firstErr = err
			}
			continue
		}
		content, err := decryptContent(cek, contentIV, ct)
		clear(cek)
		if err != nil {
			return nil, err
		}
		return content, nil
	}
	if found == 0 {
		return nil, unsupported("cms: recipient infos", "no password recipient")
	}
	return nil, firstErr
}

// unwrapRecipient derives the KEK of one PasswordRecipientInfo (given its
// contents, without the [3] tag) and unwraps the content-encryption key.
func unwrapRecipient(body, password []byte, cekLen, maxIter int) ([]byte, error) {
	// Re-tag as a SEQUENCE so that encoding/asn1 parses the implicit [3].
	var seq bytes.Buffer
	writeDER(&seq, []byte{0x30}, body)
	var pwri passwordRecipientInfo
	if err := unmarshalAll(seq.Bytes(), &pwri, "cms: password recipient"); err != nil {
		return nil, err
	}
	if pwri.Version != 0 {
		return nil, unsupported("cms: password recipient", "version must be 0")
	}
	if !pwri.KeyDerivationAlgorithm.Algorithm.Equal(oidPBKDF2) {
		return nil, unsupported("cms: key derivation", "only PBKDF2 is accepted")
	}
	var kdf pbkdf2Params
	if err := unmarshalAll(pwri.KeyDerivationAlgorithm.Parameters.FullBytes, &kdf, "cms: PBKDF2 parameters"); err != nil {
		return nil, err
	}
	prf := oidHMACWithSHA1 // RFC 8018 §A.2: the DEFAULT
	if len(kdf.PRF.Algorithm) > 0 {
		prf = kdf.PRF.Algorithm
	}
	h := prfHash(prf)
	if h == nil {
		return nil, unsupported("cms: PBKDF2 parameters", "PRF must be HMAC with SHA-1 or SHA-2")
	}
	if kdf.IterationCount < MinIterations || kdf.IterationCount > maxIter {
		return nil, unsupported("cms: PBKDF2 parameters", fmt.Sprintf("iteration count must be between %d and %d", MinIterations, maxIter))
	}
	if len(kdf.Salt) < 8 || len(kdf.Salt) > 64 {
		return nil, malformed("cms: PBKDF2 parameters", "salt must be 8 to 64 bytes")
	}
	if !pwri.KeyEncryptionAlgorithm.Algorithm.Equal(oidPWRIKEK) {
		return nil, unsupported("cms: key encryption", "only id-alg-PWRI-KEK is accepted")
	}
	var kekAlg pkix.AlgorithmIdentifier
	if err := unmarshalAll(pwri.KeyEncryptionAlgorithm.Parameters.FullBytes, &kekAlg, "cms: key encryption parameters"); err != nil {
		return nil, err
	}
	kekLen := aesKeySize(kekAlg.Algorithm)
	if kekLen == 0 {
		return nil, unsupported("cms: key encryption", "only AES-CBC is accepted")
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != kekLen {
		return nil, malformed("cms: PBKDF2 parameters", "key length does not match the key encryption cipher")
	}
	var kekIV []byte
	if err := unmarshalAll(kekAlg.Parameters.FullBytes, &kekIV, "cms: key encryption IV"); err != nil {
		return nil, err
	}
	if len(kekIV) != 16 {
		return nil, malformed("cms: key encryption IV", "must be 16 bytes")
	}
	if len(pwri.EncryptedKey) < 32 || len(pwri.EncryptedKey) > 512 {
		return nil, malformed("cms: encrypted key", "length out of range")
	}
	kek, err := pbkdf2.Key(h, string(password), kdf.Salt, kdf.IterationCount, kekLen)
	if err != nil {
		return nil, fmt.Errorf("envelope: cms: deriving the key: %w", err)
	}
	defer clear(kek)
	kekBlock, err := aesBlock(kek)
	if err != nil {
		return nil, err
	}
	cek, err := pwriUnwrap(kekBlock, kekIV, pwri.EncryptedKey)
	if err != nil {
		return nil, err
	}
	if len(cek) != cekLen {
		// A key of the wrong size behind a valid check value: with a wrong
		// passphrase this happens once in 2^24 tries; treat it as one.
		return nil, ErrWrongPassphrase
	}
	out := bytes.Clone(cek)
	return out, nil
}

func decryptContent(cek, iv, ct []byte) ([]byte, error) {
	block, err := aesBlock(cek)
	if err != nil {
		return nil, err
	}
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > 16 {
		clear(pt)
		return nil, malformed("cms: content", "bad padding")
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			clear(pt)
			return nil, malformed("cms: content", "bad padding")
		}
	}
	return pt[:len(pt)-pad], nil
}
