package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	casapi "github.com/smallstep/certificates/cas/apiv1"
	"github.com/smallstep/certificates/cas/softcas"
	"go.step.sm/crypto/x509util"

	"github.com/registra-pki/registra/internal/logattr"
)

// Config configures an [Issuer].
type Config struct {
	// Hierarchy holds the issuing CA certificate and key. Required.
	Hierarchy *Hierarchy
	// PolicyOID is the CA's certificate policy, added by profiles with
	// CAPolicy (ETSI EN 319 412-2 §4.3.3). Required.
	PolicyOID asn1.ObjectIdentifier
	// CPSURL is the certification practice statement URI qualifying
	// PolicyOID (RFC 5280 §4.2.1.4). Empty means none.
	CPSURL string
	// PDS lists the PKI Disclosure Statements of qualified certificates:
	// https URLs with a two-letter lower-case language (ETSI EN 319 412-5
	// §4.3.4). At least one, in English, is required.
	PDS []PDSLocation
	// RetentionYears is the QcRetentionPeriod of qualified certificates
	// (ETSI EN 319 412-5 §4.3.3). Zero means 20 years, the Italian rule
	// (CAD art. 32, DPCM 22 febbraio 2013).
	RetentionYears int
	// CRLURL is the CRL distribution point of holder certificates (RFC
	// 5280 §4.2.1.13). Required.
	CRLURL string
	// OCSPURL is the OCSP responder URL in the AIA (RFC 5280 §4.2.2.1).
	// Required.
	OCSPURL string
	// CAIssuersURL is where the issuing CA certificate is published, in
	// the AIA. Required.
	CAIssuersURL string
	// Linter lints every certificate and CRL before it is signed. Nil
	// means a new [NewLinter]; share one between issuers.
	Linter *Linter
	// Rand is the source of serial numbers. Nil means crypto/rand. Tests
	// that need deterministic serials set it.
	Rand io.Reader
	// Now returns the current time, the start of every validity period.
	// Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per issued certificate. Nil means no
	// logging.
	Logger *slog.Logger
}

// Validate checks every field and names each bad one in a [*FieldError];
// several are joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Hierarchy == nil {
		errs = append(errs, fieldErr("Config.Hierarchy", "required"))
	}
	if len(c.PolicyOID) < 2 {
		errs = append(errs, fieldErr("Config.PolicyOID", "required"))
	}
	if c.CPSURL != "" && !isHTTPURL(c.CPSURL) {
		errs = append(errs, fieldErr("Config.CPSURL", "must be an absolute http or https URL"))
	}
	english := false
	for i, p := range c.PDS {
		if !isHTTPURL(p.URL) || p.URL[:6] != "https:" {
			errs = append(errs, fieldErr(fmt.Sprintf("Config.PDS[%d].URL", i), "must be an https URL (ETSI EN 319 412-5 §4.3.4)"))
		}
		if len(p.Language) != 2 || p.Language[0] < 'a' || p.Language[0] > 'z' || p.Language[1] < 'a' || p.Language[1] > 'z' {
			errs = append(errs, fieldErr(fmt.Sprintf("Config.PDS[%d].Language", i), "must be a two-letter lower-case ISO 639-1 code"))
		}
		english = english || p.Language == "en"
	}
	if !english {
		errs = append(errs, fieldErr("Config.PDS", "needs a statement in English (ETSI EN 319 412-5 §4.3.4)"))
	}
	if c.RetentionYears < 0 {
		errs = append(errs, fieldErr("Config.RetentionYears", "must not be negative"))
	}
	for name, u := range map[string]string{"CRLURL": c.CRLURL, "OCSPURL": c.OCSPURL, "CAIssuersURL": c.CAIssuersURL} {
		if !isHTTPURL(u) {
			errs = append(errs, fieldErr("Config."+name, "must be an absolute http or https URL"))
		}
	}
	return errors.Join(errs...)
}

// Issuer builds, lints and signs certificates and CRLs with the issuing CA
// of a [Hierarchy]. It is safe for concurrent use.
type Issuer struct {
	cfg    Config
	h      *Hierarchy
	linter *Linter
	tw     *throwaway
	cas    *softcas.SoftCAS
	now    func() time.Time
	rand   io.Reader
	log    *slog.Logger
	org    string
	ctry   string
	exts   sync.Map // extensionKey -> []x509util.Extension
	// skeletons holds each profile's TBS skeleton (tbsshape.go).
	skeletons sync.Map // skeletonKey -> *tbsSkeleton
}

// compile-time check: the issuer generates CRLs through softcas.
var _ casapi.CertificateAuthorityCRLGenerator = (*softcas.SoftCAS)(nil)

// NewIssuer checks cfg and returns an issuer. It copies cfg.
func NewIssuer(cfg Config) (*Issuer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.RetentionYears == 0 {
		cfg.RetentionYears = 20
	}
	cfg.PDS = append([]PDSLocation(nil), cfg.PDS...)
	linter := cfg.Linter
	if linter == nil {
		var err error
		if linter, err = NewLinter(); err != nil {
			return nil, err
		}
	}
	tw, err := newThrowaway(cfg.Hierarchy.alg)
	if err != nil {
		return nil, err
	}
	cas, err := softcas.New(context.Background(), casapi.Options{
		CertificateChain: cfg.Hierarchy.Chain(),
		Signer:           cfg.Hierarchy.issKey,
	})
	if err != nil {
		return nil, fmt.Errorf("ca: creating softcas: %w", err)
	}
	i := &Issuer{cfg: cfg, h: cfg.Hierarchy, linter: linter, tw: tw, cas: cas, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger}
	if i.now == nil {
		i.now = time.Now
	}
	if i.rand == nil {
		i.rand = rand.Reader
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	iss := cfg.Hierarchy.issuing.Subject
	if len(iss.Organization) > 0 {
		i.org = iss.Organization[0]
	}
	i.ctry = "IT"
	if len(iss.Country) > 0 {
		i.ctry = iss.Country[0]
	}
	return i, nil
}

// Hierarchy returns the hierarchy the issuer signs with.
func (i *Issuer) Hierarchy() *Hierarchy { return i.h }

// Linter returns the issuer's linter.
func (i *Issuer) Linter() *Linter { return i.linter }

// Ticket is a prepared certificate: validated, built, linted, with its serial
// reserved. It is bound to the issuer that prepared it and can be signed
// once. Store its serial and TBS durably before calling [Issuer.Sign], so
// that a crash never leaves a signed certificate nobody knows about (the
// Boulder issuance token, DESIGN.md "Two-phase issuance").
type Ticket struct {
	// Profile is the name of the profile.
	Profile string
	// SerialNumber is the certificate's serial number.
	SerialNumber *big.Int
	// NotBefore and NotAfter bound the validity.
	NotBefore, NotAfter time.Time
	// Subject is the subject name.
	Subject string
	// TBS is the DER TBSCertificate the issuing key will sign.
	TBS []byte
	// LintCertificate is the same TBS signed by a throwaway key, as
	// linted. It is not a valid certificate: never publish it.
	LintCertificate []byte

	issuer   *Issuer
	template *x509.Certificate
	tbs      []byte // private copy of TBS: changing the exported field changes nothing
	used     atomic.Bool
}

// Issued is a signed certificate with its chain.
type Issued struct {
	// Certificate is the new certificate.
	Certificate *x509.Certificate
	// Chain is the issuing CA certificate followed by the root.
	Chain []*x509.Certificate
	// Profile is the name of the profile.
	Profile string
}

// PEM returns the certificate followed by its chain, PEM-encoded.
func (is *Issued) PEM() []byte {
	var b bytes.Buffer
	for _, c := range append([]*x509.Certificate{is.Certificate}, is.Chain...) {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}) // writes to a buffer cannot fail
	}
	return b.Bytes()
}

// Prepare validates req, builds the certificate from its profile, reserves a
// random serial (127 bits), and lints a throwaway-key signature of the exact
// TBS the issuing key will sign. Checks, in order: the profile; the key (CSR
// signature and key policy, or the public key's policy); the holder or
// service data; the validity (within the profile's bounds and not past the
// issuing CA's notAfter); then the lints. Bad input returns a [*FieldError]
// (wrapping [ErrInvalidInput]), a lint failure a [*LintError] (wrapping
// [ErrLint]); neither changes anything.
func (i *Issuer) Prepare(ctx context.Context, req Request) (*Ticket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := i.input(&req)
	if err != nil {
		return nil, err
	}
	p := in.profile
	tmpl, tbs, subject, err := i.buildTBS(in)
	if err != nil {
		return nil, err
	}
	lintDER, err := i.tw.wrap(tbs, tmpl.SignatureAlgorithm, false)
	if err != nil {
		return nil, err
	}
	if err := i.linter.CheckCertificate(lintDER, "certificate "+p.Name); err != nil {
		return nil, err
	}
	return &Ticket{
		Profile:         p.Name,
		SerialNumber:    in.serial,
		NotBefore:       in.notBefore,
		NotAfter:        in.notAfter,
		Subject:         subject,
		TBS:             tbs,
		LintCertificate: lintDER,
		issuer:          i,
		template:        tmpl,
		tbs:             bytes.Clone(tbs),
	}, nil
}

// input checks req (profile, key, holder or service data, validity) and
// returns what its certificate is built from, with a new random serial.
func (i *Issuer) input(req *Request) (templateInput, error) {
	p := req.Profile
	if err := p.validate(); err != nil {
		return templateInput{}, err
	}
	pub, err := requestKey(req)
	if err != nil {
		return templateInput{}, err
	}
	subject, err := subjectFor(req, i.org, i.ctry)
	if err != nil {
		return templateInput{}, err
	}
	if p.DNSNames {
		if len(req.DNSNames) == 0 {
			return templateInput{}, fieldErr("DNSNames", "the profile needs at least one DNS name")
		}
		for _, n := range req.DNSNames {
			if !isDNSName(n) {
				return templateInput{}, fieldErr("DNSNames", fmt.Sprintf("%q is not a DNS host name", n))
			}
		}
	} else if len(req.DNSNames) > 0 {
		return templateInput{}, fieldErr("DNSNames", "the profile takes no DNS names")
	}
	validity := req.Validity
	if validity == 0 {
		validity = p.DefaultValidity
	}
	if validity < p.MinValidity || validity > p.MaxValidity {
		return templateInput{}, fieldErr("Validity", fmt.Sprintf("must be between %v and %v for profile %s", p.MinValidity, p.MaxValidity, p.Name))
	}
	notBefore := i.now().UTC().Truncate(time.Second)
	notAfter := notBefore.Add(validity)
	if notAfter.After(i.h.issuing.NotAfter) {
		return templateInput{}, fieldErr("Validity", fmt.Sprintf("would end on %s, after the issuing CA certificate (%s)",
			notAfter.Format(time.RFC3339), i.h.issuing.NotAfter.UTC().Format(time.RFC3339)))
	}
	if notBefore.Before(i.h.issuing.NotBefore) {
		return templateInput{}, fieldErr("Validity", "would start before the issuing CA certificate")
	}
	serial, err := randomSerial(i.rand)
	if err != nil {
		return templateInput{}, err
	}
	in := templateInput{
		profile:        p,
		subject:        subject,
		publicKey:      pub,
		serial:         serial,
		notBefore:      notBefore,
		notAfter:       notAfter,
		sigAlg:         i.h.alg.signatureAlgorithm(),
		dnsNames:       req.DNSNames,
		policyOID:      i.cfg.PolicyOID,
		cpsURL:         i.cfg.CPSURL,
		pds:            i.cfg.PDS,
		retentionYears: i.cfg.RetentionYears,
		crlURL:         i.cfg.CRLURL,
		ocspURL:        i.cfg.OCSPURL,
		caIssuers:      i.cfg.CAIssuersURL,
	}
	return in, nil
}

// buildTBS returns the template Sign hands to softcas, the TBS the issuing
// key will sign and the subject as a string: from the profile's skeleton
// when the issuer has one, otherwise the long way (tbsshape.go).
func (i *Issuer) buildTBS(in templateInput) (*x509.Certificate, []byte, string, error) {
	if sk := i.skeleton(in.profile); sk != nil {
		tmpl, tbs, subject, err := sk.build(in)
		if err != nil {
			return nil, nil, "", fmt.Errorf("ca: building %s certificate: %w", in.profile.Name, err)
		}
		return tmpl, tbs, subject, nil
	}
	tmpl, tbs, err := i.buildTBSLong(in)
	if err != nil {
		return nil, nil, "", err
	}
	i.learn(in.profile, tmpl, tbs, in)
	return tmpl, tbs, tmpl.Subject.String(), nil
}

// buildTBSLong renders the x509util template and lets
// x509.CreateCertificate marshal the TBS.
func (i *Issuer) buildTBSLong(in templateInput) (*x509.Certificate, []byte, error) {
	var err error
	if in.extensions, err = i.profileExtensions(in); err != nil {
		return nil, nil, err
	}
	tmpl, err := buildTemplate(in)
	if err != nil {
		return nil, nil, err
	}
	tbs, err := captureTBS(tmpl, i.h.issuing, in.publicKey, i.h.issKey.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("ca: building %s certificate: %w", in.profile.Name, err)
	}
	return tmpl, tbs, nil
}

// profileExtensions returns the profile's constant extensions, encoded once
// per issuer and profile shape.
func (i *Issuer) profileExtensions(in templateInput) ([]x509util.Extension, error) {
	k := in.profile.extensionKey()
	if v, ok := i.exts.Load(k); ok {
		return v.([]x509util.Extension), nil
	}
	exts, err := profileExtensions(in)
	if err != nil {
		return nil, err
	}
	i.exts.Store(k, exts)
	return exts, nil
}

// Sign signs a ticket from [Issuer.Prepare] with the issuing CA key, through
// smallstep's softcas, and checks that the certificate carries exactly the
// linted TBS. A ticket is signed at most once: a second call, or a ticket of
// another issuer, fails with [ErrTicket]. A failed Sign also uses the
// ticket up; prepare a new one (with a new serial) to try again.
func (i *Issuer) Sign(ctx context.Context, t *Ticket) (*Issued, error) {
	if t == nil || t.issuer != i {
		return nil, fmt.Errorf("%w: prepared by another issuer", ErrTicket)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !t.used.CompareAndSwap(false, true) {
		return nil, fmt.Errorf("%w: already signed", ErrTicket)
	}
	// The ticket is used up above, so softcas may write into its template
	// (it sets Issuer) without a copy.
	tmpl := t.template
	resp, err := i.cas.CreateCertificate(&casapi.CreateCertificateRequest{
		Template: tmpl,
		Lifetime: tmpl.NotAfter.Sub(tmpl.NotBefore),
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigning, err)
	}
	if !bytes.Equal(resp.Certificate.RawTBSCertificate, t.tbs) {
		return nil, fmt.Errorf("%w: signed certificate differs from the linted one", ErrSigning)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if i.log.Enabled(ctx, slog.LevelInfo) {
		i.log.InfoContext(ctx, "ca: certificate issued",
			slog.String(logattr.Serial, t.SerialNumber.Text(16)),
			slog.String(logattr.Profile, t.Profile),
			slog.String(logattr.Issuer, i.h.issuing.Subject.CommonName))
	}
	return &Issued{Certificate: resp.Certificate, Chain: i.h.Chain(), Profile: t.Profile}, nil
}

// Issue runs [Issuer.Prepare] and [Issuer.Sign]: the simple path for
// callers that keep no intent record (examples, tests, the hierarchy's own
// certificates).
func (i *Issuer) Issue(ctx context.Context, req Request) (*Issued, error) {
	t, err := i.Prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	return i.Sign(ctx, t)
}

// PairRequest asks for the two certificates of an on-device product in one
// operation: the qualified signature certificate and the authentication
// certificate, for the same holder (partner manual: "1 operation for 2
// certificates").
type PairRequest struct {
	// Signature is the signature certificate request; zero Profile means
	// [QualifiedNaturalPerson].
	Signature Request
	// Authentication is the authentication certificate request; zero
	// Profile means [Authentication]. Zero Holder means Signature's.
	Authentication Request
}

// Pair holds the two certificates of an on-device product.
type Pair struct {
	// Signature is the qualified signature certificate.
	Signature *Issued
	// Authentication is the authentication certificate.
	Authentication *Issued
}

// PreparePair prepares both certificates of a pair. Both requests are
// checked and linted before anything is returned; bad input in either
// returns an error and no ticket.
func (i *Issuer) PreparePair(ctx context.Context, req PairRequest) (sig, auth *Ticket, err error) {
	if req.Signature.Profile.Name == "" {
		req.Signature.Profile = QualifiedNaturalPerson
	}
	if req.Authentication.Profile.Name == "" {
		req.Authentication.Profile = Authentication
	}
	if req.Authentication.Holder == (Holder{}) {
		req.Authentication.Holder = req.Signature.Holder
	}
	if !strings.EqualFold(strings.TrimSpace(req.Authentication.Holder.TaxCode), strings.TrimSpace(req.Signature.Holder.TaxCode)) {
		return nil, nil, fieldErr("Authentication.Holder.TaxCode", "must be the signature certificate holder's")
	}
	sig, err = i.Prepare(ctx, req.Signature)
	if err != nil {
		return nil, nil, prefixField("Signature.", err)
	}
	auth, err = i.Prepare(ctx, req.Authentication)
	if err != nil {
		return nil, nil, prefixField("Authentication.", err)
	}
	return sig, auth, nil
}

// IssuePair prepares and signs both certificates of an on-device product.
func (i *Issuer) IssuePair(ctx context.Context, req PairRequest) (*Pair, error) {
	st, at, err := i.PreparePair(ctx, req)
	if err != nil {
		return nil, err
	}
	sig, err := i.Sign(ctx, st)
	if err != nil {
		return nil, err
	}
	auth, err := i.Sign(ctx, at)
	if err != nil {
		return nil, err
	}
	return &Pair{Signature: sig, Authentication: auth}, nil
}

func prefixField(prefix string, err error) error {
	if fe, ok := errors.AsType[*FieldError](err); ok {
		c := *fe
		c.Field = prefix + c.Field
		return &c
	}
	return err
}

// SignCRL lints and signs a CRL with the issuing CA, through softcas's
// CertificateAuthorityCRLGenerator. The template is not modified; Number,
// ThisUpdate and NextUpdate must be set by the caller. The CRL is linted
// (RFC 5280 and community CRL lints) under a throwaway signature of the same
// TBSCertList first; a lint failure returns a [*LintError].
func (i *Issuer) SignCRL(ctx context.Context, tmpl *x509.RevocationList) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if tmpl == nil {
		return nil, fieldErr("RevocationList", "required")
	}
	if tmpl.Number == nil {
		return nil, fieldErr("RevocationList.Number", "required (RFC 5280 §5.2.3)")
	}
	if tmpl.ThisUpdate.IsZero() || !tmpl.NextUpdate.After(tmpl.ThisUpdate) {
		return nil, fieldErr("RevocationList.NextUpdate", "ThisUpdate must be set and NextUpdate after it (RFC 5280 §5.1.2.5)")
	}
	rl := *tmpl
	rl.SignatureAlgorithm = i.h.alg.signatureAlgorithm()
	c := &tbsCapture{pub: i.h.issKey.Public()}
	_, err := x509.CreateRevocationList(rand.Reader, &rl, i.h.issuing, c)
	if !errors.Is(err, errTBSCaptured) {
		if err == nil {
			err = errors.New("signed by the capturing signer")
		}
		return nil, &FieldError{Field: "RevocationList", Rule: "cannot be encoded", Err: err}
	}
	lintDER, err := i.tw.wrap(c.tbs, rl.SignatureAlgorithm, true)
	if err != nil {
		return nil, err
	}
	if err := i.linter.CheckRevocationList(lintDER); err != nil {
		return nil, err
	}
	resp, err := i.cas.CreateCRL(&casapi.CreateCRLRequest{RevocationList: &rl})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigning, err)
	}
	signed, err := x509.ParseRevocationList(resp.CRL)
	if err != nil {
		return nil, fmt.Errorf("%w: parsing signed crl: %w", ErrSigning, err)
	}
	if !bytes.Equal(signed.RawTBSRevocationList, c.tbs) {
		return nil, fmt.Errorf("%w: signed crl differs from the linted one", ErrSigning)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return resp.CRL, nil
}

func isDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range bytes.Split([]byte(s), []byte(".")) {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 'A' && c <= 'Z') {
				return false
			}
		}
	}
	return true
}

// Signer returns the issuing CA key as a crypto.Signer, for the CRL and OCSP
// code that signs outside this package.
func (i *Issuer) Signer() crypto.Signer { return i.h.issKey }
