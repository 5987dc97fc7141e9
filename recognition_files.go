package registra

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/registra-pki/registra/recognition"
)

// RecognitionFiles names the files and settings that enable the
// recognition methods beyond Offline, which needs none, as a server's
// command line gives them (the example server and `registra serve` share
// these flags through [RecognitionFiles.RegisterFlags]). A method whose
// settings are absent stays unavailable: its steps are refused saying so.
type RecognitionFiles struct {
	// EvidenceRoots is a PEM file of the trust anchors of recognition
	// evidence sealed elsewhere (Config.EvidenceRoots); empty means the
	// platform's own root CA.
	EvidenceRoots string
	// QualifiedRoots is a PEM file of the trust anchors of qualified
	// signature certificates: the applicants' (Sign ID) and the RAOs'
	// (Live ID). It enables both.
	QualifiedRoots string
	// CRLs are comma-separated CRL files (DER or PEM) of the qualified
	// CAs; empty means download them from the distribution points.
	CRLs string
	// Clamd is the clamd socket Sign ID scans uploads with: a path
	// (LocalSocket) or host:port (TCPSocket).
	Clamd string
	// OTPOutbox is a directory the applicants' OTPs are written to
	// (recognition.FileSender) in place of an SMS gateway; it enables the
	// form signature of Live ID, Video ID and SPID.
	OTPOutbox string
	// VideoProvider and VideoKeyFile (at least 32 bytes) enable Video ID.
	VideoProvider, VideoKeyFile string
	// SPIDMetadata (the identity provider's SAML metadata), SPIDKey (the
	// service provider's RSA key, PEM) and SPIDCert (its certificate, PEM)
	// enable SPID; SPIDEntityID and SPIDACSURL default to the API's
	// metadata and ACS URLs.
	SPIDMetadata, SPIDEntityID, SPIDACSURL, SPIDKey, SPIDCert string
}

// RegisterFlags defines the recognition flags on fl, each defaulting to
// its environment variable's value as env reads it (REGISTRA_QUALIFIED_ROOTS,
// REGISTRA_CRLS, ...).
func (f *RecognitionFiles) RegisterFlags(fl *flag.FlagSet, env func(name, def string) string) {
	fl.StringVar(&f.EvidenceRoots, "evidence-roots", env("REGISTRA_EVIDENCE_ROOTS", ""), "PEM file of the trust anchors of recognition evidence seals (default the platform's root CA)")
	fl.StringVar(&f.QualifiedRoots, "qualified-roots", env("REGISTRA_QUALIFIED_ROOTS", ""), "PEM file of the trust anchors of qualified signature certificates: the applicants' (Sign ID) and the RAOs' (Live ID); enables both")
	fl.StringVar(&f.CRLs, "crls", env("REGISTRA_CRLS", ""), "comma-separated CRL files (DER or PEM) of the qualified CAs (default: download them from the certificates' distribution points)")
	fl.StringVar(&f.Clamd, "clamd", env("REGISTRA_CLAMD", ""), "clamd socket, a path (LocalSocket) or host:port (TCPSocket): the antivirus Sign ID scans with")
	fl.StringVar(&f.OTPOutbox, "otp-outbox", env("REGISTRA_OTP_OUTBOX", ""), "directory the applicants' OTPs are written to, one file per mobile number (mode 0600), in place of an SMS gateway; enables the form signature of Live ID, Video ID and SPID")
	fl.StringVar(&f.VideoProvider, "video-provider", env("REGISTRA_VIDEO_PROVIDER", ""), "name of the Video ID provider; enables Video ID with -video-key-file")
	fl.StringVar(&f.VideoKeyFile, "video-key-file", env("REGISTRA_VIDEO_KEY_FILE", ""), "file holding the HMAC key shared with the video provider (at least 32 bytes)")
	fl.StringVar(&f.SPIDMetadata, "spid-idp-metadata", env("REGISTRA_SPID_IDP_METADATA", ""), "SAML metadata file of the SPID identity provider; enables SPID with -spid-key and -spid-cert")
	fl.StringVar(&f.SPIDEntityID, "spid-entity-id", env("REGISTRA_SPID_ENTITY_ID", ""), "entity ID of the SPID service provider (default the metadata URL, https://localhost:PORT/v1/recognition/spid/metadata)")
	fl.StringVar(&f.SPIDACSURL, "spid-acs-url", env("REGISTRA_SPID_ACS_URL", ""), "URL of the assertion consumer service as the applicant's browser reaches it (default https://localhost:PORT/v1/recognition/spid/acs)")
	fl.StringVar(&f.SPIDKey, "spid-key", env("REGISTRA_SPID_KEY", ""), "PEM file of the SPID service provider's RSA key (PKCS #8 or PKCS #1)")
	fl.StringVar(&f.SPIDCert, "spid-cert", env("REGISTRA_SPID_CERT", ""), "PEM file of the SPID service provider's certificate")
}

// Apply reads the files and sets cfg's EvidenceRoots, SignID, LiveID, OTP,
// VideoID and SPID from them; apiBase is the operator API's base URL, for the SPID
// defaults. Every error names its flag (--qualified-roots, ...), and all
// are reported together; the OTP outbox is created (mode 0700) when
// missing.
func (f RecognitionFiles) Apply(cfg *Config, apiBase string) error {
	var errs []error
	flagErr := func(name string, err error) { errs = append(errs, fmt.Errorf("--%s: %w", name, err)) }
	if f.EvidenceRoots != "" {
		roots, err := readCertPool(f.EvidenceRoots)
		if err != nil {
			flagErr("evidence-roots", err)
		}
		cfg.EvidenceRoots = roots
	}
	var crls recognition.CRLSource = recognition.HTTPCRLs{}
	if f.CRLs != "" {
		var static recognition.StaticCRLs
		for _, name := range strings.Split(f.CRLs, ",") {
			b, err := readDERFile(strings.TrimSpace(name), "X509 CRL")
			if err != nil {
				flagErr("crls", err)
				continue
			}
			static = append(static, b)
		}
		crls = static
	}
	if f.QualifiedRoots != "" {
		roots, err := readCertPool(f.QualifiedRoots)
		if err != nil {
			flagErr("qualified-roots", err)
		} else {
			sc := &recognition.SignIDConfig{Roots: roots, CRLs: crls}
			if f.Clamd != "" {
				network := "tcp"
				if strings.Contains(f.Clamd, "/") {
					network = "unix"
				} else if _, _, err := net.SplitHostPort(f.Clamd); err != nil {
					flagErr("clamd", errors.New("must be a socket path or host:port"))
				}
				if sc.Scanner, err = recognition.NewClamAV(recognition.ClamAVConfig{Network: network, Address: f.Clamd}); err != nil {
					flagErr("clamd", err)
				}
			}
			cfg.SignID = sc
			cfg.LiveID = &recognition.LiveIDConfig{Roots: roots, CRLs: crls}
		}
	} else if f.Clamd != "" {
		flagErr("clamd", errors.New("Sign ID also needs --qualified-roots"))
	}
	if f.OTPOutbox != "" {
		if err := os.MkdirAll(f.OTPOutbox, 0o700); err != nil {
			flagErr("otp-outbox", err)
		}
		cfg.OTP = &recognition.OTPSignerConfig{Sender: recognition.FileSender{Dir: f.OTPOutbox}}
	}
	switch {
	case (f.VideoProvider == "") != (f.VideoKeyFile == ""):
		flagErr("video-provider", errors.New("--video-provider and --video-key-file go together"))
	case f.VideoProvider != "":
		key, err := os.ReadFile(f.VideoKeyFile)
		if err != nil {
			flagErr("video-key-file", err)
		} else if len(key) < 32 {
			flagErr("video-key-file", errors.New("the key must be at least 32 bytes"))
		} else {
			cfg.VideoID = &recognition.VideoIDConfig{Provider: f.VideoProvider, CallbackKey: recognition.Secret(key)}
		}
	}
	if f.SPIDMetadata != "" {
		if c, err := f.spid(apiBase); err != nil {
			errs = append(errs, err)
		} else {
			cfg.SPID = c
		}
	} else if f.SPIDKey != "" || f.SPIDCert != "" {
		flagErr("spid-idp-metadata", errors.New("is required with --spid-key and --spid-cert"))
	}
	return errors.Join(errs...)
}

// spid builds the SPID configuration.
func (f RecognitionFiles) spid(apiBase string) (*recognition.SPIDConfig, error) {
	md, err := os.ReadFile(f.SPIDMetadata)
	if err != nil {
		return nil, fmt.Errorf("--spid-idp-metadata: %w", err)
	}
	if f.SPIDKey == "" || f.SPIDCert == "" {
		return nil, errors.New("--spid-key and --spid-cert: both are required with --spid-idp-metadata")
	}
	kb, err := os.ReadFile(f.SPIDKey)
	if err != nil {
		return nil, fmt.Errorf("--spid-key: %w", err)
	}
	key, err := parseRSAKey(kb)
	if err != nil {
		return nil, fmt.Errorf("--spid-key: %w", err)
	}
	cb, err := readDERFile(f.SPIDCert, "CERTIFICATE")
	if err != nil {
		return nil, fmt.Errorf("--spid-cert: %w", err)
	}
	cert, err := x509.ParseCertificate(cb)
	if err != nil {
		return nil, fmt.Errorf("--spid-cert: %w", err)
	}
	c := &recognition.SPIDConfig{EntityID: f.SPIDEntityID, ACSURL: f.SPIDACSURL, IdPMetadata: md, Key: key, Certificate: cert}
	if c.EntityID == "" {
		c.EntityID = apiBase + "/v1/recognition/spid/metadata"
	}
	if c.ACSURL == "" {
		c.ACSURL = apiBase + "/v1/recognition/spid/acs"
	}
	// The platform fills in the one-shot roots (its own CA): check the rest
	// here, to name the flags.
	check := *c
	check.OneShotRoots = x509.NewCertPool()
	if err := check.Validate(); err != nil {
		return nil, fmt.Errorf("--spid-*: %w", err)
	}
	return c, nil
}

// readCertPool reads a PEM file of certificates.
func readCertPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no certificate in %s", path)
	}
	return pool, nil
}

// readDERFile reads a DER file, or the first PEM block of type typ.
func readDERFile(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != typ {
			return nil, fmt.Errorf("%s: PEM block %q, want %q", path, blk.Type, typ)
		}
		return blk.Bytes, nil
	}
	return b, nil
}

// parseRSAKey parses a PEM RSA private key, PKCS #8 or PKCS #1.
func parseRSAKey(b []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key (SAML signatures here are RSA-SHA256)")
	}
	return rk, nil
}
