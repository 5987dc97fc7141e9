package registra

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	kmsapi "go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// DefaultPolicyOID is the example certificate policy used when
// [Config.PolicyOID] is empty: under the IANA private enterprise number 32473
// reserved for documentation (RFC 5612). A real CA sets its own.
var DefaultPolicyOID = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1, 1}

// Defaults of [Config].
const (
	// DefaultPublicURL is the base of the CRL, OCSP and CA certificate URLs
	// written into certificates when [Config.PublicURL] is empty: the
	// example server's public listener.
	DefaultPublicURL = "http://127.0.0.1:8080"
	// DefaultSchedulerInterval bounds how long [Platform.Run] sleeps
	// between passes when nothing is due earlier.
	DefaultSchedulerInterval = time.Minute
	// DefaultLeaseTTL is the lifetime of the scheduler's store lease.
	DefaultLeaseTTL = 2 * time.Minute
)

// Config configures [Open]. The zero value of every field but Dir gives a
// working single-node platform with software keys.
type Config struct {
	// Dir is the data directory: the store in Dir/store, the CA hierarchy
	// in Dir/ca and the code vault's key in Dir/vault (operators'
	// credentials and sessions are in the store). Required; created when
	// missing.
	Dir string
	// Store is the store's configuration (cluster peers, Raft timings).
	// Its Dir, Now and Logger are filled from this Config when zero.
	Store store.Config
	// KeyManager holds the CA keys and the holders' remote signature keys
	// (an HSM through adapters/hsm). Nil means software keys: the CA keys
	// as PKCS #8 files under Dir/ca/keys, holder keys generated in
	// software and kept sealed under the vault key.
	KeyManager kmsapi.KeyManager
	// CAKeyNames names the three CA keys in KeyManager; required with it.
	CAKeyNames ca.KeyNames
	// HolderKeyName returns the name under which KeyManager creates the key
	// of a product (for PKCS #11, a pkcs11: URI with id and object).
	// Required with KeyManager.
	HolderKeyName func(productID string) string
	// Organization is the O of the CA certificates created on first open.
	// Zero means "registra".
	Organization string
	// PublicURL is the base URL of the public listener: certificates name
	// PublicURL/crl/issuing.crl, PublicURL/ocsp and PublicURL/ca/issuing.crt.
	// Zero means [DefaultPublicURL].
	PublicURL string
	// PolicyOID is the CA's certificate policy. Zero means
	// [DefaultPolicyOID].
	PolicyOID asn1.ObjectIdentifier
	// PDS lists the PKI Disclosure Statements of qualified certificates
	// (ETSI EN 319 412-5 §4.3.4). Zero means one English statement under
	// PublicURL's host, served over https.
	PDS []ca.PDSLocation
	// Catalogue is the product catalogue. Nil means [DefaultCatalogue].
	Catalogue []ProductType
	// Lifecycle holds the publication SLAs (24 h and 1 h by default), the
	// hold-end policy and the back-dating option of revocations.
	Lifecycle lifecycle.Config
	// Access holds the password parameters, TOTP window, lockout and
	// session lifetimes. Zero fields take access's defaults; Issuer
	// defaults to "registra".
	Access access.Config
	// Passphrase is the policy of custom envelope passphrases.
	Passphrase envelope.PassphrasePolicy
	// CMS configures the .p7m envelope (PBKDF2 iterations).
	CMS envelope.CMSConfig
	// PDFEnvelope adds the password-protected PDF envelope next to the
	// .p7m.
	PDFEnvelope bool
	// VaultHash is the cost of the slow hashes of verifiable codes. Zero
	// means envelope's default.
	VaultHash envelope.HashParams
	// SlowHashes is how many Argon2id hashes (operators' passwords,
	// activation codes) run at once; more wait in order. Each holds its
	// memory while it runs (Access.Password.Memory, VaultHash.MemoryKiB:
	// 64 MiB by default), so this bounds their memory. A password hash
	// (login, TOTP confirmation, new operator) that would wait behind more
	// than [HashQueuePerSlot] other password hashes per slot is refused with
	// [ErrBusy]; the hashes of an issuance wait until their context ends,
	// and do not count towards that bound. Zero means GOMAXPROCS.
	// Access.Gate, when set, replaces the bound for passwords.
	SlowHashes int
	// Mailer delivers envelopes to holders (adapters/mail). Nil means no
	// delivery: envelopes are only stored.
	Mailer envelope.Mailer
	// EvidenceRoots are the trust anchors of the evidence-sealing
	// certificates of recognition bundles. Nil means the platform's own
	// root CA. The platform's own evidence seal ([Platform.Recognise]) is
	// trusted in either case.
	EvidenceRoots *x509.CertPool
	// SchedulerInterval bounds the sleep of [Platform.Run]. Zero means
	// [DefaultSchedulerInterval].
	SchedulerInterval time.Duration
	// LeaseTTL is the lifetime of the scheduler's lease. Zero means
	// [DefaultLeaseTTL].
	LeaseTTL time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the platform's logs; secrets never reach it. Nil
	// discards them.
	Logger *slog.Logger

	// Recognition from uploads ([Platform.Recognise]).

	// EvidenceKeyName names the platform's evidence-sealing key in
	// KeyManager. Zero means HolderKeyName("evidence-seal"). Ignored
	// without KeyManager: the key is then a software key in
	// Dir/evidence/seal.key (mode 0600).
	EvidenceKeyName string
	// Offline configures the Offline verifier; its zero value takes
	// scanned or PDF reports and refuses signed (.p7m) ones. Now and Logger
	// default to this Config's.
	Offline recognition.OfflineConfig
	// SignID configures the Sign ID verifier (trust anchors, CRLs, the
	// antivirus scanner). Nil means Sign ID cannot be recognised from
	// uploads. Now and Logger default to this Config's.
	SignID *recognition.SignIDConfig
	// LiveID, VideoID and SPID configure those verifiers, which the
	// recognition steps run ([Platform.StartFormSignature] and what
	// follows it). Nil means the method cannot be recognised through the
	// platform. OneShotRoots nil means the platform's root CA; Now and
	// Logger default to this Config's.
	LiveID  *recognition.LiveIDConfig
	VideoID *recognition.VideoIDConfig
	SPID    *recognition.SPIDConfig
	// OTP configures the applicant's OTP-authorised one-shot signature of
	// the request form, which Live ID, Video ID and SPID need. Its Sender
	// is required; Issuer nil means the platform's issuing CA with profile
	// ca.OneShot. Nil means those three methods are unavailable.
	OTP *recognition.OTPSignerConfig
}

// Validate names the first bad field of c.
func (c *Config) Validate() error {
	switch {
	case strings.TrimSpace(c.Dir) == "":
		return fieldErr("Config.Dir", "required")
	case c.KeyManager != nil && c.HolderKeyName == nil:
		return fieldErr("Config.HolderKeyName", "required with KeyManager")
	case c.KeyManager != nil && (c.CAKeyNames.Root == "" || c.CAKeyNames.Issuing == "" || c.CAKeyNames.OCSP == ""):
		return fieldErr("Config.CAKeyNames", "all three names are required with KeyManager")
	case c.SchedulerInterval < 0:
		return fieldErr("Config.SchedulerInterval", "must not be negative")
	case c.SlowHashes < 0:
		return fieldErr("Config.SlowHashes", "must not be negative")
	case c.LeaseTTL < 0 || c.LeaseTTL > store.MaxLeaseTTL:
		return fieldErr("Config.LeaseTTL", "must be between 0 and 24h")
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return fieldErr("Config.PublicURL", "must be an absolute http or https URL")
		}
	}
	if c.Catalogue != nil {
		if err := validateCatalogue(c.Catalogue); err != nil {
			return err
		}
	}
	if err := c.Lifecycle.Validate(); err != nil {
		return fmt.Errorf("%w: Config.Lifecycle: %w", ErrInvalidInput, err)
	}
	if err := c.Passphrase.Validate(); err != nil {
		return fmt.Errorf("%w: Config.Passphrase: %w", ErrInvalidInput, err)
	}
	return nil
}

// publicURL returns the base URL without a trailing slash.
func (c *Config) publicURL() string {
	if c.PublicURL == "" {
		return DefaultPublicURL
	}
	return strings.TrimRight(c.PublicURL, "/")
}

// issuerConfig returns the ca.Config of the platform's issuer.
func (c *Config) issuerConfig(h *ca.Hierarchy, now func() time.Time, log *slog.Logger) ca.Config {
	base := c.publicURL()
	policy := c.PolicyOID
	if len(policy) == 0 {
		policy = DefaultPolicyOID
	}
	pds := c.PDS
	if len(pds) == 0 {
		host := "registra.example"
		if u, err := url.Parse(base); err == nil && u.Hostname() != "" {
			host = u.Hostname()
		}
		pds = []ca.PDSLocation{{URL: "https://" + host + "/pds/en.pdf", Language: "en"}}
	}
	return ca.Config{
		Hierarchy:    h,
		PolicyOID:    policy,
		PDS:          pds,
		CRLURL:       base + "/crl/issuing.crl",
		OCSPURL:      base + "/ocsp",
		CAIssuersURL: base + "/ca/issuing.crt",
		Now:          now,
		Logger:       log,
	}
}
