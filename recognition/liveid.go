package recognition

import (
	"context"
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
)

// LiveIDConfig configures [LiveID].
type LiveIDConfig struct {
	// Roots are the trust anchors of the RAOs' qualified signature
	// certificates. Required.
	Roots *x509.CertPool
	// Intermediates supplements the certificates embedded in the reports.
	Intermediates *x509.CertPool
	// CRLs gives the RAO certificate issuer's CRL. Required.
	CRLs CRLSource
	// OneShotRoots are the trust anchors of the one-shot certificates (the
	// platform's own CA). Required.
	OneShotRoots *x509.CertPool
	// MaxSignatureAge bounds the age of the report and form signatures.
	// Zero means one day: both are signed during the session.
	MaxSignatureAge time.Duration
	// MaxClockSkew bounds how far in the future a signing time may be. Zero
	// means [DefaultMaxClockSkew].
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
func (c *LiveIDConfig) Validate() error {
	var fe fieldErrors
	if c.Roots == nil {
		fe.add("roots", "is required")
	}
	if c.CRLs == nil {
		fe.add("crls", "is required")
	}
	if c.OneShotRoots == nil {
		fe.add("one_shot_roots", "is required")
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

// LiveID verifies Live ID recognitions (Manuale operatore, "Live ID
// Recognition Process"): the RAO saw the applicant, signed the recognition
// report with their own qualified certificate (.p7m), and the applicant then
// signed the request form with a one-shot certificate authorised by an OTP
// ([OTPSigner]).
type LiveID struct {
	cfg LiveIDConfig
	now func() time.Time
	log *slog.Logger
}

// NewLiveID returns a LiveID verifier; it copies the config.
func NewLiveID(cfg LiveIDConfig) (*LiveID, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxSignatureAge == 0 {
		cfg.MaxSignatureAge = 24 * time.Hour
	}
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	return &LiveID{cfg: cfg, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodLiveID].
func (v *LiveID) Method() Method { return MethodLiveID }

// Verify checks a Live ID submission. Preconditions, in order: the common
// fields (a recognising role is required); the signed report (.p7m) and the
// document images are uploaded; the acting RAO's registered tax code and
// the applicant's form signature are given. Then every check runs: the
// report's signature, chain, validity, signing time, revocation, qualified
// status, that it is signed in the acting RAO's name (serialNumber
// TINIT-<Operator.TaxCode>) and that it signs a PDF;
// and the form signature's checks (see [OTPSigner]).
func (v *LiveID) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	var fe fieldErrors
	kinds := append([]ArtefactKind{KindSignedReport}, documentKinds...)
	ups := validateCommon(&fe, MethodLiveID, &s, v.cfg.MaxUploadSize, kinds)
	if _, ok := findUpload(s.Uploads, KindSignedReport); !ok {
		fe.add("uploads", string(KindSignedReport)+" is required")
	}
	if s.Operator.TaxCode == "" {
		fe.add("operator.tax_code", "is required: the report must be signed in the acting RAO's name; register their tax code")
	}
	validateFormSignature(&fe, s.FormSignature)
	if err := fe.err(); err != nil {
		return Evidence{}, err
	}

	now := v.now()
	r := newRecorder(v.now, MethodLiveID, &s)
	for _, u := range ups {
		if u.Kind != KindSignedReport {
			r.add(u.Kind, u.Name, u.MediaType, u.Data)
		}
	}
	report, _ := find(ups, KindSignedReport)
	d := r.add(KindSignedReport, report.Name, report.MediaType, report.Data)
	subject := subjectOf(KindSignedReport, d)
	vs := r.verifySigned(ctx, KindSignedReport, d, report.Data, trustPolicy{
		Roots: v.cfg.Roots, Intermediates: v.cfg.Intermediates, CRLs: v.cfg.CRLs, RequireQualified: true,
		MaxSignatureAge: v.cfg.MaxSignatureAge, MaxClockSkew: v.cfg.MaxClockSkew,
	}, now)
	if vs != nil {
		var ce *CheckError
		if !sameTaxCode(vs.msg.Signer.Subject.SerialNumber, s.Operator.TaxCode) {
			ce = &CheckError{Check: CheckSigner, Kind: ErrIdentityMismatch,
				Detail: "report signed by " + vs.msg.Signer.Subject.String() + ", not in the acting RAO's name"}
		}
		r.record(CheckSigner, subject, "operator "+s.Operator.ID+" TINIT-"+s.Operator.TaxCode, "", ce)
		ce = nil
		if mt, _ := SniffMediaType(vs.msg.Content); mt != MediaPDF {
			ce = &CheckError{Check: CheckContent, Kind: ErrFormat, Detail: "signed report is not a PDF"}
		}
		r.record(CheckContent, subject, MediaPDF, "", ce)
		r.manifest.Attributes["report_signer"] = vs.msg.Signer.Subject.String()
	}
	r.verifyFormSignature(ctx, s.FormSignature, s.Applicant, trustPolicy{
		Roots: v.cfg.OneShotRoots, RequireQualified: true,
		MaxSignatureAge: v.cfg.MaxSignatureAge, MaxClockSkew: v.cfg.MaxClockSkew,
	}, now)
	if err := r.err(); err != nil {
		v.log.InfoContext(ctx, "recognition refused", slog.String(logattr.OrderID, s.OrderID),
			slog.String(logattr.Method, MethodLiveID.String()), slog.Any("checks", err.(*VerificationError).Checks()))
		return Evidence{}, err
	}
	ev := r.evidence()
	v.log.InfoContext(ctx, "recognition verified", slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodLiveID.String()), slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
}

// validateFormSignature checks that a form signature is present and whole.
func validateFormSignature(fe *fieldErrors, fs *FormSignature) {
	switch {
	case fs == nil:
		fe.add("form_signature", "is required")
	case len(fs.Form) == 0 || len(fs.P7M) == 0 || fs.Certificate == nil:
		fe.add("form_signature", "form, p7m and certificate are required")
	}
}
