package recognition

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
)

// Defaults of the signature checks.
const (
	// DefaultMaxSignatureAge is how old a Sign ID signature may be.
	DefaultMaxSignatureAge = 30 * 24 * time.Hour
	// DefaultMaxClockSkew is how far in the future a signing time may be.
	DefaultMaxClockSkew = 5 * time.Minute
)

// SignIDConfig configures [SignID].
type SignIDConfig struct {
	// Roots are the trust anchors of qualified signature certificates (for
	// example from the EU trusted lists). Required.
	Roots *x509.CertPool
	// Intermediates supplements the certificates embedded in the .p7m.
	// Nil means none.
	Intermediates *x509.CertPool
	// CRLs gives the signer issuer's CRL (supplied, or fetched from the
	// distribution point with [HTTPCRLs]). Required.
	CRLs CRLSource
	// Scanner scans the uploaded file and its signed content. Nil means
	// [NoScanner]: Sign ID is then unavailable and Verify fails with
	// [ErrScannerUnavailable].
	Scanner Scanner
	// MaxSignatureAge bounds the age of the signing time. Zero means
	// [DefaultMaxSignatureAge].
	MaxSignatureAge time.Duration
	// MaxClockSkew bounds how far in the future the signing time may be.
	// Zero means [DefaultMaxClockSkew].
	MaxClockSkew time.Duration
	// MaxUploadSize bounds each upload in bytes. Zero means
	// [DefaultMaxUploadSize].
	MaxUploadSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per recognition. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names each bad one.
func (c *SignIDConfig) Validate() error {
	var fe fieldErrors
	if c.Roots == nil {
		fe.add("roots", "is required")
	}
	if c.CRLs == nil {
		fe.add("crls", "is required")
	}
	if c.MaxSignatureAge < 0 {
		fe.add("max_signature_age", "must not be negative")
	}
	if c.MaxClockSkew < 0 {
		fe.add("max_clock_skew", "must not be negative")
	}
	if c.MaxUploadSize < 0 {
		fe.add("max_upload_size", "must not be negative")
	}
	return fe.err()
}

// SignID verifies Sign ID recognitions (Manuale operatore, "Sign ID
// Recognition Product Request"): the applicant signed the request form with
// an existing qualified signature. The RAO's three checks of the manual —
// the signature is valid, the certificate's data match the applicant, the
// file is free of malware — are made here, each as its own recorded check.
type SignID struct {
	cfg SignIDConfig
	now func() time.Time
	log *slog.Logger
}

// NewSignID returns a SignID verifier; it copies the config.
func NewSignID(cfg SignIDConfig) (*SignID, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scanner == nil {
		cfg.Scanner = NoScanner{}
	}
	if cfg.MaxSignatureAge == 0 {
		cfg.MaxSignatureAge = DefaultMaxSignatureAge
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	return &SignID{cfg: cfg, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodSignID].
func (v *SignID) Method() Method { return MethodSignID }

// Available reports whether Sign ID can run: an antivirus scanner is
// configured. When it is not, the error wraps [ErrScannerUnavailable].
func (v *SignID) Available() error {
	if _, ok := v.cfg.Scanner.(NoScanner); ok {
		return &CheckError{Check: CheckAntivirus, Kind: ErrScannerUnavailable,
			Detail: "sign id is unavailable: no antivirus scanner is configured"}
	}
	return nil
}

// Verify checks a Sign ID submission. Preconditions, in order: a scanner is
// configured; the common fields; the signed form (.p7m) and the document
// images are uploaded. Then every check runs and every failure is reported:
// format, signature, signing-certificate binding, chain to the roots,
// validity now, signing time, revocation, QcCompliance, nonRepudiation, the
// serialNumber TINIT-<tax code>, given name and surname, the signed content
// is a PDF, and the antivirus verdict on the file and on its content.
func (v *SignID) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	if err := v.Available(); err != nil {
		return Evidence{}, err
	}
	var fe fieldErrors
	kinds := append([]ArtefactKind{KindSignedForm}, documentKinds...)
	ups := validateCommon(&fe, MethodSignID, &s, v.cfg.MaxUploadSize, kinds)
	if _, ok := findUpload(s.Uploads, KindSignedForm); !ok {
		fe.add("uploads", string(KindSignedForm)+" is required")
	}
	if err := fe.err(); err != nil {
		return Evidence{}, err
	}

	now := v.now()
	r := newRecorder(v.now, MethodSignID, &s)
	for _, u := range ups {
		if u.Kind != KindSignedForm {
			r.add(u.Kind, u.Name, u.MediaType, u.Data)
		}
	}
	form, _ := find(ups, KindSignedForm)
	d := r.add(KindSignedForm, form.Name, form.MediaType, form.Data)
	subject := subjectOf(KindSignedForm, d)
	policy := trustPolicy{
		Roots: v.cfg.Roots, Intermediates: v.cfg.Intermediates, CRLs: v.cfg.CRLs, RequireQualified: true,
		MaxSignatureAge: v.cfg.MaxSignatureAge, MaxClockSkew: v.cfg.MaxClockSkew,
	}
	vs := r.verifySigned(ctx, KindSignedForm, d, form.Data, policy, now)
	toScan := [][]byte{form.Data}
	if vs != nil {
		signer := vs.msg.Signer
		r.add(KindSignerCertificate, "", MediaCert, signer.Raw)
		r.matchSigner(subject, signer, s.Applicant)
		var ce *CheckError
		if mt, _ := SniffMediaType(vs.msg.Content); mt != MediaPDF {
			ce = &CheckError{Check: CheckContent, Kind: ErrFormat, Detail: "signed content is not a PDF request form"}
		}
		r.record(CheckContent, subject, MediaPDF, "", ce)
		r.manifest.Attributes["signer_subject"] = signer.Subject.String()
		r.manifest.Attributes["signer_serial"] = signer.SerialNumber.String()
		r.manifest.Attributes["signer_issuer"] = signer.Issuer.String()
		r.manifest.Attributes["signing_time"] = stamp(vs.msg.SigningTime)
		toScan = append(toScan, vs.msg.Content)
	}
	v.scan(ctx, r, subject, toScan)
	if err := r.err(); err != nil {
		v.log.InfoContext(ctx, "recognition refused", slog.String(logattr.OrderID, s.OrderID),
			slog.String(logattr.Method, MethodSignID.String()), slog.Any("checks", err.(*VerificationError).Checks()))
		return Evidence{}, err
	}
	ev := r.evidence()
	v.log.InfoContext(ctx, "recognition verified", slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodSignID.String()), slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
}

// scan runs the antivirus on the file and on its signed content: a hash
// signature matches only the exact file, and the content is what a reader
// opens.
func (v *SignID) scan(ctx context.Context, r *recorder, subject string, files [][]byte) {
	var engine string
	for i, b := range files {
		res, err := v.cfg.Scanner.Scan(ctx, bytes.NewReader(b))
		part := "file"
		if i > 0 {
			part = "signed content"
		}
		switch {
		case err != nil:
			kind := ErrScannerUnavailable
			if !errors.Is(err, ErrScannerUnavailable) {
				err = errors.Join(ErrScannerUnavailable, err)
			}
			r.fail(&CheckError{Check: CheckAntivirus, Kind: kind, Detail: part + " not scanned", Err: err}, subject, res.Engine)
			return
		case !res.Clean:
			r.fail(&CheckError{Check: CheckAntivirus, Kind: ErrInfected, Detail: part + " infected",
				Err: &InfectedError{Threat: res.Threat, Engine: res.Engine}}, subject, res.Engine)
			return
		}
		engine = res.Engine
	}
	r.pass(CheckAntivirus, subject, engine, "file and signed content clean")
}
