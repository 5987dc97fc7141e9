package recognition

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/registra-pki/registra/internal/logattr"
)

// SPID attribute names (Regole tecniche SPID, "Attributi").
const (
	SPIDFiscalNumber = "fiscalNumber"
	SPIDName         = "name"
	SPIDFamilyName   = "familyName"
	SPIDDateOfBirth  = "dateOfBirth"
	SPIDEmail        = "email"
	SPIDMobilePhone  = "mobilePhone"
)

// spidAttributes are the attributes requested, recorded and matched.
var spidAttributes = []string{SPIDFiscalNumber, SPIDName, SPIDFamilyName, SPIDDateOfBirth, SPIDEmail, SPIDMobilePhone}

// SPIDLevelPrefix is the prefix of the SPID authentication context classes:
// SpidL1 (password), SpidL2 (two factors), SpidL3 (smart card or
// equivalent).
const SPIDLevelPrefix = "https://www.spid.gov.it/SpidL"

// DefaultSPIDLevel is the minimum level required when the configuration
// leaves it zero: two-factor authentication, the level AgID requires for
// remote identification before issuing a qualified certificate.
const DefaultSPIDLevel = 2

// UsageLimitationSPID is the usage limitation of products recognised by
// SPID (Manuale operatore, "SPID Recognition Product Request").
const UsageLimitationSPID = "not valid to request a SPID digital identity"

// Defaults of [SPIDConfig].
const (
	DefaultSAMLClockSkew       = 3 * time.Minute
	DefaultMaxSAMLResponseSize = 1 << 20
)

// SPIDConfig configures [SPID].
type SPIDConfig struct {
	// EntityID is the service provider's entity ID. Required.
	EntityID string
	// ACSURL is the absolute URL of the assertion consumer service, where
	// the identity provider posts its response. Required.
	ACSURL string
	// IdPMetadata is the XML metadata (EntityDescriptor) of the configured
	// identity provider: its entity ID, SSO endpoint and signing
	// certificates. Required.
	IdPMetadata []byte
	// Key is the service provider's RSA key: it signs authentication
	// requests and decrypts encrypted assertions. Required.
	Key *rsa.PrivateKey
	// Certificate is Key's certificate, published in the metadata.
	// Required.
	Certificate *x509.Certificate
	// Replay refuses an assertion ID accepted before. Nil means a
	// [MemoryReplayGuard] private to this SPID.
	Replay ReplayGuard
	// MinLevel is the minimum SPID level (1 to 3) requested and accepted.
	// Zero means [DefaultSPIDLevel].
	MinLevel int
	// MaxClockSkew is allowed around the assertion's validity. Zero means
	// [DefaultSAMLClockSkew].
	MaxClockSkew time.Duration
	// MaxResponseSize bounds the decoded SAML response. Zero means
	// [DefaultMaxSAMLResponseSize].
	MaxResponseSize int
	// OneShotRoots are the trust anchors of the one-shot certificates of
	// the OTP form signature. Required.
	OneShotRoots *x509.CertPool
	// Now is the clock. Nil means time.Now. github.com/crewjam/saml also
	// checks the response against the process clock.
	Now func() time.Time
	// Logger receives one line per recognition. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names each bad one.
func (c *SPIDConfig) Validate() error {
	var fe fieldErrors
	if strings.TrimSpace(c.EntityID) == "" {
		fe.add("entity_id", "is required")
	}
	if u, err := url.Parse(c.ACSURL); err != nil || !u.IsAbs() {
		fe.add("acs_url", "must be an absolute URL")
	}
	if _, err := parseIdPMetadata(c.IdPMetadata); err != nil {
		fe.add("idp_metadata", err.Error())
	}
	if c.Key == nil {
		fe.add("key", "is required")
	}
	if c.Certificate == nil {
		fe.add("certificate", "is required")
	} else if c.Key != nil && !c.Key.PublicKey.Equal(c.Certificate.PublicKey) {
		fe.add("key", "does not match the certificate")
	}
	if c.MinLevel < 0 || c.MinLevel > 3 {
		fe.add("min_level", "must be between 0 and 3")
	}
	if c.MaxClockSkew < 0 {
		fe.add("max_clock_skew", "must not be negative")
	}
	if c.MaxResponseSize < 0 {
		fe.add("max_response_size", "must not be negative")
	}
	if c.OneShotRoots == nil {
		fe.add("one_shot_roots", "is required")
	}
	return fe.err()
}

// parseIdPMetadata reads an EntityDescriptor with an IDPSSODescriptor.
func parseIdPMetadata(b []byte) (*saml.EntityDescriptor, error) {
	if len(b) == 0 {
		return nil, errors.New("is required")
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		return nil, fmt.Errorf("not SAML metadata: %v", err)
	}
	if ed.EntityID == "" || len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("has no identity provider entity")
	}
	return &ed, nil
}

// SPID verifies SPID recognitions (Manuale operatore, "SPID Identification
// Process"): the applicant logged in with SPID at the configured identity
// provider, whose signed SAML response is verified with
// github.com/crewjam/saml (signature against the metadata, issuer,
// destination, audience, request ID, time window); the assertion ID is
// refused if seen before; the attributes are matched with the applicant;
// then the applicant signs the form with an OTP. Products recognised by SPID
// are usage-limited.
type SPID struct {
	cfg    SPIDConfig
	sp     *saml.ServiceProvider
	replay ReplayGuard
	now    func() time.Time
	log    *slog.Logger
}

// NewSPID returns a SPID verifier; it copies the config.
func NewSPID(cfg SPIDConfig) (*SPID, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	idp, _ := parseIdPMetadata(cfg.IdPMetadata)
	acs, _ := url.Parse(cfg.ACSURL)
	cfg.IdPMetadata = bytes.Clone(cfg.IdPMetadata)
	if cfg.MaxClockSkew == 0 {
		cfg.MaxClockSkew = DefaultSAMLClockSkew
	}
	if cfg.MaxResponseSize == 0 {
		cfg.MaxResponseSize = DefaultMaxSAMLResponseSize
	}
	if cfg.MinLevel == 0 {
		cfg.MinLevel = DefaultSPIDLevel
	}
	sp := &saml.ServiceProvider{
		EntityID:          cfg.EntityID,
		Key:               cfg.Key,
		Certificate:       cfg.Certificate,
		AcsURL:            *acs,
		MetadataURL:       *acs,
		IDPMetadata:       idp,
		AuthnNameIDFormat: saml.TransientNameIDFormat,
		SignatureMethod:   dsig.RSASHA256SignatureMethod,
		RequestedAuthnContext: &saml.RequestedAuthnContext{
			Comparison:           "minimum",
			AuthnContextClassRef: SPIDLevelPrefix + strconv.Itoa(cfg.MinLevel),
		},
	}
	replay := cfg.Replay
	if replay == nil {
		replay = &MemoryReplayGuard{}
	}
	return &SPID{cfg: cfg, sp: sp, replay: replay, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodSPID].
func (v *SPID) Method() Method { return MethodSPID }

// Metadata returns the service provider's SAML metadata (XML), to register
// with the identity provider.
func (v *SPID) Metadata() ([]byte, error) {
	b, err := xml.MarshalIndent(v.sp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("recognition: spid: metadata: %w", err)
	}
	return b, nil
}

// LoginRequest is a signed SAML authentication request to send the applicant
// to (HTTP-Redirect binding).
type LoginRequest struct {
	ID  string // the AuthnRequest ID: keep it for Submission.SAMLRequestIDs
	URL string // the identity provider URL to redirect the applicant to
}

// NewLoginRequest builds a signed authentication request for the identity
// provider's HTTP-Redirect SSO endpoint.
func (v *SPID) NewLoginRequest(relayState string) (*LoginRequest, error) {
	dest := v.sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if dest == "" {
		return nil, errors.New("recognition: spid: identity provider has no HTTP-Redirect SSO endpoint")
	}
	req, err := v.sp.MakeAuthenticationRequest(dest, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return nil, fmt.Errorf("recognition: spid: authentication request: %w", err)
	}
	u, err := req.Redirect(relayState, v.sp)
	if err != nil {
		return nil, fmt.Errorf("recognition: spid: authentication request: %w", err)
	}
	return &LoginRequest{ID: req.ID, URL: u.String()}, nil
}

// Verify checks a SPID submission. Preconditions, in order: the common
// fields; a SAML response, the request IDs it may answer and the form
// signature are given. Then: the response verifies (crewjam/saml), the
// assertion is within its time window by the configured clock, its ID was
// not accepted before, its attributes match the applicant (tax code, given
// name, surname, and date of birth, e-mail and mobile where both sides have
// them); and the form signature's checks (see [OTPSigner]).
func (v *SPID) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	var fe fieldErrors
	validateCommon(&fe, MethodSPID, &s, 0, nil)
	raw, err := decodeSAMLResponse(s.SAMLResponse, v.cfg.MaxResponseSize)
	if err != nil {
		fe.add("saml_response", err.Error())
	}
	if len(s.SAMLRequestIDs) == 0 {
		fe.add("saml_request_ids", "is required")
	}
	validateFormSignature(&fe, s.FormSignature)
	if err := fe.err(); err != nil {
		return Evidence{}, err
	}

	now := v.now()
	r := newRecorder(v.now, MethodSPID, &s)
	d := r.add(KindSAMLResponse, "", MediaXML, raw)
	subject := subjectOf(KindSAMLResponse, d)
	if a := v.checkResponse(ctx, r, subject, raw, s.SAMLRequestIDs, now); a != nil {
		v.checkAttributes(r, subject, a, s.Applicant)
	}
	r.verifyFormSignature(ctx, s.FormSignature, s.Applicant, trustPolicy{
		Roots: v.cfg.OneShotRoots, RequireQualified: true,
		MaxSignatureAge: 24 * time.Hour, MaxClockSkew: DefaultMaxClockSkew,
	}, now)
	r.manifest.Attributes["usage_limitation"] = UsageLimitationSPID
	if err := r.err(); err != nil {
		v.log.InfoContext(ctx, "recognition refused", slog.String(logattr.OrderID, s.OrderID),
			slog.String(logattr.Method, MethodSPID.String()), slog.Any("checks", err.(*VerificationError).Checks()))
		return Evidence{}, err
	}
	ev := r.evidence()
	v.log.InfoContext(ctx, "recognition verified", slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodSPID.String()), slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
}

// decodeSAMLResponse decodes the base64 SAMLResponse form value.
func decodeSAMLResponse(b64 string, max int) ([]byte, error) {
	if b64 == "" {
		return nil, errors.New("is required")
	}
	if base64.StdEncoding.DecodedLen(len(b64)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errors.New("not base64")
	}
	return raw, nil
}

// checkResponse verifies the response and records the saml, time-window
// and replay checks. It returns the assertion when the response verified.
func (v *SPID) checkResponse(ctx context.Context, r *recorder, subject string, raw []byte, requestIDs []string, now time.Time) *saml.Assertion {
	idp := v.sp.IDPMetadata.EntityID
	a, err := v.parseResponse(raw, requestIDs)
	if err != nil {
		r.fail(&CheckError{Check: CheckSAML, Kind: ErrSignature, Detail: "response from " + idp + " refused", Err: err}, subject, idp)
		return nil
	}
	if weak := weakSignatureAlgorithms(raw, a); len(weak) > 0 {
		r.fail(&CheckError{Check: CheckSAML, Kind: ErrSignature,
			Detail: "signed with SHA-1, which SPID does not accept: " + strings.Join(weak, ", ")}, subject, idp)
		return nil
	}
	r.pass(CheckSAML, subject, idp, "signature (SHA-256 or stronger), issuer, destination, audience, request ID")
	var ce *CheckError
	skew := v.cfg.MaxClockSkew
	switch {
	case a.Conditions == nil || a.Conditions.NotOnOrAfter.IsZero():
		ce = &CheckError{Check: CheckSAML, Kind: ErrValidity, Detail: "assertion has no validity window"}
	case now.Add(skew).Before(a.Conditions.NotBefore) || !now.Add(-skew).Before(a.Conditions.NotOnOrAfter):
		ce = &CheckError{Check: CheckSAML, Kind: ErrValidity,
			Detail: fmt.Sprintf("assertion valid %s to %s, now %s", stamp(a.Conditions.NotBefore), stamp(a.Conditions.NotOnOrAfter), stamp(now))}
	}
	r.record(CheckSAML, subject, stamp(now), "time window", ce)
	if ce != nil {
		return nil
	}
	fresh, err := v.replay.Claim(ctx, "saml:"+idp+":"+a.ID, now, a.Conditions.NotOnOrAfter.Add(skew))
	switch {
	case err != nil:
		r.fail(&CheckError{Check: CheckReplay, Kind: ErrReplay, Detail: "replay guard unavailable", Err: err}, subject, "")
		return nil
	case !fresh:
		r.fail(&CheckError{Check: CheckReplay, Kind: ErrReplay, Detail: "assertion " + a.ID + " already accepted"}, subject, "")
		return nil
	}
	r.pass(CheckReplay, subject, "assertion "+a.ID, "")
	level, class := spidLevel(a)
	ce = nil
	if level < v.cfg.MinLevel {
		ce = &CheckError{Check: CheckSAML, Kind: ErrAssurance,
			Detail: fmt.Sprintf("authentication context %q is below SpidL%d", class, v.cfg.MinLevel)}
	}
	r.record(CheckSAML, subject, fmt.Sprintf("SpidL%d or higher", v.cfg.MinLevel), "authentication level", ce)
	if ce != nil {
		return nil
	}
	r.manifest.Attributes["spid_level"] = class
	r.manifest.Attributes["spid_idp"] = idp
	r.manifest.Attributes["spid_assertion_id"] = a.ID
	return a
}

// parseResponse runs crewjam/saml's verification; its error hides the
// reason behind a fixed message, so the private reason is kept.
func (v *SPID) parseResponse(raw []byte, requestIDs []string) (a *saml.Assertion, err error) {
	defer func() {
		if p := recover(); p != nil {
			a, err = nil, fmt.Errorf("malformed response: %v", p)
		}
	}()
	a, err = v.sp.ParseXMLResponse(raw, requestIDs, v.sp.AcsURL)
	if ire, ok := errors.AsType[*saml.InvalidResponseError](err); ok && ire.PrivateErr != nil {
		return nil, ire.PrivateErr
	}
	return a, err
}

// assertionAttributes returns the first value of each attribute by name.
func assertionAttributes(a *saml.Assertion) map[string]string {
	out := map[string]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if _, dup := out[at.Name]; dup || len(at.Values) == 0 {
				continue
			}
			out[at.Name] = strings.TrimSpace(at.Values[0].Value)
		}
	}
	return out
}

// checkAttributes maps the SPID attributes onto the applicant and records
// each mismatch.
func (v *SPID) checkAttributes(r *recorder, subject string, a *saml.Assertion, ap Applicant) {
	attrs := assertionAttributes(a)
	for _, name := range spidAttributes {
		if val, ok := attrs[name]; ok {
			r.manifest.Attributes["spid_"+name] = val
		}
	}
	var mismatches []string
	if !sameTaxCode(attrs[SPIDFiscalNumber], ap.TaxCode) {
		mismatches = append(mismatches, fmt.Sprintf("fiscalNumber %q is not TINIT-%s", attrs[SPIDFiscalNumber], ap.TaxCode))
	}
	if !sameName(attrs[SPIDName], ap.GivenName) {
		mismatches = append(mismatches, fmt.Sprintf("name %q is not %q", attrs[SPIDName], ap.GivenName))
	}
	if !sameName(attrs[SPIDFamilyName], ap.Surname) {
		mismatches = append(mismatches, fmt.Sprintf("familyName %q is not %q", attrs[SPIDFamilyName], ap.Surname))
	}
	if got, ok := attrs[SPIDDateOfBirth]; ok && ap.DateOfBirth != "" && got != ap.DateOfBirth {
		mismatches = append(mismatches, fmt.Sprintf("dateOfBirth %q is not %q", got, ap.DateOfBirth))
	}
	if got, ok := attrs[SPIDEmail]; ok && ap.Email != "" && !strings.EqualFold(got, ap.Email) {
		mismatches = append(mismatches, fmt.Sprintf("email %q is not %q", got, ap.Email))
	}
	if got, ok := attrs[SPIDMobilePhone]; ok && ap.Mobile != "" && !sameMobile(got, ap.Mobile) {
		mismatches = append(mismatches, fmt.Sprintf("mobilePhone %q is not %q", got, ap.Mobile))
	}
	var ce *CheckError
	if len(mismatches) > 0 {
		ce = &CheckError{Check: CheckAttributes, Kind: ErrIdentityMismatch, Detail: strings.Join(mismatches, "; ")}
	}
	r.record(CheckAttributes, subject, "applicant", strings.Join(spidAttributes, ", "), ce)
}

// sameMobile compares phone numbers by their digits, treating a number
// without country code as Italian (+39), as SPID providers send both forms.
func sameMobile(a, b string) bool {
	norm := func(s string) string {
		var d strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				d.WriteRune(r)
			}
		}
		n := strings.TrimPrefix(d.String(), "00")
		if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "00") {
			n = "39" + n
		}
		return n
	}
	return norm(a) != "" && norm(a) == norm(b)
}

// weakSignatureAlgorithms returns the SHA-1 signature and digest algorithms
// used by the XML signatures of the response and of its (possibly
// decrypted) assertion: SPID requires SHA-256 or stronger (Regole tecniche
// SPID, "Firma delle asserzioni"). The digests inside an encrypted key
// (RSA-OAEP) are not signature digests and are not looked at.
func weakSignatureAlgorithms(raw []byte, a *saml.Assertion) []string {
	var sigs []*etree.Element
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err == nil {
		sigs = append(sigs, doc.FindElements("//Signature")...)
	}
	if a.Signature != nil {
		sigs = append(sigs, a.Signature)
	}
	var weak []string
	for _, sig := range sigs {
		els := sig.FindElements("./SignedInfo/SignatureMethod")
		els = append(els, sig.FindElements("./SignedInfo/Reference/DigestMethod")...)
		for _, el := range els {
			alg := el.SelectAttrValue("Algorithm", "")
			if strings.HasSuffix(alg, "sha1") && !slices.Contains(weak, alg) {
				weak = append(weak, alg)
			}
		}
	}
	return weak
}

// spidLevel returns the SPID level of the assertion's authentication
// context (0 when it is not a SPID level) and the class reference.
func spidLevel(a *saml.Assertion) (int, string) {
	for _, st := range a.AuthnStatements {
		if st.AuthnContext.AuthnContextClassRef == nil {
			continue
		}
		class := strings.TrimSpace(st.AuthnContext.AuthnContextClassRef.Value)
		if n, ok := strings.CutPrefix(class, SPIDLevelPrefix); ok {
			if l, err := strconv.Atoi(n); err == nil && l >= 1 && l <= 3 {
				return l, class
			}
		}
		return 0, class
	}
	return 0, ""
}
