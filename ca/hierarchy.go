package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"

	kmsapi "go.step.sm/crypto/kms/apiv1"
	"go.step.sm/crypto/x509util"

	"github.com/registra-pki/registra/internal/atomicfile"
	"github.com/registra-pki/registra/internal/logattr"
)

// ManifestFile is the name of the manifest in a hierarchy's data directory.
const ManifestFile = "hierarchy.json"

// manifestFormat identifies registra's manifest; a file without it is
// foreign.
const manifestFormat = "registra-ca-hierarchy"

// The certificate files written to the data directory.
const (
	RootFile    = "root.pem"
	IssuingFile = "issuing.pem"
	OCSPFile    = "ocsp.pem"
)

// KeyNames are the names handed to the key manager's CreateKey for the three
// hierarchy keys, e.g. RFC 7512 pkcs11: URIs with id and object for
// adapters/hsm. They are used only when [HierarchyConfig.KeyManager] is set.
type KeyNames struct {
	// Root names the root CA key.
	Root string
	// Issuing names the issuing CA key.
	Issuing string
	// OCSP names the OCSP signer key.
	OCSP string
}

// HierarchyConfig configures [OpenHierarchy].
type HierarchyConfig struct {
	// Dir is the data directory holding the manifest, the certificates and
	// the software keys. Required. It is created (mode 0700) if missing.
	Dir string
	// KeyManager holds the keys. Nil means software keys, generated with
	// softkms and stored as PKCS #8 PEM files, mode 0600, under Dir/keys.
	// With a key manager that keeps its keys (an HSM), only the key names
	// it returns are recorded and the keys are reopened with CreateSigner;
	// one that returns the private key is treated like the software
	// default. The caller keeps ownership: the hierarchy never closes it.
	KeyManager kmsapi.KeyManager
	// KeyNames names the keys in KeyManager; all three are required when
	// KeyManager is set, ignored otherwise.
	KeyNames KeyNames
	// KeyPassword, when set, encrypts software keys (PBES2, AES-256-CBC)
	// and is needed to reopen them. Nil means unencrypted files, protected
	// only by their 0600 mode.
	KeyPassword Password
	// KeyAlgorithm is the algorithm of the three keys. Zero means
	// [ECDSAP256] for a new hierarchy and "whatever the manifest says" for
	// an existing one; a non-zero value must match an existing manifest.
	KeyAlgorithm KeyAlgorithm
	// Organization is the O of the CA certificates. Required for a new
	// hierarchy.
	Organization string
	// OrganizationIdentifier is the organizationIdentifier of the CA
	// certificates (e.g. "VATIT-01234567890", ETSI EN 319 412-1 §5.1.4).
	// Empty means none.
	OrganizationIdentifier string
	// Country is the C of the CA certificates. Zero means "IT".
	Country string
	// RootCommonName, IssuingCommonName and OCSPCommonName are the CNs of
	// the three certificates. Zero means Organization followed by " Root
	// CA", " Qualified CA" and " OCSP Responder".
	RootCommonName, IssuingCommonName, OCSPCommonName string
	// RootValidity, IssuingValidity and OCSPValidity are the lifetimes of
	// the three certificates. Zero means 20 years, 10 years and 1 year. The
	// issuing CA never outlives the root, nor the OCSP signer the issuing
	// CA.
	RootValidity, IssuingValidity, OCSPValidity time.Duration
	// RootCRLURL is the CRL distribution point of the issuing CA
	// certificate (the root's CRL). Empty means none.
	RootCRLURL string
	// RootCertURL is the caIssuers URL of the issuing CA certificate.
	// Empty means none.
	RootCertURL string
	// IssuingCertURL is the caIssuers URL of the OCSP signer certificate.
	// Empty means none.
	IssuingCertURL string
	// Linter lints the three certificates before they are signed. Nil
	// means a new [NewLinter].
	Linter *Linter
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per created or opened hierarchy. Nil means
	// no logging.
	Logger *slog.Logger
}

// Validate checks the fields that do not depend on the directory's
// contents. Each problem is a [*FieldError]; several are joined.
func (c *HierarchyConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, fieldErr("HierarchyConfig.Dir", "must not be empty"))
	}
	if c.KeyManager != nil && (c.KeyNames.Root == "" || c.KeyNames.Issuing == "" || c.KeyNames.OCSP == "") {
		errs = append(errs, fieldErr("HierarchyConfig.KeyNames", "all three names are required with a KeyManager"))
	}
	if c.KeyManager != nil {
		n := []string{c.KeyNames.Root, c.KeyNames.Issuing, c.KeyNames.OCSP}
		slices.Sort(n)
		if len(slices.Compact(n)) != 3 {
			errs = append(errs, fieldErr("HierarchyConfig.KeyNames", "the three names must differ"))
		}
	}
	if c.KeyAlgorithm != 0 && !c.KeyAlgorithm.valid() {
		errs = append(errs, fieldErr("HierarchyConfig.KeyAlgorithm", "unknown algorithm"))
	}
	if c.Country != "" && !isCountryCode(c.Country) {
		errs = append(errs, fieldErr("HierarchyConfig.Country", "must be two upper-case letters (ISO 3166-1 alpha-2)"))
	}
	if c.RootValidity < 0 || c.IssuingValidity < 0 || c.OCSPValidity < 0 {
		errs = append(errs, fieldErr("HierarchyConfig.RootValidity", "validities must not be negative"))
	}
	for name, u := range map[string]string{"RootCRLURL": c.RootCRLURL, "RootCertURL": c.RootCertURL, "IssuingCertURL": c.IssuingCertURL} {
		if u != "" && !isHTTPURL(u) {
			errs = append(errs, fieldErr("HierarchyConfig."+name, "must be an absolute http or https URL"))
		}
	}
	return errors.Join(errs...)
}

// Hierarchy is a CA hierarchy: a root CA, an issuing CA that signs holder
// certificates and CRLs, and a delegated OCSP signer, with their keys. It is
// safe for concurrent use; it never changes after [OpenHierarchy].
type Hierarchy struct {
	dir     string
	alg     KeyAlgorithm
	root    *x509.Certificate
	issuing *x509.Certificate
	ocsp    *x509.Certificate
	rootKey crypto.Signer
	issKey  crypto.Signer
	ocspKey crypto.Signer
	refs    [3]KeyRef
}

// Dir returns the data directory.
func (h *Hierarchy) Dir() string { return h.dir }

// KeyAlgorithm returns the algorithm of the hierarchy's keys.
func (h *Hierarchy) KeyAlgorithm() KeyAlgorithm { return h.alg }

// Root returns the self-signed root CA certificate.
func (h *Hierarchy) Root() *x509.Certificate { return h.root }

// RootSigner returns the root CA's key, used only to certify issuing CAs and
// sign the root's CRL.
func (h *Hierarchy) RootSigner() crypto.Signer { return h.rootKey }

// Issuing returns the issuing CA certificate, which signs holder
// certificates and CRLs.
func (h *Hierarchy) Issuing() *x509.Certificate { return h.issuing }

// IssuingSigner returns the issuing CA's key.
func (h *Hierarchy) IssuingSigner() crypto.Signer { return h.issKey }

// OCSP returns the delegated OCSP signer certificate, issued by the issuing
// CA.
func (h *Hierarchy) OCSP() *x509.Certificate { return h.ocsp }

// OCSPSigner returns the OCSP signer's key.
func (h *Hierarchy) OCSPSigner() crypto.Signer { return h.ocspKey }

// Chain returns the issuing CA certificate followed by the root, the chain
// that accompanies every holder certificate.
func (h *Hierarchy) Chain() []*x509.Certificate {
	return []*x509.Certificate{h.issuing, h.root}
}

// KeyRefs returns where the root, issuing and OCSP keys live, in that order.
func (h *Hierarchy) KeyRefs() [3]KeyRef { return h.refs }

// manifest is the JSON file recording a hierarchy.
type manifest struct {
	Format       string        `json:"format"`
	Version      int           `json:"version"`
	KeyAlgorithm string        `json:"keyAlgorithm"`
	Created      time.Time     `json:"created"`
	Root         manifestEntry `json:"root"`
	Issuing      manifestEntry `json:"issuing"`
	OCSP         manifestEntry `json:"ocsp"`
}

type manifestEntry struct {
	Certificate string `json:"certificate"`
	SHA256      string `json:"sha256"`
	Key         KeyRef `json:"key"`
}

// OpenHierarchy opens the hierarchy recorded in cfg.Dir, or creates one if
// the directory holds no manifest.
//
// Creating makes the three keys (through the key manager or in software),
// builds, lints and signs the three certificates, writes them as PEM files
// and then, last, the manifest: a crash before that leaves no manifest, and
// the next call starts again. Software keys are then simply overwritten;
// keys that a failed attempt left in an HSM are not reused, and a key
// manager that refuses to create a key under an existing name needs new
// [KeyNames] (or the old objects deleted).
//
// Opening reads the manifest and checks, in order: that it is registra's
// (format and version), the key algorithm, each certificate file against its
// recorded SHA-256, the chain (issuing signed by root, OCSP signer by
// issuing), and that each key matches its certificate. Any failure is a
// [*HierarchyError] (wrapping [ErrHierarchy]) and the directory is left
// untouched.
func OpenHierarchy(ctx context.Context, cfg HierarchyConfig) (*Hierarchy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ks := newKeyStore(cfg.Dir, cfg.KeyManager, cfg.KeyPassword)
	raw, err := os.ReadFile(filepath.Join(cfg.Dir, ManifestFile))
	switch {
	case err == nil:
		h, err := openExisting(cfg, ks, raw)
		if err != nil {
			return nil, err
		}
		log.InfoContext(ctx, "ca: hierarchy opened", slog.String("dir", cfg.Dir), slog.String(logattr.Issuer, h.issuing.Subject.CommonName))
		return h, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, &HierarchyError{Dir: cfg.Dir, What: "manifest", Rule: "cannot be read", Err: err}
	}
	if cfg.Organization == "" {
		return nil, fieldErr("HierarchyConfig.Organization", "required to create a hierarchy")
	}
	h, err := create(ctx, cfg, ks)
	if err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "ca: hierarchy created", slog.String("dir", cfg.Dir), slog.String(logattr.Issuer, h.issuing.Subject.CommonName),
		slog.String("key_algorithm", h.alg.String()))
	return h, nil
}

func openExisting(cfg HierarchyConfig, ks *keyStore, raw []byte) (*Hierarchy, error) {
	herr := func(what, rule string, err error) error {
		return &HierarchyError{Dir: cfg.Dir, What: what, Rule: rule, Err: err}
	}
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, herr("manifest", "is not valid JSON", err)
	}
	if m.Format != manifestFormat {
		return nil, herr("manifest", fmt.Sprintf("format is %q, not %q: not a registra hierarchy", m.Format, manifestFormat), nil)
	}
	if m.Version != 1 {
		return nil, herr("manifest", fmt.Sprintf("version %d is not supported (want 1)", m.Version), nil)
	}
	alg, err := ParseKeyAlgorithm(m.KeyAlgorithm)
	if err != nil {
		return nil, herr("manifest", "key algorithm", err)
	}
	if cfg.KeyAlgorithm != 0 && cfg.KeyAlgorithm != alg {
		return nil, herr("manifest", fmt.Sprintf("holds %s keys, the configuration asks for %s", alg, cfg.KeyAlgorithm), nil)
	}
	h := &Hierarchy{dir: cfg.Dir, alg: alg}
	load := func(role string, e manifestEntry) (*x509.Certificate, crypto.Signer, error) {
		if !filepath.IsLocal(e.Certificate) {
			return nil, nil, herr(role+" certificate", fmt.Sprintf("file %q is outside the data directory", e.Certificate), nil)
		}
		pemBytes, err := os.ReadFile(filepath.Join(cfg.Dir, e.Certificate))
		if err != nil {
			return nil, nil, herr(e.Certificate, "cannot be read", err)
		}
		sum := sha256.Sum256(pemBytes)
		if hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, nil, herr(e.Certificate, "does not match the SHA-256 recorded in the manifest", nil)
		}
		block, _ := pem.Decode(pemBytes)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, nil, herr(e.Certificate, "is not a PEM certificate", nil)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, herr(e.Certificate, "cannot be parsed", err)
		}
		if !alg.matches(cert.PublicKey) {
			return nil, nil, herr(e.Certificate, "key is not "+alg.String(), nil)
		}
		signer, err := ks.open(e.Key)
		if err != nil {
			return nil, nil, herr(role+" key", "cannot be opened", err)
		}
		if !publicKeysEqual(signer.Public(), cert.PublicKey) {
			return nil, nil, herr(role+" key", "does not match the certificate "+e.Certificate, nil)
		}
		return cert, signer, nil
	}
	if h.root, h.rootKey, err = load("root", m.Root); err != nil {
		return nil, err
	}
	if h.issuing, h.issKey, err = load("issuing", m.Issuing); err != nil {
		return nil, err
	}
	if h.ocsp, h.ocspKey, err = load("ocsp", m.OCSP); err != nil {
		return nil, err
	}
	if err := h.root.CheckSignatureFrom(h.root); err != nil {
		return nil, herr(m.Root.Certificate, "is not a self-signed CA certificate", err)
	}
	if err := h.issuing.CheckSignatureFrom(h.root); err != nil {
		return nil, herr(m.Issuing.Certificate, "is not signed by the root", err)
	}
	if err := h.ocsp.CheckSignatureFrom(h.issuing); err != nil {
		return nil, herr(m.OCSP.Certificate, "is not signed by the issuing CA", err)
	}
	h.refs = [3]KeyRef{m.Root.Key, m.Issuing.Key, m.OCSP.Key}
	return h, nil
}

type publicKey interface {
	Equal(crypto.PublicKey) bool
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(publicKey)
	return ok && k.Equal(b)
}

func create(ctx context.Context, cfg HierarchyConfig, ks *keyStore) (*Hierarchy, error) {
	alg := cfg.KeyAlgorithm.orDefault()
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	linter := cfg.Linter
	if linter == nil {
		var err error
		if linter, err = NewLinter(); err != nil {
			return nil, err
		}
	}
	tw, err := newThrowaway(alg)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca: creating data directory: %w", err)
	}
	country := cfg.Country
	if country == "" {
		country = "IT"
	}
	cn := func(v, suffix string) string {
		if v != "" {
			return v
		}
		return cfg.Organization + suffix
	}
	name := func(commonName string) x509util.Subject {
		s := x509util.Subject{Country: []string{country}, Organization: []string{cfg.Organization}, CommonName: commonName}
		if cfg.OrganizationIdentifier != "" {
			s.ExtraNames = []x509util.DistinguishedName{{Type: x509util.ObjectIdentifier(OIDOrganizationIdentifier), Value: cfg.OrganizationIdentifier}}
		}
		return s
	}
	validity := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	names := cfg.KeyNames
	h := &Hierarchy{dir: cfg.Dir, alg: alg}
	notBefore := now().UTC().Truncate(time.Second)

	// Root CA: RFC 5280 §4.2.1.9 (basicConstraints critical), §4.2.1.3
	// (keyCertSign, cRLSign), §4.2.1.2 (subjectKeyIdentifier).
	rootRef, rootKey, err := ks.create(alg, "root", names.Root)
	if err != nil {
		return nil, err
	}
	rootTmpl := caTemplate(name(cn(cfg.RootCommonName, " Root CA")), rootKey.Public(), alg, notBefore, notBefore.Add(validity(cfg.RootValidity, 20*year)), -1)
	root, err := lintAndSign(ctx, linter, tw, alg, rootTmpl, rootTmpl, rootKey, "root certificate")
	if err != nil {
		return nil, err
	}

	// Issuing CA: pathLenConstraint 0, it certifies only end entities.
	issRef, issKey, err := ks.create(alg, "issuing", names.Issuing)
	if err != nil {
		return nil, err
	}
	issTmpl := caTemplate(name(cn(cfg.IssuingCommonName, " Qualified CA")), issKey.Public(), alg, notBefore, minTime(notBefore.Add(validity(cfg.IssuingValidity, 10*year)), root.NotAfter), 0)
	if cfg.RootCRLURL != "" {
		issTmpl.CRLDistributionPoints = []string{cfg.RootCRLURL}
	}
	if cfg.RootCertURL != "" {
		issTmpl.IssuingCertificateURL = []string{cfg.RootCertURL}
	}
	issuing, err := lintAndSign(ctx, linter, tw, alg, issTmpl, root, rootKey, "issuing certificate")
	if err != nil {
		return nil, err
	}

	// OCSP signer, from the OCSPSigner profile.
	ocspRef, ocspKey, err := ks.create(alg, "ocsp", names.OCSP)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial(rand.Reader)
	if err != nil {
		return nil, err
	}
	ocspTmpl, err := buildTemplate(templateInput{
		profile:   OCSPSigner,
		subject:   name(cn(cfg.OCSPCommonName, " OCSP Responder")),
		publicKey: ocspKey.Public(),
		serial:    serial,
		notBefore: notBefore,
		notAfter:  minTime(notBefore.Add(validity(cfg.OCSPValidity, year)), issuing.NotAfter),
		sigAlg:    alg.signatureAlgorithm(),
		caIssuers: cfg.IssuingCertURL,
	})
	if err != nil {
		return nil, err
	}
	ocsp, err := lintAndSign(ctx, linter, tw, alg, ocspTmpl, issuing, issKey, "ocsp signer certificate")
	if err != nil {
		return nil, err
	}

	m := manifest{
		Format:       manifestFormat,
		Version:      1,
		KeyAlgorithm: alg.String(),
		Created:      notBefore,
	}
	for _, f := range []struct {
		entry *manifestEntry
		file  string
		cert  *x509.Certificate
		ref   KeyRef
	}{{&m.Root, RootFile, root, rootRef}, {&m.Issuing, IssuingFile, issuing, issRef}, {&m.OCSP, OCSPFile, ocsp, ocspRef}} {
		b := pemEncode(&pem.Block{Type: "CERTIFICATE", Bytes: f.cert.Raw})
		if err := atomicfile.Write(filepath.Join(cfg.Dir, f.file), b, 0o644); err != nil {
			return nil, fmt.Errorf("ca: writing %s: %w", f.file, err)
		}
		sum := sha256.Sum256(b)
		*f.entry = manifestEntry{Certificate: f.file, SHA256: hex.EncodeToString(sum[:]), Key: f.ref}
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ca: encoding manifest: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, ManifestFile), append(mb, '\n'), 0o600); err != nil {
		return nil, fmt.Errorf("ca: writing manifest: %w", err)
	}
	h.root, h.issuing, h.ocsp = root, issuing, ocsp
	h.rootKey, h.issKey, h.ocspKey = rootKey, issKey, ocspKey
	h.refs = [3]KeyRef{rootRef, issRef, ocspRef}
	return h, nil
}

// caTemplate returns a CA certificate template. maxPathLen -1 means no
// pathLenConstraint.
func caTemplate(subject x509util.Subject, pub crypto.PublicKey, alg KeyAlgorithm, notBefore, notAfter time.Time, maxPathLen int) *x509.Certificate {
	c := &x509util.Certificate{
		Subject:            subject,
		PublicKey:          pub,
		NotBefore:          notBefore,
		NotAfter:           notAfter,
		KeyUsage:           x509util.KeyUsage(x509.KeyUsageCertSign | x509.KeyUsageCRLSign),
		BasicConstraints:   &x509util.BasicConstraints{IsCA: true, MaxPathLen: maxPathLen},
		SignatureAlgorithm: x509util.SignatureAlgorithm(alg.signatureAlgorithm()),
	}
	t := c.GetCertificate()
	t.MaxPathLenZero = maxPathLen == 0
	return t
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// lintAndSign is the two phases of issuance in one call, for the hierarchy's
// own certificates: capture the TBS, lint it under a throwaway signature,
// then sign it through softcas.
func lintAndSign(ctx context.Context, l *Linter, tw *throwaway, alg KeyAlgorithm, tmpl, parent *x509.Certificate, parentKey crypto.Signer, what string) (*x509.Certificate, error) {
	if tmpl.SerialNumber == nil {
		s, err := randomSerial(rand.Reader)
		if err != nil {
			return nil, err
		}
		tmpl.SerialNumber = s
	}
	if tmpl.SubjectKeyId == nil {
		id, err := x509util.GenerateSubjectKeyID(tmpl.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("ca: %s: subject key id: %w", what, err)
		}
		tmpl.SubjectKeyId = id
	}
	tmpl.SignatureAlgorithm = alg.signatureAlgorithm()
	if parent == tmpl {
		// Self-signed: x509 takes the authority key id from the parent.
		tmpl.AuthorityKeyId = tmpl.SubjectKeyId
	}
	tbs, err := captureTBS(tmpl, parent, tmpl.PublicKey, parentKey.Public())
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", what, err)
	}
	lintDER, err := tw.wrap(tbs, tmpl.SignatureAlgorithm, false)
	if err != nil {
		return nil, err
	}
	if err := l.CheckCertificate(lintDER, what); err != nil {
		return nil, err
	}
	return signCertificate(ctx, tmpl, parent, parentKey, tbs)
}

// randomSerial returns a positive serial number with 127 random bits (RFC
// 5280 §4.1.2.2: at most 20 octets; CA/B Forum BR §7.1: at least 64 bits of
// CSPRNG output).
func randomSerial(r interface{ Read([]byte) (int, error) }) (*big.Int, error) {
	var b [16]byte
	if _, err := fullRead(r, b[:]); err != nil {
		return nil, fmt.Errorf("ca: reading random serial: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x40 // fixed length: 16 octets, never zero
	return new(big.Int).SetBytes(b[:]), nil
}

func fullRead(r interface{ Read([]byte) (int, error) }, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func pemEncode(b *pem.Block) []byte { return pem.EncodeToMemory(b) }
