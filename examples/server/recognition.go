package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/internal/atomicfile"
	"github.com/registra-pki/registra/recognition"
)

// recognitionOptions are the flags of the recognition methods beyond
// Offline, which needs none. A method whose flags are not given is
// unavailable: its endpoints answer 400 saying so.
type recognitionOptions struct {
	qualifiedRoots string // PEM trust anchors of qualified signature certificates (Sign ID, Live ID)
	crls           string // comma-separated CRL files; empty means download from the distribution points
	clamd          string // clamd socket path or host:port (Sign ID's antivirus)
	otpOutbox      string // directory the OTPs are written to (Live ID, Video ID, SPID)
	videoProvider  string // Video ID provider name
	videoKeyFile   string // file holding the provider's callback key
	spidMetadata   string // identity provider metadata XML file
	spidEntityID   string // service provider entity ID
	spidACSURL     string // assertion consumer service URL
	spidKey        string // service provider RSA key (PEM)
	spidCert       string // service provider certificate (PEM)
}

// flags registers the recognition flags on fl, with env giving each its
// environment variable's value as the default.
func (o *recognitionOptions) flags(fl *flag.FlagSet, env func(name, def string) string) {
	fl.StringVar(&o.qualifiedRoots, "qualified-roots", env("REGISTRA_QUALIFIED_ROOTS", ""), "PEM file of the trust anchors of qualified signature certificates: the applicants' (Sign ID) and the RAOs' (Live ID); enables both")
	fl.StringVar(&o.crls, "crls", env("REGISTRA_CRLS", ""), "comma-separated CRL files (DER or PEM) of the qualified CAs (default: download them from the certificates' distribution points)")
	fl.StringVar(&o.clamd, "clamd", env("REGISTRA_CLAMD", ""), "clamd socket, a path (LocalSocket) or host:port (TCPSocket): the antivirus Sign ID scans with")
	fl.StringVar(&o.otpOutbox, "otp-outbox", env("REGISTRA_OTP_OUTBOX", ""), "directory the applicants' OTPs are written to, one file per mobile number (mode 0600), in place of an SMS gateway; enables the form signature of Live ID, Video ID and SPID")
	fl.StringVar(&o.videoProvider, "video-provider", env("REGISTRA_VIDEO_PROVIDER", ""), "name of the Video ID provider; enables Video ID with -video-key-file")
	fl.StringVar(&o.videoKeyFile, "video-key-file", env("REGISTRA_VIDEO_KEY_FILE", ""), "file holding the HMAC key shared with the video provider (at least 32 bytes)")
	fl.StringVar(&o.spidMetadata, "spid-idp-metadata", env("REGISTRA_SPID_IDP_METADATA", ""), "SAML metadata file of the SPID identity provider; enables SPID with -spid-key and -spid-cert")
	fl.StringVar(&o.spidEntityID, "spid-entity-id", env("REGISTRA_SPID_ENTITY_ID", ""), "entity ID of the SPID service provider (default the metadata URL, https://localhost:PORT/v1/recognition/spid/metadata)")
	fl.StringVar(&o.spidACSURL, "spid-acs-url", env("REGISTRA_SPID_ACS_URL", ""), "URL of the assertion consumer service as the applicant's browser reaches it (default https://localhost:PORT/v1/recognition/spid/acs)")
	fl.StringVar(&o.spidKey, "spid-key", env("REGISTRA_SPID_KEY", ""), "PEM file of the SPID service provider's RSA key (PKCS #8 or PKCS #1)")
	fl.StringVar(&o.spidCert, "spid-cert", env("REGISTRA_SPID_CERT", ""), "PEM file of the SPID service provider's certificate")
}

// apply sets the recognition parts of cfg from the flags; apiBase is the
// operator API's base URL, for the SPID defaults. Errors name the flag.
func (o *recognitionOptions) apply(cfg *registra.Config, apiBase string) error {
	var errs []error
	flagErr := func(name string, err error) { errs = append(errs, fmt.Errorf("-%s: %w", name, err)) }
	var crls recognition.CRLSource = recognition.HTTPCRLs{}
	if o.crls != "" {
		var static recognition.StaticCRLs
		for _, f := range strings.Split(o.crls, ",") {
			b, err := readDER(strings.TrimSpace(f), "X509 CRL")
			if err != nil {
				flagErr("crls", err)
				continue
			}
			static = append(static, b)
		}
		crls = static
	}
	if o.qualifiedRoots != "" {
		roots, err := readPool(o.qualifiedRoots)
		if err != nil {
			flagErr("qualified-roots", err)
		} else {
			sc := &recognition.SignIDConfig{Roots: roots, CRLs: crls}
			if o.clamd != "" {
				network := "tcp"
				if strings.Contains(o.clamd, "/") {
					network = "unix"
				} else if _, _, err := net.SplitHostPort(o.clamd); err != nil {
					flagErr("clamd", errors.New("must be a socket path or host:port"))
				}
				if sc.Scanner, err = recognition.NewClamAV(recognition.ClamAVConfig{Network: network, Address: o.clamd}); err != nil {
					flagErr("clamd", err)
				}
			}
			cfg.SignID = sc
			cfg.LiveID = &recognition.LiveIDConfig{Roots: roots, CRLs: crls}
		}
	} else if o.clamd != "" {
		flagErr("clamd", errors.New("Sign ID also needs -qualified-roots"))
	}
	if o.otpOutbox != "" {
		if err := os.MkdirAll(o.otpOutbox, 0o700); err != nil {
			flagErr("otp-outbox", err)
		}
		cfg.OTP = &recognition.OTPSignerConfig{Sender: outbox{dir: o.otpOutbox}}
	}
	switch {
	case (o.videoProvider == "") != (o.videoKeyFile == ""):
		flagErr("video-provider", errors.New("-video-provider and -video-key-file go together"))
	case o.videoProvider != "":
		key, err := os.ReadFile(o.videoKeyFile)
		if err != nil {
			flagErr("video-key-file", err)
		} else if len(key) < 32 {
			flagErr("video-key-file", errors.New("the key must be at least 32 bytes"))
		} else {
			cfg.VideoID = &recognition.VideoIDConfig{Provider: o.videoProvider, CallbackKey: recognition.Secret(key)}
		}
	}
	if o.spidMetadata != "" {
		if c, err := o.spid(apiBase); err != nil {
			errs = append(errs, err)
		} else {
			cfg.SPID = c
		}
	} else if o.spidKey != "" || o.spidCert != "" {
		flagErr("spid-idp-metadata", errors.New("is required with -spid-key and -spid-cert"))
	}
	return errors.Join(errs...)
}

// spid builds the SPID configuration.
func (o *recognitionOptions) spid(apiBase string) (*recognition.SPIDConfig, error) {
	md, err := os.ReadFile(o.spidMetadata)
	if err != nil {
		return nil, fmt.Errorf("-spid-idp-metadata: %w", err)
	}
	if o.spidKey == "" || o.spidCert == "" {
		return nil, errors.New("-spid-key and -spid-cert: both are required with -spid-idp-metadata")
	}
	kb, err := os.ReadFile(o.spidKey)
	if err != nil {
		return nil, fmt.Errorf("-spid-key: %w", err)
	}
	key, err := parseRSAKey(kb)
	if err != nil {
		return nil, fmt.Errorf("-spid-key: %w", err)
	}
	cb, err := readDER(o.spidCert, "CERTIFICATE")
	if err != nil {
		return nil, fmt.Errorf("-spid-cert: %w", err)
	}
	cert, err := x509.ParseCertificate(cb)
	if err != nil {
		return nil, fmt.Errorf("-spid-cert: %w", err)
	}
	c := &recognition.SPIDConfig{EntityID: o.spidEntityID, ACSURL: o.spidACSURL, IdPMetadata: md, Key: key, Certificate: cert}
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
		return nil, fmt.Errorf("-spid-*: %w", err)
	}
	return c, nil
}

// readPool reads a PEM file of certificates.
func readPool(path string) (*x509.CertPool, error) {
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

// readDER reads a DER file, or the first PEM block of type typ.
func readDER(path, typ string) ([]byte, error) {
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

// outbox delivers OTPs by writing each to DIR/<mobile>.otp (mode 0600,
// replaced by the next code for the same number): the example server's
// stand-in for an SMS gateway. The code goes to the file only, never to
// the logs.
type outbox struct{ dir string }

// SendOTP writes the code and returns the channel "file".
func (o outbox) SendOTP(ctx context.Context, mobile string, code recognition.OTPCode) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// The platform sends only to E.164 numbers: "+" and digits.
	if strings.ContainsAny(mobile, `/\.`) || mobile == "" {
		return "", fmt.Errorf("otp outbox: %q is not a mobile number", mobile)
	}
	if err := atomicfile.Write(filepath.Join(o.dir, mobile+".otp"), []byte(code.Reveal()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("otp outbox: %w", err)
	}
	return "file", nil
}
