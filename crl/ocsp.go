package crl

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/registra-pki/registra/internal/logattr"
)

// OCSP object identifiers (RFC 6960 §4.2.1, §4.4.1; RFC 8954).
var (
	oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidOCSPNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}
	hashOIDs     = map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA1:   {1, 3, 14, 3, 2, 26},
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
)

// maxNonce is the longest nonce extension value echoed: RFC 8954 §2.1
// limits the nonce to 32 octets, inside an OCTET STRING.
const maxNonce = 32 + 2

// ResponderConfig configures [NewResponder].
type ResponderConfig struct {
	// Issuer is the CA whose certificates the responder answers for.
	// Required.
	Issuer *x509.Certificate
	// Signer signs responses: a delegated responder certificate issued by
	// Issuer with id-kp-OCSPSigning (RFC 6960 §4.2.2.2), or the CA itself.
	// Required.
	Signer Signer
	// Source gives the live status. Required.
	Source StatusSource
	// Validity is nextUpdate − thisUpdate of each response; zero means one
	// hour.
	Validity time.Duration
	// MaxRequestBytes bounds a request; zero means 4096. Larger POST bodies
	// get 413, longer GET URLs 414.
	MaxRequestBytes int
	// CacheEntries bounds the response cache; zero means 10,000, negative
	// disables it.
	CacheEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures; nil discards.
	Logger *slog.Logger
}

// Validate names the first bad field.
func (c *ResponderConfig) Validate() error {
	switch {
	case c.Issuer == nil:
		return &FieldError{Field: "issuer", Rule: "required"}
	case c.Signer == nil || c.Signer.Certificate() == nil:
		return &FieldError{Field: "signer", Rule: "required"}
	case c.Source == nil:
		return &FieldError{Field: "source", Rule: "required"}
	case c.Validity < 0:
		return &FieldError{Field: "validity", Rule: "must not be negative"}
	case c.MaxRequestBytes < 0:
		return &FieldError{Field: "max_request_bytes", Rule: "must not be negative"}
	}
	rc := c.Signer.Certificate()
	if !bytes.Equal(rc.Raw, c.Issuer.Raw) {
		if err := rc.CheckSignatureFrom(c.Issuer); err != nil {
			return &FieldError{Field: "signer", Rule: "certificate is not issued by issuer"}
		}
		hasEKU := false
		for _, u := range rc.ExtKeyUsage {
			hasEKU = hasEKU || u == x509.ExtKeyUsageOCSPSigning
		}
		if !hasEKU {
			return &FieldError{Field: "signer", Rule: "certificate lacks id-kp-OCSPSigning (RFC 6960 §4.2.2.2)"}
		}
	}
	if _, err := sigAlgFor(rc.PublicKey); err != nil {
		return err
	}
	return nil
}

// Responder is an RFC 6960 OCSP responder over a [StatusSource]. It
// answers GET and POST (RFC 6960 Appendix A) through ServeHTTP, and DER
// requests through [Responder.Respond].
type Responder struct {
	cfg      ResponderConfig
	alg      sigAlg
	keyHash  []byte // responderID byKey (RFC 6960 §4.2.2.3)
	issuerPK []byte // subjectPublicKey BIT STRING contents of the issuer
	now      func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	cache map[cacheKey]cached
}

type cacheKey struct {
	hash   crypto.Hash
	serial string
}

type cached struct {
	version    uint64
	der        []byte
	thisUpdate time.Time
	nextUpdate time.Time
}

// NewResponder checks cfg and builds a responder.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Validity == 0 {
		cfg.Validity = time.Hour
	}
	if cfg.MaxRequestBytes == 0 {
		cfg.MaxRequestBytes = 4096
	}
	if cfg.CacheEntries == 0 {
		cfg.CacheEntries = 10000
	}
	r := &Responder{cfg: cfg, now: cfg.Now, log: cfg.Logger, cache: map[cacheKey]cached{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.alg, _ = sigAlgFor(cfg.Signer.Certificate().PublicKey)
	var err error
	if r.issuerPK, err = subjectPublicKey(cfg.Issuer); err != nil {
		return nil, err
	}
	rpk, err := subjectPublicKey(cfg.Signer.Certificate())
	if err != nil {
		return nil, err
	}
	h := sha1.Sum(rpk)
	r.keyHash = h[:]
	return r, nil
}

// subjectPublicKey returns the subjectPublicKey BIT STRING contents.
func subjectPublicKey(c *x509.Certificate) ([]byte, error) {
	s := cryptobyte.String(c.RawSubjectPublicKeyInfo)
	var spki cryptobyte.String
	var algo cryptobyte.String
	var bits asn1.BitString
	if !s.ReadASN1(&spki, cbasn1.SEQUENCE) || !spki.ReadASN1(&algo, cbasn1.SEQUENCE) || !spki.ReadASN1BitString(&bits) {
		return nil, &FieldError{Field: "certificate", Rule: "malformed subjectPublicKeyInfo"}
	}
	return bits.Bytes, nil
}

// Respond answers one DER OCSPRequest with a DER OCSPResponse, for the
// first certificate the request names (as x/crypto/ocsp parses it; clients
// such as openssl ask for one at a time). Signed requests are answered
// malformedRequest, since signatures on requests are not supported. Malformed
// requests get malformedRequest, requests about another issuer
// unauthorized (RFC 6960 §2.3); the error is non-nil only when the
// response could not be produced at all (then the answer is
// internalError).
func (r *Responder) Respond(ctx context.Context, der []byte) ([]byte, error) {
	a, err := r.answer(ctx, der)
	return a.der, err
}

// answer is a response with what HTTP caching needs to know about it.
type answer struct {
	der                    []byte
	thisUpdate, nextUpdate time.Time
	cacheable              bool // successful, no nonce
}

func failed(status ocsp.ResponseStatus) answer { return answer{der: errorResponse(status)} }

func (r *Responder) answer(ctx context.Context, der []byte) (answer, error) {
	if len(der) > r.cfg.MaxRequestBytes {
		return failed(ocsp.Malformed), nil
	}
	req, err := ocsp.ParseRequest(der)
	if err != nil {
		return failed(ocsp.Malformed), nil
	}
	nonce, err := ParseRequestExtensions(der)
	if err != nil {
		return failed(ocsp.Malformed), nil
	}
	if req.SerialNumber == nil || req.SerialNumber.Sign() < 0 {
		return failed(ocsp.Malformed), nil
	}
	nameHash, keyHash, ok := r.issuerHashes(req.HashAlgorithm)
	if !ok {
		return failed(ocsp.Malformed), nil
	}
	if !bytes.Equal(nameHash, req.IssuerNameHash) || !bytes.Equal(keyHash, req.IssuerKeyHash) {
		return failed(ocsp.Unauthorized), nil
	}

	st, err := r.cfg.Source.Status(ctx, req.SerialNumber)
	switch {
	case errors.Is(err, ErrNotFound):
		st = Status{State: Unknown}
	case err != nil:
		r.log.ErrorContext(ctx, "crl: ocsp: reading status", logattr.Serial, fmt.Sprintf("%x", req.SerialNumber), "error", err)
		return failed(ocsp.InternalError), fmt.Errorf("crl: ocsp: reading status: %w", err)
	}

	now := r.now().UTC().Truncate(time.Second)
	key := cacheKey{req.HashAlgorithm, string(req.SerialNumber.Bytes())}
	if nonce == nil && r.cfg.CacheEntries > 0 {
		r.mu.Lock()
		c, hit := r.cache[key]
		r.mu.Unlock()
		// A cached response is reused for the same status version until
		// half its validity has passed.
		if hit && c.version == st.Version && st.State != Unknown && now.Before(c.thisUpdate.Add(r.cfg.Validity/2)) {
			return answer{der: c.der, thisUpdate: c.thisUpdate, nextUpdate: c.nextUpdate, cacheable: true}, nil
		}
	}
	resp, err := r.sign(ctx, req, nameHash, keyHash, st, nonce, now)
	if err != nil {
		r.log.ErrorContext(ctx, "crl: ocsp: signing", logattr.Serial, fmt.Sprintf("%x", req.SerialNumber), "error", err)
		return failed(ocsp.InternalError), err
	}
	if nonce == nil && r.cfg.CacheEntries > 0 && st.State != Unknown {
		r.mu.Lock()
		if len(r.cache) >= r.cfg.CacheEntries {
			for k := range r.cache { // evict one arbitrary entry
				delete(r.cache, k)
				break
			}
		}
		r.cache[key] = cached{version: st.Version, der: resp, thisUpdate: now, nextUpdate: now.Add(r.cfg.Validity)}
		r.mu.Unlock()
	}
	return answer{der: resp, thisUpdate: now, nextUpdate: now.Add(r.cfg.Validity), cacheable: nonce == nil}, nil
}

// issuerHashes returns the issuer name and key hashes for h.
func (r *Responder) issuerHashes(h crypto.Hash) ([]byte, []byte, bool) {
	if _, ok := hashOIDs[h]; !ok || !h.Available() {
		return nil, nil, false
	}
	nh := h.New()
	nh.Write(r.cfg.Issuer.RawSubject)
	kh := h.New()
	kh.Write(r.issuerPK)
	return nh.Sum(nil), kh.Sum(nil), true
}

// errorResponse is an OCSPResponse without responseBytes (RFC 6960 §4.2.1).
func errorResponse(status ocsp.ResponseStatus) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(status)) })
	return b.BytesOrPanic()
}

// sign encodes and signs a successful response. x/crypto/ocsp cannot place
// a nonce in responseExtensions (its ExtraExtensions become
// singleExtensions), so ResponseData is written here (RFC 6960 §4.2.1).
func (r *Responder) sign(ctx context.Context, req *ocsp.Request, nameHash, keyHash []byte, st Status, nonce []byte, now time.Time) ([]byte, error) {
	rd := cryptobyte.NewBuilder(nil)
	rd.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		// version v1 is DEFAULT: omitted. responderID byKey [2].
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(r.keyHash) })
		b.AddASN1GeneralizedTime(now)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // CertID
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(hashOIDs[req.HashAlgorithm])
						b.AddASN1NULL()
					})
					b.AddASN1OctetString(nameHash)
					b.AddASN1OctetString(keyHash)
					b.AddASN1BigInt(req.SerialNumber)
				})
				switch st.State {
				case Good:
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(*cryptobyte.Builder) {})
				case Revoked, Held:
					// A suspended certificate is revoked with reason
					// certificateHold (RFC 6960 §2.2; DESIGN.md).
					b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1GeneralizedTime(st.RevokedAt.UTC().Truncate(time.Second))
						if st.Reason != Unspecified {
							b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Enum(int64(st.Reason)) })
						}
					})
				default:
					b.AddASN1(cbasn1.Tag(2).ContextSpecific(), func(*cryptobyte.Builder) {})
				}
				b.AddASN1GeneralizedTime(now)
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					b.AddASN1GeneralizedTime(now.Add(r.cfg.Validity))
				})
			})
		})
		if nonce != nil {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(nonce) })
				})
			})
		}
	})
	tbs, err := rd.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: ocsp: encoding response: %w", err)
	}
	sig, err := r.alg.sign(ctx, r.cfg.Signer, tbs)
	if err != nil {
		return nil, err
	}
	basic := cryptobyte.NewBuilder(nil)
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbs)
		r.alg.addAlgorithmIdentifier(b)
		b.AddASN1BitString(sig)
		if rc := r.cfg.Signer.Certificate(); !bytes.Equal(rc.Raw, r.cfg.Issuer.Raw) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(rc.Raw) })
			})
		}
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, fmt.Errorf("crl: ocsp: encoding response: %w", err)
	}
	out := cryptobyte.NewBuilder(nil)
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(int64(ocsp.Success))
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return out.Bytes()
}

// ParseRequestExtensions reads the requestExtensions of a DER OCSPRequest
// (RFC 6960 §4.1.1), which x/crypto/ocsp does not expose, and returns the
// whole nonce Extension's inner encoding (extnID, critical, extnValue) to
// echo in the response, or nil when there is none. It fails on malformed
// input, on a repeated extension, on an unknown critical extension and on
// a nonce longer than RFC 8954 allows.
func ParseRequestExtensions(der []byte) ([]byte, error) {
	bad := func(rule string) error { return &FieldError{Field: "ocsp_request", Rule: rule} }
	in := cryptobyte.String(der)
	var req, tbs cryptobyte.String
	if !in.ReadASN1(&req, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, bad("not a sequence")
	}
	if !req.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return nil, bad("no tbsRequest")
	}
	if !tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) {
		return nil, bad("malformed tbsRequest")
	}
	var extsWrap cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&extsWrap, &present, cbasn1.Tag(2).Constructed().ContextSpecific()) || !tbs.Empty() {
		return nil, bad("malformed requestExtensions")
	}
	if !present {
		return nil, nil
	}
	var exts cryptobyte.String
	if !extsWrap.ReadASN1(&exts, cbasn1.SEQUENCE) || !extsWrap.Empty() || exts.Empty() {
		return nil, bad("malformed requestExtensions")
	}
	var nonce []byte
	seen := map[string]bool{}
	for !exts.Empty() {
		var ext cryptobyte.String
		if !exts.ReadASN1(&ext, cbasn1.SEQUENCE) {
			return nil, bad("malformed extension")
		}
		raw := []byte(ext)
		var oid asn1.ObjectIdentifier
		var critical bool
		var value []byte
		if !ext.ReadASN1ObjectIdentifier(&oid) ||
			!ext.ReadOptionalASN1Boolean(&critical, cbasn1.BOOLEAN, false) ||
			!ext.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !ext.Empty() {
			return nil, bad("malformed extension")
		}
		if seen[oid.String()] {
			return nil, bad("repeated extension " + oid.String())
		}
		seen[oid.String()] = true
		switch {
		case oid.Equal(oidOCSPNonce):
			if len(value) == 0 || len(value) > maxNonce {
				return nil, bad("nonce length out of range (RFC 8954 §2.1)")
			}
			nonce = raw
		case critical:
			return nil, bad("unsupported critical extension " + oid.String())
		}
	}
	return nonce, nil
}

// ServeHTTP answers GET /{base64 request} and POST requests (RFC 6960
// Appendix A). Responses without a nonce carry caching headers up to their
// nextUpdate (RFC 5019 §6).
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var der []byte
	switch req.Method {
	case http.MethodGet:
		p := strings.TrimPrefix(req.URL.Path, "/")
		if len(p) > base64.StdEncoding.EncodedLen(r.cfg.MaxRequestBytes)*3 { // allow percent-encoding
			http.Error(w, "crl: ocsp: request too long", http.StatusRequestURITooLong)
			return
		}
		d, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			d = nil // answered as malformedRequest below
		}
		der = d
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, int64(r.cfg.MaxRequestBytes)))
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				http.Error(w, "crl: ocsp: request too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "crl: ocsp: reading request", http.StatusBadRequest)
			return
		}
		der = body
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "crl: ocsp: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a := failed(ocsp.Malformed)
	if der != nil {
		a, _ = r.answer(req.Context(), der) // failures are logged and answered as internalError
	}
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", strconv.Itoa(len(a.der)))
	maxAge := int(a.nextUpdate.Sub(r.now()).Seconds())
	if req.Method == http.MethodGet && a.cacheable && maxAge > 0 {
		sum := sha256.Sum256(a.der)
		h.Set("Cache-Control", "max-age="+strconv.Itoa(maxAge)+", public, no-transform, must-revalidate")
		h.Set("Last-Modified", a.thisUpdate.UTC().Format(http.TimeFormat))
		h.Set("Expires", a.nextUpdate.UTC().Format(http.TimeFormat))
		h.Set("ETag", `"`+base64.RawURLEncoding.EncodeToString(sum[:16])+`"`)
	} else {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.der) // the client may have gone; nothing to do
}
