package recognition

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
	"github.com/registra-pki/registra/internal/taxcode"
)

// OfflineConfig configures [Offline].
type OfflineConfig struct {
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
	return &Offline{cfg: cfg, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodOffline].
func (o *Offline) Method() Method { return MethodOffline }

// Verify checks an Offline submission. Preconditions, in order: the common
// fields (order, applicant, operator, privacy consent); uploads of the signed
// paper form (PDF or image), the recognition report (PDF or image) and the
// document images; and the officer: required when the operator's role is
// operator, with ID, names, a valid tax code and a recognising role.
func (o *Offline) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	kinds := append([]ArtefactKind{KindSignedPaperForm, KindReport}, documentKinds...)
	var fe fieldErrors
	ups := validateCommon(&fe, MethodOffline, &s, o.cfg.MaxUploadSize, kinds)
	for _, k := range []ArtefactKind{KindSignedPaperForm, KindReport} {
		if _, ok := findUpload(s.Uploads, k); !ok {
			fe.add("uploads", fmt.Sprintf("%s is required", k))
		}
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
		r.pass(CheckContent, subjectOf(u.Kind, d), strings.Join(allowedMedia[u.Kind], ","), "sniffed "+u.MediaType)
	}
	if officer == nil {
		// The uploader is a recognising officer and saw the applicant.
		r.manifest.Attributes["recognised_by"] = s.Operator.ID
	} else {
		r.manifest.Attributes["recognised_by"] = officer.ID
	}
	ev := r.evidence()
	o.log.InfoContext(ctx, "recognition verified",
		slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodOffline.String()),
		slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
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
