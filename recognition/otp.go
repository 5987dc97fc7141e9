package recognition

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/registra-pki/registra/internal/logattr"
	"github.com/registra-pki/registra/internal/taxcode"
)

// Sender delivers an OTP to the applicant's mobile (SMS or app push). It
// returns the channel used, e.g. "sms", for the evidence. It must not log
// the code; [OTPCode] redacts itself in logs.
type Sender interface {
	SendOTP(ctx context.Context, mobile string, code OTPCode) (channel string, err error)
}

// OneShotIssuer issues the one-shot signature certificate for a key made
// for one signature only (DESIGN.md step 2, Live ID). The root package
// satisfies it with ca.Issuer and the OneShot profile.
type OneShotIssuer interface {
	IssueOneShot(ctx context.Context, req OneShotRequest) (*OneShotCertificate, error)
}

// OneShotRequest asks for a one-shot certificate.
type OneShotRequest struct {
	OrderID   string
	Applicant Applicant
	PublicKey crypto.PublicKey // the key generated for this signature
}

// OneShotCertificate is an issued one-shot certificate with its chain.
type OneShotCertificate struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // issuer first, root optional
}

// FormSignature is the applicant's OTP-authorised one-shot signature of the
// request form, produced by [OTPSigner.Complete].
type FormSignature struct {
	// Form is the request form that was signed (PDF).
	Form []byte
	// P7M is the CAdES-BES signature with the form attached.
	P7M []byte
	// Certificate is the one-shot certificate the form was signed with.
	Certificate *x509.Certificate
	// Chain holds the issuing certificates above Certificate.
	Chain []*x509.Certificate
	// OTP records how the signature was authorised.
	OTP OTPRecord
}

// OTPRecord is what the evidence keeps about an OTP authorisation: never
// the code or its secret.
type OTPRecord struct {
	ChallengeID string    // the challenge answered
	Channel     string    // delivery channel named by the Sender, e.g. "sms"
	Destination string    // masked destination, e.g. "+39*******567"
	SentAt      time.Time // when the code was sent
	VerifiedAt  time.Time // when the right code was entered
	Attempts    int       // attempts used, including the successful one
}

// Defaults of [OTPSignerConfig].
const (
	DefaultOTPAttempts = 3
	DefaultOTPExpiry   = 5 * time.Minute
)

// OTPSignerConfig configures [OTPSigner].
type OTPSignerConfig struct {
	// Issuer issues the one-shot certificate. Required.
	Issuer OneShotIssuer
	// Sender delivers the OTP. Required.
	Sender Sender
	// MaxAttempts is how many codes may be tried per challenge. Zero means
	// [DefaultOTPAttempts].
	MaxAttempts int
	// Expiry is how long a code is valid after it is sent. Zero means
	// [DefaultOTPExpiry].
	Expiry time.Duration
	// Digits is the code length, 6 or 8. Zero means 6.
	Digits int
	// Rand is the source of OTP secrets and challenge IDs. Nil means
	// crypto/rand. The one-shot key always comes from crypto/rand.
	Rand io.Reader
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives a line per challenge. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names each bad one.
func (c *OTPSignerConfig) Validate() error {
	var fe fieldErrors
	if c.Issuer == nil {
		fe.add("issuer", "is required")
	}
	if c.Sender == nil {
		fe.add("sender", "is required")
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 10 {
		fe.add("max_attempts", "must be between 0 and 10")
	}
	if c.Expiry < 0 || c.Expiry > time.Hour {
		fe.add("expiry", "must be between 0 and 1h")
	}
	if c.Digits != 0 && c.Digits != 6 && c.Digits != 8 {
		fe.add("digits", "must be 6 or 8")
	}
	return fe.err()
}

// OTPSigner runs the applicant's one-shot signature of the request form
// (Manuale operatore, "Live ID Recognition Process" and "Video ID
// Identification Process"): [OTPSigner.Start] sends an OTP through the
// [Sender]; [OTPSigner.Complete] verifies it (HOTP, RFC 4226, with
// github.com/pquerna/otp; limited attempts, short expiry), generates a P-256
// key for this signature only, has the one-shot certificate issued for it,
// signs the form as CAdES-BES and destroys the key.
type OTPSigner struct {
	cfg  OTPSignerConfig
	opts hotp.ValidateOpts
	rand io.Reader
	now  func() time.Time
	log  *slog.Logger
}

// NewOTPSigner returns an OTPSigner; it copies the config.
func NewOTPSigner(cfg OTPSignerConfig) (*OTPSigner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultOTPAttempts
	}
	if cfg.Expiry == 0 {
		cfg.Expiry = DefaultOTPExpiry
	}
	digits := otp.DigitsSix
	if cfg.Digits == 8 {
		digits = otp.DigitsEight
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	return &OTPSigner{
		cfg:  cfg,
		opts: hotp.ValidateOpts{Digits: digits, Algorithm: otp.AlgorithmSHA1},
		rand: r, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger),
	}, nil
}

// OTPRequest starts a one-shot signature.
type OTPRequest struct {
	OrderID   string
	Applicant Applicant // tax code, names and mobile required
	Form      []byte    // the request form to sign (PDF)
}

// Challenge is one OTP challenge. It holds the OTP secret, so it lives in
// memory only and is never stored or logged (it formats as a redaction
// marker). It is safe for concurrent use.
type Challenge struct {
	id        string
	orderID   string
	applicant Applicant
	form      []byte
	secret    Secret
	channel   string
	sentAt    time.Time
	expiresAt time.Time

	mu       sync.Mutex
	attempts int
	closed   bool
}

// ID returns the challenge ID (random, 128 bits, hex).
func (c *Challenge) ID() string { return c.id }

// ExpiresAt returns when the code expires.
func (c *Challenge) ExpiresAt() time.Time { return c.expiresAt }

// Format prints the challenge ID only.
func (c *Challenge) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, "challenge "+c.id) }

// LogValue logs the challenge ID only.
func (c *Challenge) LogValue() slog.Value { return slog.StringValue(c.id) }

// OTPError reports a wrong code and how many attempts remain. It unwraps to
// [ErrOTPInvalid], and also to [ErrOTPLocked] when none remain.
type OTPError struct {
	Remaining int
}

// Error returns the message, "recognition: ..." as the package writes them.
func (e *OTPError) Error() string {
	if e.Remaining == 0 {
		return "recognition: otp: code does not match: no attempts left"
	}
	return fmt.Sprintf("recognition: otp: code does not match: %d attempts left", e.Remaining)
}

// Unwrap returns ErrOTPInvalid, and ErrOTPLocked when no attempts remain.
func (e *OTPError) Unwrap() []error {
	if e.Remaining == 0 {
		return []error{ErrOTPInvalid, ErrOTPLocked}
	}
	return []error{ErrOTPInvalid}
}

// Start checks the request, creates a challenge and sends its code. Bad
// input sends nothing.
func (s *OTPSigner) Start(ctx context.Context, req OTPRequest) (*Challenge, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var fe fieldErrors
	if strings.TrimSpace(req.OrderID) == "" {
		fe.add("order_id", "is required")
	}
	if _, err := taxcode.Parse(req.Applicant.TaxCode); err != nil {
		fe.add("applicant.tax_code", err.Error())
	}
	if strings.TrimSpace(req.Applicant.GivenName) == "" || strings.TrimSpace(req.Applicant.Surname) == "" {
		fe.add("applicant", "given name and surname are required")
	}
	if !validMobile(req.Applicant.Mobile) {
		fe.add("applicant.mobile", "must be in E.164 form, e.g. +393331234567")
	}
	if mt, _ := SniffMediaType(req.Form); mt != MediaPDF {
		fe.add("form", "must be a PDF")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	raw := make([]byte, 20+16)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return nil, fmt.Errorf("recognition: otp: random: %w", err)
	}
	secret := Secret(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:20]))
	code, err := hotp.GenerateCodeCustom(string(secret), 0, s.opts)
	if err != nil {
		return nil, fmt.Errorf("recognition: otp: generating code: %w", err)
	}
	ch := &Challenge{
		id:        hex.EncodeToString(raw[20:]),
		orderID:   req.OrderID,
		applicant: req.Applicant,
		form:      append([]byte(nil), req.Form...),
		secret:    secret,
	}
	channel, err := s.cfg.Sender.SendOTP(ctx, req.Applicant.Mobile, OTPCode(code))
	if err != nil {
		return nil, fmt.Errorf("recognition: otp: sending: %w", err)
	}
	ch.channel = channel
	ch.sentAt = s.now()
	ch.expiresAt = ch.sentAt.Add(s.cfg.Expiry)
	s.log.InfoContext(ctx, "otp sent", slog.String(logattr.OrderID, req.OrderID), slog.Any("challenge", ch),
		slog.String("channel", channel))
	return ch, nil
}

// Complete checks code against the challenge and, when it matches, signs
// the form. Each call with a wrong code uses one attempt; after the last
// one, or after expiry, or once a signature was made, the challenge is
// closed ([ErrOTPLocked]) and a new one must be started. A code that
// matches closes the challenge even if issuance then fails.
func (s *OTPSigner) Complete(ctx context.Context, ch *Challenge, code string) (*FormSignature, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ch == nil {
		return nil, &FieldError{Field: "challenge", Rule: "is required"}
	}
	attempts, err := s.check(ch, code)
	if err != nil {
		s.log.InfoContext(ctx, "otp refused", slog.String(logattr.OrderID, ch.orderID), slog.Any("challenge", ch),
			slog.Int(logattr.Attempt, attempts), slog.String("error", err.Error()))
		return nil, err
	}
	verifiedAt := s.now()
	p7m, issued, err := s.signOnce(ctx, ch)
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "form signed with one-shot certificate", slog.String(logattr.OrderID, ch.orderID),
		slog.Any("challenge", ch), slog.String(logattr.Serial, issued.Certificate.SerialNumber.String()))
	return &FormSignature{
		Form:        append([]byte(nil), ch.form...),
		P7M:         p7m,
		Certificate: issued.Certificate,
		Chain:       append([]*x509.Certificate(nil), issued.Chain...),
		OTP: OTPRecord{
			ChallengeID: ch.id, Channel: ch.channel, Destination: maskMobile(ch.applicant.Mobile),
			SentAt: ch.sentAt, VerifiedAt: verifiedAt, Attempts: attempts,
		},
	}, nil
}

// check consumes one attempt and verifies the code.
func (s *OTPSigner) check(ch *Challenge, code string) (int, error) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.closed {
		return ch.attempts, fmt.Errorf("recognition: otp: challenge closed: %w", ErrOTPLocked)
	}
	if s.now().After(ch.expiresAt) {
		ch.closed = true
		return ch.attempts, fmt.Errorf("recognition: otp: code expired at %s: %w", stamp(ch.expiresAt), ErrOTPExpired)
	}
	ch.attempts++
	ok, err := hotp.ValidateCustom(strings.TrimSpace(code), 0, string(ch.secret), s.opts)
	if err != nil && !errors.Is(err, otp.ErrValidateInputInvalidLength) {
		return ch.attempts, fmt.Errorf("recognition: otp: %w", err)
	}
	if !ok {
		remaining := s.cfg.MaxAttempts - ch.attempts
		if remaining <= 0 {
			ch.closed = true
			remaining = 0
		}
		return ch.attempts, &OTPError{Remaining: remaining}
	}
	ch.closed = true
	clear(ch.secret)
	return ch.attempts, nil
}

// signOnce generates a key for this signature only, has the one-shot
// certificate issued, signs the form and destroys the key.
func (s *OTPSigner) signOnce(ctx context.Context, ch *Challenge) ([]byte, *OneShotCertificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("recognition: one-shot key: %w", err)
	}
	defer destroyKey(key)
	issued, err := s.cfg.Issuer.IssueOneShot(ctx, OneShotRequest{OrderID: ch.orderID, Applicant: ch.applicant, PublicKey: key.Public()})
	if err != nil {
		return nil, nil, fmt.Errorf("recognition: one-shot certificate: %w: %w", ErrIssuance, err)
	}
	if issued == nil || issued.Certificate == nil {
		return nil, nil, fmt.Errorf("recognition: one-shot certificate: issuer returned none: %w", ErrIssuance)
	}
	if !key.PublicKey.Equal(issued.Certificate.PublicKey) {
		return nil, nil, fmt.Errorf("recognition: one-shot certificate: not for the generated key: %w", ErrIssuance)
	}
	p7m, err := signCMS(ch.form, issued.Certificate, issued.Chain, key)
	if err != nil {
		return nil, nil, fmt.Errorf("recognition: one-shot signature: %w", err)
	}
	return p7m, issued, nil
}

// destroyKey overwrites the private scalar. The key was never exported,
// persisted or handed to another component; zeroing it and dropping the
// last reference is the best a Go program can do (the runtime may have
// copied the value into internal caches that are freed with the key).
func destroyKey(k *ecdsa.PrivateKey) {
	//lint:ignore SA1019 the scalar is zeroed on purpose, the key is never used again
	if k.D != nil {
		clear(k.D.Bits()) //nolint:staticcheck // see above
		k.D.SetInt64(0)   //nolint:staticcheck // see above
	}
}

func validMobile(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// maskMobile keeps the country prefix and the last three digits.
func maskMobile(s string) string {
	if len(s) < 7 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-6) + s[len(s)-3:]
}

// verifyFormSignature verifies the applicant's one-shot signature of the
// request form and records its checks: the .p7m (chain to the one-shot
// roots, qualified, signing time), the signer is the one-shot certificate
// issued to this applicant, the signed content is the form, and the OTP
// authorisation.
func (r *recorder) verifyFormSignature(ctx context.Context, fs *FormSignature, a Applicant, p trustPolicy, now time.Time) {
	formD := r.add(KindRequestForm, "", MediaPDF, fs.Form)
	d := r.add(KindSignedForm, "", MediaP7M, fs.P7M)
	subject := subjectOf(KindSignedForm, d)
	vs := r.verifySigned(ctx, KindSignedForm, d, fs.P7M, p, now)
	if vs == nil {
		return
	}
	signer := vs.msg.Signer
	r.add(KindOneShotCert, "", MediaCert, signer.Raw)
	var ce *CheckError
	if fs.Certificate == nil || !signer.Equal(fs.Certificate) {
		ce = &CheckError{Check: CheckSigner, Kind: ErrIdentityMismatch, Detail: "form not signed with the one-shot certificate issued for it"}
	}
	r.record(CheckSigner, subject, "one-shot certificate serial "+signer.SerialNumber.String(), "", ce)
	r.matchSigner(subject, signer, a)
	ce = nil
	if string(vs.msg.Content) != string(fs.Form) {
		ce = &CheckError{Check: CheckContent, Kind: ErrSignature, Detail: "signed content is not the request form"}
	} else if mt, _ := SniffMediaType(fs.Form); mt != MediaPDF {
		ce = &CheckError{Check: CheckContent, Kind: ErrFormat, Detail: "request form is not a PDF"}
	}
	r.record(CheckContent, subject, subjectOf(KindRequestForm, formD), "", ce)
	ce = nil
	o := fs.OTP
	if o.VerifiedAt.IsZero() || o.Attempts < 1 || o.VerifiedAt.Before(o.SentAt) {
		ce = &CheckError{Check: CheckOTP, Kind: ErrOTPInvalid, Detail: "no OTP authorisation recorded"}
	}
	r.record(CheckOTP, subject, o.Channel+" "+o.Destination,
		fmt.Sprintf("challenge %s sent %s verified %s after %d attempt(s)", o.ChallengeID, stamp(o.SentAt), stamp(o.VerifiedAt), o.Attempts), ce)
	r.manifest.Attributes["one_shot_serial"] = signer.SerialNumber.String()
	r.manifest.Attributes["otp_channel"] = o.Channel
}
