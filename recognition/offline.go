package recognition

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
	"github.com/registra-pki/registra/internal/taxcode"
)

// OfflineConfig configures [Offline].
type OfflineConfig struct {
	// Roots are the trust anchors of the recognising officers' qualified
	// certificates, for reports uploaded as a signed .p7m. Nil means signed
	// reports are refused and only scanned or PDF reports are taken.
	Roots *x509.CertPool
	// Intermediates supplements the certificates embedded in the reports.
	Intermediates *x509.CertPool
	// CRLs gives the officer certificate issuer's CRL. Required with Roots.
	CRLs CRLSource
	// MaxSignatureAge bounds the age of a signed report. Zero means
	// [DefaultMaxSignatureAge].
	MaxSignatureAge time.Duration
	// MaxUploadSize bounds each upload in bytes. Zero means
	// [DefaultMaxUploadSize].
	MaxUploadSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per recognition. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields and names each bad one.
func (c *OfflineConfig) Validate() error {
	var fe fieldErrors
	if c.MaxUploadSize < 0 {
		fe.add("max_upload_size", "must not be negative")
	}
	if c.Roots != nil && c.CRLs == nil {
		fe.add("crls", "is required with roots")
	}
	if c.MaxSignatureAge < 0 {
		fe.add("max_signature_age", "must not be negative")
	}
	return fe.err()
}

// Offline verifies Offline recognitions (Manuale operatore, "Offline
// Recognition Product Request"): the applicant was identified in person and
// signed the paper form by hand. The evidence is the signed form, the
// recognition report and the identity document images; when the uploader is
// a plain operator, the recognising officer (RAO or IR) is named too.
type Offline struct {
	cfg OfflineConfig
	now func() time.Time
	log *slog.Logger
}

// NewOffline returns an Offline verifier; it copies the config.
func NewOffline(cfg OfflineConfig) (*Offline, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	if cfg.MaxSignatureAge == 0 {
		cfg.MaxSignatureAge = DefaultMaxSignatureAge
	}
	return &Offline{cfg: cfg, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodOffline].
func (o *Offline) Method() Method { return MethodOffline }

// Verify checks an Offline submission. Preconditions, in order: the common
// fields (order, applicant, operator, privacy consent); uploads of the signed
// paper form (PDF or image), the recognition report and the document images;
// and the officer: required when the operator's role is operator, with ID,
// names, a valid tax code and a recognising role.
//
// The report is either a scan or PDF ([KindReport]) or, when the RAO or IR
// signed it digitally, a .p7m ([KindSignedReport]; Roots must be
// configured). A signed report is verified like a Sign ID form (signature,
// chain, validity, signing time, revocation, qualified) and its signer must
// be the recognising officer: a certificate with the TINIT-<tax code> of
// the officer named, or else of the acting RAO or IR (Operator.TaxCode, the
// platform's register; required then).
func (o *Offline) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	kinds := append([]ArtefactKind{KindSignedPaperForm, KindReport, KindSignedReport}, documentKinds...)
	var fe fieldErrors
	ups := validateCommon(&fe, MethodOffline, &s, o.cfg.MaxUploadSize, kinds)
	if _, ok := findUpload(s.Uploads, KindSignedPaperForm); !ok {
		fe.add("uploads", fmt.Sprintf("%s is required", KindSignedPaperForm))
	}
	_, scanned := findUpload(s.Uploads, KindReport)
	_, signed := findUpload(s.Uploads, KindSignedReport)
	switch {
	case scanned == signed:
		fe.add("uploads", fmt.Sprintf("exactly one of %s and %s is required", KindReport, KindSignedReport))
	case signed && o.cfg.Roots == nil:
		fe.add("uploads", fmt.Sprintf("%s: signed reports are not accepted: no trust anchors configured", KindSignedReport))
	case signed && s.Officer == nil && s.Operator.Role.recognises() && s.Operator.TaxCode == "":
		fe.add("operator.tax_code", "is required to match the signer of the report: register the operator's tax code, or name the officer who signed")
	}
	officer := s.Officer
	switch {
	case s.Operator.Role == RoleOperator && officer == nil:
		fe.add("officer", "is required when a plain operator uploads the evidence")
	case officer != nil:
		validateOfficer(&fe, officer)
	}
	if err := fe.err(); err != nil {
		return Evidence{}, err
	}

	r := newRecorder(o.now, MethodOffline, &s)
	for _, u := range ups {
		d := r.add(u.Kind, u.Name, u.MediaType, u.Data)
		if u.Kind == KindSignedReport {
			o.verifyReport(ctx, r, d, u.Data, &s)
			continue
		}
		r.pass(CheckContent, subjectOf(u.Kind, d), strings.Join(allowedMedia[u.Kind], ","), "sniffed "+u.MediaType)
	}
	if officer == nil {
		// The uploader is a recognising officer and saw the applicant.
		r.manifest.Attributes["recognised_by"] = s.Operator.ID
	} else {
		r.manifest.Attributes["recognised_by"] = officer.ID
	}
	if err := r.err(); err != nil {
		o.log.InfoContext(ctx, "recognition refused", slog.String(logattr.OrderID, s.OrderID),
			slog.String(logattr.Method, MethodOffline.String()), slog.Any("checks", err.(*VerificationError).Checks()))
		return Evidence{}, err
	}
	ev := r.evidence()
	o.log.InfoContext(ctx, "recognition verified",
		slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodOffline.String()),
		slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
}

// verifyReport verifies a digitally signed recognition report and that its
// signer is the recognising officer.
func (o *Offline) verifyReport(ctx context.Context, r *recorder, d Digest, der []byte, s *Submission) {
	subject := subjectOf(KindSignedReport, d)
	vs := r.verifySigned(ctx, KindSignedReport, d, der, trustPolicy{
		Roots: o.cfg.Roots, Intermediates: o.cfg.Intermediates, CRLs: o.cfg.CRLs, RequireQualified: true,
		MaxSignatureAge: o.cfg.MaxSignatureAge, MaxClockSkew: DefaultMaxClockSkew,
	}, o.now())
	if vs == nil {
		return
	}
	signer := vs.msg.Signer
	var ce *CheckError
	var against string
	if s.Officer == nil {
		against = "operator " + s.Operator.ID + " TINIT-" + s.Operator.TaxCode
		if !sameTaxCode(signer.Subject.SerialNumber, s.Operator.TaxCode) {
			ce = &CheckError{Check: CheckSigner, Kind: ErrIdentityMismatch,
				Detail: fmt.Sprintf("report signed by %q, not by the acting operator", signer.Subject.SerialNumber)}
		}
	} else {
		against = "officer " + s.Officer.ID + " TINIT-" + s.Officer.TaxCode
		if !sameTaxCode(signer.Subject.SerialNumber, s.Officer.TaxCode) {
			ce = &CheckError{Check: CheckSigner, Kind: ErrIdentityMismatch,
				Detail: fmt.Sprintf("report signed by %q, not by the recognising officer", signer.Subject.SerialNumber)}
		}
	}
	r.record(CheckSigner, subject, against, "", ce)
	ce = nil
	if mt, _ := SniffMediaType(vs.msg.Content); mt != MediaPDF {
		ce = &CheckError{Check: CheckContent, Kind: ErrFormat, Detail: "signed report is not a PDF"}
	}
	r.record(CheckContent, subject, MediaPDF, "", ce)
	r.manifest.Attributes["report_signer"] = signer.Subject.String()
}

func validateOfficer(fe *fieldErrors, o *Officer) {
	if strings.TrimSpace(o.ID) == "" {
		fe.add("officer.id", "is required")
	}
	if strings.TrimSpace(o.GivenName) == "" {
		fe.add("officer.given_name", "is required")
	}
	if strings.TrimSpace(o.Surname) == "" {
		fe.add("officer.surname", "is required")
	}
	if _, err := taxcode.Parse(o.TaxCode); err != nil {
		fe.add("officer.tax_code", err.Error())
	}
	if !o.Role.recognises() {
		fe.add("officer.role", fmt.Sprintf("must be %s, %s or %s", RoleIR, RoleRAO, RoleMasterRAO))
	}
}

func findUpload(ups []Upload, kind ArtefactKind) (Upload, bool) {
	for _, u := range ups {
		if u.Kind == kind {
			return u, true
		}
	}
	return Upload{}, false
}
