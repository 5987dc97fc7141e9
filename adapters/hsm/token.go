//go:build cgo

package hsm

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
	"github.com/registra-pki/registra/internal/logattr"
	"github.com/thales-e-security/pool"
	"go.step.sm/crypto/kms/apiv1"
)

// gcmNonceSize is the GCM nonce length asked of the token: the 96 bits of
// NIST SP 800-38D §5.2.1.1 (crypto11 defaults to 16 bytes).
const gcmNonceSize = 12

// generatedIDLen is the length of the CKA_ID given to a key created without
// an id.
const generatedIDLen = 16

// Token is a logged-in PKCS#11 token. It implements smallstep's
// apiv1.KeyManager, so the CA bootstrap, CRL and OCSP signing and evidence
// sealing take it where they take the software key manager, and
// apiv1.KeyDeleter for the holder keys of revoked certificates. It also holds
// the AES key-encryption keys of the code vault ([Token.CreateKEK]).
//
// A Token is safe for concurrent use. Key handles are cached by name: SoftHSM2
// finds objects with a linear scan, and a network HSM with a round trip.
type Token struct {
	cfg    Config
	module string
	p11    *crypto11.Context
	probe  *probe
	log    *slog.Logger
	closed atomic.Bool

	// createMu serialises key creation, so that the "already exists" check
	// and the generation are one step for this process.
	createMu sync.Mutex

	mu   sync.RWMutex
	keys map[string]*cachedKey // canonical key name → key pair
	keks map[string]*KEK       // canonical key name → secret key
}

// cachedKey is a key pair found or created in the token.
type cachedKey struct {
	name   KeyName
	uri    string
	signer crypto11.Signer
}

var (
	_ apiv1.KeyManager = (*Token)(nil)
	_ apiv1.KeyDeleter = (*Token)(nil)
)

// Open validates cfg, reads the PIN, loads the module, finds the token by
// label and logs in. The errors it returns unwrap to [ErrInvalidInput],
// [ErrModule], [ErrUnknownToken], [ErrWrongPIN] or [ErrPINLocked], with the
// module's own error in the chain.
//
// PKCS#11 keeps one login state per token and process: a second Token opened
// on a token already logged in by this process is accepted whatever its PIN.
// Open each token once and share the Token.
func Open(ctx context.Context, cfg Config) (*Token, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	log := cfg.logger()
	module, err := cfg.modulePath()
	if err != nil {
		return nil, err
	}
	pin, err := cfg.readPIN(log)
	if err != nil {
		return nil, err
	}
	p11, err := crypto11.Configure(&crypto11.Config{
		Path:            module,
		TokenLabel:      cfg.TokenLabel,
		Pin:             pin.reveal(),
		MaxSessions:     cfg.maxSessions(),
		PoolWaitTimeout: cfg.poolWaitTimeout(),
		GCMIVLength:     gcmNonceSize,
	})
	if err != nil {
		return nil, &Error{Op: "open", Key: cfg.TokenLabel, Kind: openKind(err), Err: err}
	}
	pr, err := newProbe(module, cfg.TokenLabel)
	if err != nil {
		_ = p11.Close() // the open failed already; Close only releases sessions
		return nil, &Error{Op: "open", Key: cfg.TokenLabel, Kind: sentinelIn(err, ErrTokenGone, ErrModule), Err: err}
	}
	cfg.Logger = log
	t := &Token{
		cfg:    cfg,
		module: module,
		p11:    p11,
		probe:  pr,
		log:    log,
		keys:   map[string]*cachedKey{},
		keks:   map[string]*KEK{},
	}
	log.Info("hsm: token open", "module", module, "token", cfg.TokenLabel,
		"max_sessions", cfg.maxSessions(), "pool_wait_timeout", cfg.poolWaitTimeout().String())
	return t, nil
}

// sentinelIn returns the first of candidates that err wraps, or [ErrDevice].
func sentinelIn(err error, candidates ...error) error {
	for _, s := range candidates {
		if errors.Is(err, s) {
			return s
		}
	}
	return ErrDevice
}

// openKind classifies an error of crypto11.Configure. crypto11 keeps its
// "token not found" and "cannot open module" errors unexported (and built
// with github.com/pkg/errors), so their messages are matched here; the tests
// of each case catch a change of wording in a new crypto11 release.
func openKind(err error) error {
	var perr pkcs11.Error
	if errors.As(err, &perr) {
		switch perr {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return ErrWrongPIN
		case pkcs11.CKR_PIN_LOCKED:
			return ErrPINLocked
		case pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED:
			// Another copy of the library (another path, or another PKCS#11
			// wrapper in the process) initialised it first.
			return ErrModule
		}
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "could not find PKCS#11 token"):
		return ErrUnknownToken
	case strings.Contains(msg, "failed to create module context"), strings.Contains(msg, "failed to open module"):
		return ErrModule
	}
	return ErrDevice
}

// Label returns the label of the token.
func (t *Token) Label() string { return t.cfg.TokenLabel }

// Check asks the module whether the token is still present, initialised and
// the same one (label and serial number) as at [Open]. It returns nil, or an
// error unwrapping to [ErrTokenGone] or [ErrClosed]. Servers call it from
// their readiness probe.
func (t *Token) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.closed.Load() {
		return &Error{Op: "check", Kind: ErrClosed}
	}
	if err := t.probe.check(); err != nil {
		return &Error{Op: "check", Key: t.cfg.TokenLabel, Kind: ErrTokenGone, Err: err}
	}
	return nil
}

// Close logs out, closes every session and releases the module. It waits
// for operations in flight. Signers and KEKs from this Token fail with
// [ErrClosed] afterwards. Closing twice is harmless.
func (t *Token) Close() error {
	if !t.closed.CompareAndSwap(false, true) {
		return nil
	}
	err := t.p11.Close()
	t.probe.close()
	if err != nil {
		return &Error{Op: "close", Key: t.cfg.TokenLabel, Kind: ErrDevice, Err: err}
	}
	t.log.Info("hsm: token closed", "token", t.cfg.TokenLabel)
	return nil
}

// fail wraps err from an operation on the key named uri, classifying it. A
// key whose handle stopped working while the token is fine was deleted
// behind this Token's back: it leaves the cache.
func (t *Token) fail(op, uri string, err error) error {
	kind := t.kind(err)
	if kind == ErrNotFound && uri != "" {
		t.mu.Lock()
		delete(t.keys, uri)
		delete(t.keks, uri)
		t.mu.Unlock()
	}
	return &Error{Op: op, Key: uri, Kind: kind, Err: err}
}

// kind maps an error from crypto11 or the module to a sentinel.
func (t *Token) kind(err error) error {
	if t.closed.Load() {
		return ErrClosed
	}
	if errors.Is(err, pool.ErrTimeout) {
		return ErrBusy
	}
	var perr pkcs11.Error
	isP11 := errors.As(err, &perr)
	if isP11 {
		switch perr {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return ErrWrongPIN
		case pkcs11.CKR_PIN_LOCKED:
			return ErrPINLocked
		case pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
			pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED,
			pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_USER_NOT_LOGGED_IN:
			return ErrTokenGone
		}
	}
	// Anything else may be a symptom of a vanished token (SoftHSM2 answers
	// CKR_OBJECT_HANDLE_INVALID or CKR_GENERAL_ERROR): ask the slot.
	if t.probe.check() != nil {
		return ErrTokenGone
	}
	if isP11 && (perr == pkcs11.CKR_OBJECT_HANDLE_INVALID || perr == pkcs11.CKR_KEY_HANDLE_INVALID) {
		return ErrNotFound
	}
	return ErrDevice
}

// resolve parses a key name and checks that it belongs to this token.
func (t *Token) resolve(field, name string) (KeyName, error) {
	if name == "" {
		return KeyName{}, &FieldError{Field: field, Rule: "required"}
	}
	k, err := ParseKeyName(name)
	if err != nil {
		if fe, ok := errors.AsType[*FieldError](err); ok {
			return KeyName{}, &FieldError{Field: field, Rule: fe.Rule}
		}
		return KeyName{}, err
	}
	if k.Token != "" && k.Token != t.cfg.TokenLabel {
		return KeyName{}, &FieldError{Field: field, Rule: fmt.Sprintf("names token %q, not %q", k.Token, t.cfg.TokenLabel)}
	}
	k.Token = ""
	return k, nil
}

// label returns the CKA_LABEL to search for, nil when the name has none.
func label(k KeyName) []byte {
	if k.Object == "" {
		return nil
	}
	return []byte(k.Object)
}

// keyPair returns the key pair named k, from the cache or the token.
func (t *Token) keyPair(op string, k KeyName) (*cachedKey, error) {
	uri := k.String()
	if t.closed.Load() {
		return nil, &Error{Op: op, Key: uri, Kind: ErrClosed}
	}
	t.mu.RLock()
	c, ok := t.keys[uri]
	t.mu.RUnlock()
	if ok {
		return c, nil
	}
	found, err := t.p11.FindKeyPairs(k.ID, label(k))
	if err != nil {
		return nil, t.fail(op, uri, err)
	}
	switch len(found) {
	case 0:
		// A token that vanished also finds nothing.
		if err := t.probe.check(); err != nil {
			return nil, &Error{Op: op, Key: uri, Kind: ErrTokenGone, Err: err}
		}
		return nil, &Error{Op: op, Key: uri, Kind: ErrNotFound}
	case 1:
	default:
		return nil, &Error{Op: op, Key: uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("name matches %d key pairs: give both object and id", len(found))}
	}
	c = &cachedKey{name: k, uri: uri, signer: found[0]}
	t.mu.Lock()
	t.keys[uri] = c
	t.mu.Unlock()
	return c, nil
}

// GetPublicKey returns the public key of the key pair named by req.Name, a
// pkcs11: URI. A missing key is [ErrNotFound].
func (t *Token) GetPublicKey(req *apiv1.GetPublicKeyRequest) (crypto.PublicKey, error) {
	k, err := t.resolve("Name", req.Name)
	if err != nil {
		return nil, err
	}
	c, err := t.keyPair("get public key", k)
	if err != nil {
		return nil, err
	}
	return c.signer.Public(), nil
}

// keySpec is what CreateKey generates.
type keySpec struct {
	curve elliptic.Curve // ECDSA when set
	bits  int            // RSA otherwise
}

// specFor maps a smallstep signature algorithm to a key: ECDSA P-256
// (unspecified or ECDSAWithSHA256), ECDSA P-384 (ECDSAWithSHA384), or RSA of
// 3072 (Bits zero) or 4096 bits for the RSA algorithms. Smaller RSA keys are
// refused: ETSI TS 119 312 §7.2 (cryptographic suites) sets 3000 bits as the
// floor for new RSA keys.
func specFor(req *apiv1.CreateKeyRequest) (keySpec, error) {
	switch req.SignatureAlgorithm {
	case apiv1.UnspecifiedSignAlgorithm, apiv1.ECDSAWithSHA256:
		return keySpec{curve: elliptic.P256()}, nil
	case apiv1.ECDSAWithSHA384:
		return keySpec{curve: elliptic.P384()}, nil
	case apiv1.SHA256WithRSA, apiv1.SHA384WithRSA, apiv1.SHA512WithRSA,
		apiv1.SHA256WithRSAPSS, apiv1.SHA384WithRSAPSS, apiv1.SHA512WithRSAPSS:
		switch req.Bits {
		case 0:
			return keySpec{bits: 3072}, nil
		case 3072, 4096:
			return keySpec{bits: req.Bits}, nil
		}
		return keySpec{}, &FieldError{Field: "Bits", Rule: "RSA keys are 3072 or 4096 bits"}
	}
	return keySpec{}, &FieldError{Field: "SignatureAlgorithm",
		Rule: "must be ECDSA P-256, ECDSA P-384 or RSA, not " + req.SignatureAlgorithm.String()}
}

// CreateKey generates a key pair in the token, named by req.Name: a pkcs11:
// URI with an object (the label) and optionally an id; without an id a
// random 16-byte CKA_ID is chosen. The response's Name is the canonical URI
// with both, the name to store and give to CreateSigner later.
//
// The private key is created with CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE
// set and CKA_EXTRACTABLE clear: it never leaves the token in any form, so
// req.Extractable is refused, as is a software ProtectionLevel. A key with
// the same label or id is [ErrAlreadyExists]; nothing is generated then.
func (t *Token) CreateKey(req *apiv1.CreateKeyRequest) (*apiv1.CreateKeyResponse, error) {
	k, err := t.resolve("Name", req.Name)
	if err != nil {
		return nil, err
	}
	if k.Object == "" {
		return nil, &FieldError{Field: "Name", Rule: "object (the key label) is required to create a key"}
	}
	spec, err := specFor(req)
	if err != nil {
		return nil, err
	}
	if req.Extractable {
		return nil, &FieldError{Field: "Extractable", Rule: "keys are created non-extractable"}
	}
	if req.ProtectionLevel == apiv1.Software {
		return nil, &FieldError{Field: "ProtectionLevel", Rule: "keys live in the HSM"}
	}
	if len(k.ID) == 0 {
		k.ID = make([]byte, generatedIDLen)
		if _, err := io.ReadFull(rand.Reader, k.ID); err != nil {
			return nil, &Error{Op: "create key", Key: k.String(), Kind: ErrDevice, Err: err}
		}
	}
	uri := k.String()
	if t.closed.Load() {
		return nil, &Error{Op: "create key", Key: uri, Kind: ErrClosed}
	}

	t.createMu.Lock()
	defer t.createMu.Unlock()
	if err := t.absent("create key", k); err != nil {
		return nil, err
	}
	public, err := crypto11.NewAttributeSetWithIDAndLabel(k.ID, []byte(k.Object))
	if err != nil {
		return nil, &Error{Op: "create key", Key: uri, Kind: ErrDevice, Err: err}
	}
	private := public.Copy()
	// PKCS#11 v2.40 §4.9: a sensitive key's value is never revealed; a key
	// that is not extractable cannot be wrapped out of the token either.
	if err := private.Set(crypto11.CkaSensitive, true); err != nil {
		return nil, &Error{Op: "create key", Key: uri, Kind: ErrDevice, Err: err}
	}
	if err := private.Set(crypto11.CkaExtractable, false); err != nil {
		return nil, &Error{Op: "create key", Key: uri, Kind: ErrDevice, Err: err}
	}
	if err := private.Set(crypto11.CkaPrivate, true); err != nil {
		return nil, &Error{Op: "create key", Key: uri, Kind: ErrDevice, Err: err}
	}
	var signer crypto11.Signer
	if spec.curve != nil {
		signer, err = t.p11.GenerateECDSAKeyPairWithAttributes(public, private, spec.curve)
	} else {
		signer, err = t.p11.GenerateRSAKeyPairWithAttributes(public, private, spec.bits)
	}
	if err != nil {
		return nil, t.fail("create key", uri, err)
	}
	t.mu.Lock()
	t.keys[uri] = &cachedKey{name: k, uri: uri, signer: signer}
	t.mu.Unlock()
	t.log.Info("hsm: key created", logattr.KeyURI, uri, "token", t.cfg.TokenLabel)
	return &apiv1.CreateKeyResponse{
		Name:                uri,
		PublicKey:           signer.Public(),
		CreateSignerRequest: apiv1.CreateSignerRequest{SigningKey: uri},
	}, nil
}

// absent returns nil when the token is still the one opened and no key pair
// or secret key in it has k's label or id. The first check matters: a token
// re-initialised under a running process accepts new keys in the sessions
// logged into the old one.
func (t *Token) absent(op string, k KeyName) error {
	uri := k.String()
	if err := t.probe.check(); err != nil {
		return &Error{Op: op, Key: uri, Kind: ErrTokenGone, Err: err}
	}
	for _, q := range []KeyName{{Object: k.Object}, {ID: k.ID}} {
		if q.Object == "" && len(q.ID) == 0 {
			continue
		}
		pairs, err := t.p11.FindKeyPairs(q.ID, label(q))
		if err != nil {
			return t.fail(op, uri, err)
		}
		secrets, err := t.p11.FindKeys(q.ID, label(q))
		if err != nil {
			return t.fail(op, uri, err)
		}
		if len(pairs) > 0 || len(secrets) > 0 {
			return &Error{Op: op, Key: uri, Kind: ErrAlreadyExists,
				Err: fmt.Errorf("a key with %s is in the token", strings.TrimPrefix(q.String(), scheme))}
		}
	}
	return nil
}

// CreateSigner returns a crypto.Signer for the key pair named by
// req.SigningKey. Signatures are made in the token; a failure is an *[Error]
// (e.g. [ErrTokenGone], [ErrNotFound] for a key deleted meanwhile, [ErrBusy])
// and never comes with a signature.
func (t *Token) CreateSigner(req *apiv1.CreateSignerRequest) (crypto.Signer, error) {
	k, err := t.resolve("SigningKey", req.SigningKey)
	if err != nil {
		return nil, err
	}
	c, err := t.keyPair("create signer", k)
	if err != nil {
		return nil, err
	}
	_, isRSA := c.signer.Public().(*rsa.PublicKey)
	return &signer{t: t, key: c, rsa: isRSA}, nil
}

// DeleteKey destroys the key pair named by req.Name, both halves, e.g. the
// remote-signature key of a holder whose certificate is revoked. A missing
// key is [ErrNotFound]; callers that want deletion to be idempotent test for
// it. Signers created earlier for the key fail with [ErrNotFound].
func (t *Token) DeleteKey(req *apiv1.DeleteKeyRequest) error {
	k, err := t.resolve("Name", req.Name)
	if err != nil {
		return err
	}
	uri := k.String()
	if t.closed.Load() {
		return &Error{Op: "delete key", Key: uri, Kind: ErrClosed}
	}
	t.createMu.Lock()
	defer t.createMu.Unlock()
	if err := t.probe.check(); err != nil {
		return &Error{Op: "delete key", Key: uri, Kind: ErrTokenGone, Err: err}
	}
	// Look in the token, not the cache: the name must select exactly one
	// key pair now.
	found, err := t.p11.FindKeyPairs(k.ID, label(k))
	if err != nil {
		return t.fail("delete key", uri, err)
	}
	switch len(found) {
	case 0:
		if err := t.probe.check(); err != nil {
			return &Error{Op: "delete key", Key: uri, Kind: ErrTokenGone, Err: err}
		}
		return &Error{Op: "delete key", Key: uri, Kind: ErrNotFound}
	case 1:
	default:
		return &Error{Op: "delete key", Key: uri, Kind: ErrInvalidInput,
			Err: fmt.Errorf("name matches %d key pairs: give both object and id", len(found))}
	}
	if err := found[0].Delete(); err != nil {
		return t.fail("delete key", uri, err)
	}
	t.forget(k)
	t.log.Info("hsm: key destroyed", logattr.KeyURI, uri, "token", t.cfg.TokenLabel)
	return nil
}

// forget drops from the cache every key pair sharing k's label or id.
func (t *Token) forget(k KeyName) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for uri, c := range t.keys {
		if (k.Object != "" && c.name.Object == k.Object) || (len(k.ID) > 0 && string(c.name.ID) == string(k.ID)) {
			delete(t.keys, uri)
		}
	}
}

// signer is a key pair of the token as a crypto.Signer.
type signer struct {
	t   *Token
	key *cachedKey
	rsa bool
}

// Public returns the public key.
func (s *signer) Public() crypto.PublicKey { return s.key.signer.Public() }

// Sign signs digest in the token. rand is unused: the token draws its own
// randomness. RSA keys need opts (PKCS #1 v1.5 with a hash, or
// *rsa.PSSOptions).
func (s *signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.t.closed.Load() {
		return nil, &Error{Op: "sign", Key: s.key.uri, Kind: ErrClosed}
	}
	if s.rsa && opts == nil {
		// crypto11 would dereference the nil opts and panic.
		return nil, &Error{Op: "sign", Key: s.key.uri, Kind: ErrInvalidInput,
			Err: errors.New("an RSA signature needs crypto.SignerOpts")}
	}
	sig, err := s.key.signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, s.t.fail("sign", s.key.uri, err)
	}
	return sig, nil
}
