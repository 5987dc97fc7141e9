package recognition

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// ManifestVersion is the version of the manifest encoding written by this
// package. Verification refuses other versions.
const ManifestVersion = 1

// Digest is the SHA-256 of an artefact; artefacts are stored by it.
type Digest [sha256.Size]byte

// DigestOf returns the SHA-256 of b.
func DigestOf(b []byte) Digest { return sha256.Sum256(b) }

// String returns the digest in lower-case hex.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// MarshalText encodes the digest in lower-case hex.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes lower-case hex.
func (d *Digest) UnmarshalText(b []byte) error {
	v, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDigest decodes a digest written in lower-case hex.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	if len(s) != 2*len(d) {
		return d, &FieldError{Field: "digest", Rule: "must be 64 lower-case hex digits"}
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil || hex.EncodeToString(d[:]) != s {
		return d, &FieldError{Field: "digest", Rule: "must be 64 lower-case hex digits"}
	}
	return d, nil
}

// Applicant is the snapshot of the applicant's data the recognition was made
// against (DESIGN.md step 1).
type Applicant struct {
	TaxCode      string            `json:"tax_code"`                 // codice fiscale, upper case
	GivenName    string            `json:"given_name"`               // as on the identity document
	Surname      string            `json:"surname"`                  // as on the identity document
	DateOfBirth  string            `json:"date_of_birth,omitempty"`  // YYYY-MM-DD
	PlaceOfBirth string            `json:"place_of_birth,omitempty"` // municipality or country
	Email        string            `json:"email,omitempty"`          // holder's e-mail
	Mobile       string            `json:"mobile,omitempty"`         // holder's mobile, E.164
	Document     *IdentityDocument `json:"document,omitempty"`       // identity document data
}

// IdentityDocument is the data of the applicant's identity document.
type IdentityDocument struct {
	Country   string `json:"country"`              // ISO 3166-1 alpha-2
	Type      string `json:"type"`                 // "identity_card", "passport", ...
	Number    string `json:"number"`               // document number
	IssuedOn  string `json:"issued_on,omitempty"`  // YYYY-MM-DD
	ExpiresOn string `json:"expires_on,omitempty"` // YYYY-MM-DD
}

// Operator is the operator acting for the partner organisation.
type Operator struct {
	ID   string `json:"id"`   // operator user ID
	Name string `json:"name"` // display name
	Role Role   `json:"role"` // role the operator acted in
	Org  string `json:"org"`  // organisation (client code)
	Unit string `json:"unit"` // organisational unit
	// TaxCode is the operator's tax code as the platform's register of
	// operators holds it (never the uploader's word): a recognition report
	// the operator signs must be signed in this name (TINIT-<tax code>).
	TaxCode string `json:"tax_code,omitempty"`
}

// Officer is the recognising officer (RAO or IR) who saw the applicant, when
// the evidence is uploaded by someone else (Manuale operatore, "Offline
// Recognition Product Request": an operator who is not a RAO uploads the
// report signed by the RAO/IR and indicates the officer's personal data).
type Officer struct {
	ID        string `json:"id"`         // the officer's registered operator ID
	GivenName string `json:"given_name"` // officer's given name
	Surname   string `json:"surname"`    // officer's surname
	TaxCode   string `json:"tax_code"`   // officer's tax code
	Role      Role   `json:"role"`       // RoleIR, RoleRAO or RoleMasterRAO
}

// Consent is one consent given by the applicant.
type Consent struct {
	Name  string `json:"name"`  // "privacy", "marketing", ...
	Given bool   `json:"given"` // whether the applicant gave it
}

// ConsentPrivacy is the consent to data processing, required by every method.
const ConsentPrivacy = "privacy"

// ArtefactRef describes one artefact of the evidence; the bytes are stored
// separately under SHA256.
type ArtefactRef struct {
	Kind      ArtefactKind `json:"kind"`
	Name      string       `json:"name,omitempty"` // file name as uploaded
	MediaType string       `json:"media_type"`     // sniffed: image/jpeg, image/png, application/pdf, application/pkcs7-mime, ...
	Size      int          `json:"size"`
	SHA256    Digest       `json:"sha256"`
}

// Result is the outcome of a check.
type Result string

// Check results.
const (
	Pass Result = "pass"
	Fail Result = "fail"
)

// Check records one verification: what was checked, against what, when and
// with what result (after Boulder's core.ValidationRecord, which keeps what
// was resolved, tried and used).
type Check struct {
	Name    CheckName `json:"name"`
	Subject string    `json:"subject,omitempty"` // what was checked, e.g. "signed_form sha256:…"
	Against string    `json:"against,omitempty"` // what it was checked against, e.g. the trust anchor's subject
	Result  Result    `json:"result"`
	Detail  string    `json:"detail,omitempty"`
	At      time.Time `json:"at"`
}

// Manifest is the canonical description of one recognition. Its JSON
// encoding (see [Manifest.Canonical]) is what the evidence key signs.
type Manifest struct {
	Version     int               `json:"version"`
	Method      Method            `json:"method"`
	OrderID     string            `json:"order_id"`
	ProductID   string            `json:"product_id,omitempty"`
	Applicant   Applicant         `json:"applicant"`
	Operator    Operator          `json:"operator"`
	Officer     *Officer          `json:"officer,omitempty"`
	Consents    []Consent         `json:"consents"`
	StartedAt   time.Time         `json:"started_at"`
	CompletedAt time.Time         `json:"completed_at"`
	Artefacts   []ArtefactRef     `json:"artefacts"`
	Checks      []Check           `json:"checks"`
	Attributes  map[string]string `json:"attributes,omitempty"` // method-specific facts: SPID attributes, video provider, OTP channel…
	// UsageLimited marks products recognised this way as the usage-limited
	// variant (SPID).
	UsageLimited bool `json:"usage_limited"`
}

// Canonical returns the canonical encoding of the manifest: JSON with the
// fields in declaration order, map keys sorted, times in UTC with nanosecond
// precision, no insignificant white space and no trailing newline. Two equal
// manifests always encode to the same bytes, and [ParseManifest] accepts only
// bytes in this form.
func (m *Manifest) Canonical() ([]byte, error) {
	c := m.normalised()
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("recognition: manifest: encoding: %w", err)
	}
	return b, nil
}

// normalised returns a copy with times in UTC, without monotonic readings,
// and nil slices made empty so that they encode as [].
func (m *Manifest) normalised() *Manifest {
	c := *m
	c.StartedAt = c.StartedAt.UTC().Round(0)
	c.CompletedAt = c.CompletedAt.UTC().Round(0)
	c.Consents = append([]Consent{}, m.Consents...)
	c.Artefacts = append([]ArtefactRef{}, m.Artefacts...)
	c.Checks = make([]Check, len(m.Checks))
	for i, ch := range m.Checks {
		ch.At = ch.At.UTC().Round(0)
		c.Checks[i] = ch
	}
	if m.Attributes != nil {
		c.Attributes = maps.Clone(m.Attributes)
	}
	if m.Officer != nil {
		o := *m.Officer
		c.Officer = &o
	}
	if m.Applicant.Document != nil {
		d := *m.Applicant.Document
		c.Applicant.Document = &d
	}
	return &c
}

// ParseManifest decodes a canonical manifest. It refuses unknown fields,
// other versions and any encoding that is not canonical, so a manifest has
// exactly one byte representation.
func ParseManifest(b []byte) (*Manifest, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, &FieldError{Field: "manifest", Rule: "not a manifest: " + err.Error()}
	}
	if dec.More() {
		return nil, &FieldError{Field: "manifest", Rule: "trailing data"}
	}
	if m.Version != ManifestVersion {
		return nil, &FieldError{Field: "manifest.version", Rule: fmt.Sprintf("must be %d", ManifestVersion)}
	}
	again, err := m.Canonical()
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(again, b) {
		return nil, &FieldError{Field: "manifest", Rule: "not in canonical form"}
	}
	return &m, nil
}

// Artefact returns the reference of the first artefact of the given kind.
func (m *Manifest) Artefact(kind ArtefactKind) (ArtefactRef, bool) {
	i := slices.IndexFunc(m.Artefacts, func(a ArtefactRef) bool { return a.Kind == kind })
	if i < 0 {
		return ArtefactRef{}, false
	}
	return m.Artefacts[i], true
}

// Passed reports whether every recorded check passed.
func (m *Manifest) Passed() bool {
	return !slices.ContainsFunc(m.Checks, func(c Check) bool { return c.Result != Pass })
}

// Evidence is the outcome of a successful recognition: the manifest and the
// artefacts it lists, stored by their SHA-256. A verifier returns Evidence
// only when every check passed; [Sealer.Seal] turns it into a [Sealed]
// bundle.
type Evidence struct {
	Manifest  Manifest
	Artefacts map[Digest][]byte
}

// Artefact returns the bytes of the first artefact of the given kind.
func (e *Evidence) Artefact(kind ArtefactKind) ([]byte, bool) {
	ref, ok := e.Manifest.Artefact(kind)
	if !ok {
		return nil, false
	}
	b, ok := e.Artefacts[ref.SHA256]
	return b, ok
}

// recorder builds the evidence of one verification: it stores artefacts by
// hash, records every check with its result and collects the failures.
type recorder struct {
	now       func() time.Time
	manifest  Manifest
	artefacts map[Digest][]byte
	failed    []*CheckError
}

func newRecorder(now func() time.Time, method Method, s *Submission) *recorder {
	started := now()
	return &recorder{
		now: now,
		manifest: Manifest{
			Version:      ManifestVersion,
			Method:       method,
			OrderID:      s.OrderID,
			ProductID:    s.ProductID,
			Applicant:    s.Applicant,
			Operator:     s.Operator,
			Officer:      s.Officer,
			Consents:     slices.Clone(s.Consents),
			StartedAt:    started,
			Attributes:   map[string]string{},
			UsageLimited: method.Requirements().UsageLimited,
		},
		artefacts: map[Digest][]byte{},
	}
}

// add stores an artefact and lists it in the manifest; it returns its digest.
func (r *recorder) add(kind ArtefactKind, name, mediaType string, data []byte) Digest {
	d := DigestOf(data)
	if _, ok := r.artefacts[d]; !ok {
		r.artefacts[d] = bytes.Clone(data)
	}
	r.manifest.Artefacts = append(r.manifest.Artefacts, ArtefactRef{
		Kind: kind, Name: name, MediaType: mediaType, Size: len(data), SHA256: d,
	})
	return d
}

// pass records a passed check.
func (r *recorder) pass(name CheckName, subject, against, detail string) {
	r.manifest.Checks = append(r.manifest.Checks, Check{
		Name: name, Subject: subject, Against: against, Result: Pass, Detail: detail, At: r.now(),
	})
}

// fail records a failed check and keeps its error.
func (r *recorder) fail(ce *CheckError, subject, against string) {
	detail := ce.Detail
	if ce.Err != nil {
		detail += ": " + ce.Err.Error()
	}
	r.manifest.Checks = append(r.manifest.Checks, Check{
		Name: ce.Check, Subject: subject, Against: against, Result: Fail, Detail: detail, At: r.now(),
	})
	r.failed = append(r.failed, ce)
}

// record records a check from its error: nil is a pass.
func (r *recorder) record(name CheckName, subject, against, detail string, ce *CheckError) {
	if ce == nil {
		r.pass(name, subject, against, detail)
		return
	}
	r.fail(ce, subject, against)
}

// err returns a [*VerificationError] with every failed check, or nil.
func (r *recorder) err() error {
	if len(r.failed) == 0 {
		return nil
	}
	return &VerificationError{Failed: slices.Clone(r.failed)}
}

// evidence completes the manifest and returns the evidence.
func (r *recorder) evidence() Evidence {
	r.manifest.CompletedAt = r.now()
	if len(r.manifest.Attributes) == 0 {
		r.manifest.Attributes = nil
	}
	return Evidence{Manifest: *r.manifest.normalised(), Artefacts: r.artefacts}
}

func subjectOf(kind ArtefactKind, d Digest) string {
	return string(kind) + " sha256:" + d.String()
}
