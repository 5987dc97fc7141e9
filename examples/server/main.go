// Command server runs a registra partner platform: the operator API over
// HTTPS and the public CA, CRL and OCSP endpoints over HTTP, on embedded
// defaults (a single-node store and software keys in the data directory).
//
//	go run ./examples/server [-data DIR] [-addr HOST:PORT] [-public-addr HOST:PORT]
//
// The first start creates the CA hierarchy, a TLS certificate for the API
// from the platform's own CA (DATA/tls), a demo organisation with one unit,
// and an admin operator whose credentials go to DATA/bootstrap.json (mode
// 0600: username, password and the base32 TOTP secret); it prints the
// otpauth URI once. Later starts reuse everything. SIGINT or SIGTERM shut it
// down gracefully.
//
// Recognition methods beyond Offline are enabled by their flags
// (registra.RecognitionFiles, shared with `registra serve`): -qualified-roots, -crls and -clamd for Sign ID and Live
// ID, -otp-outbox for the applicant's OTP form signature (Live ID, Video ID,
// SPID), -video-provider and -video-key-file for Video ID, and
// -spid-idp-metadata, -spid-key, -spid-cert (-spid-entity-id,
// -spid-acs-url) for SPID.
//
// Every flag has an environment variable: REGISTRA_DATA, REGISTRA_ADDR,
// REGISTRA_PUBLIC_ADDR, REGISTRA_PUBLIC_URL, REGISTRA_HSM_MODULE,
// REGISTRA_HSM_TOKEN, REGISTRA_HSM_PIN_ENV, REGISTRA_EVIDENCE_ROOTS,
// REGISTRA_LOG_LEVEL, REGISTRA_QUALIFIED_ROOTS, REGISTRA_CRLS,
// REGISTRA_CLAMD, REGISTRA_OTP_OUTBOX, REGISTRA_VIDEO_PROVIDER,
// REGISTRA_VIDEO_KEY_FILE, REGISTRA_SPID_IDP_METADATA,
// REGISTRA_SPID_ENTITY_ID, REGISTRA_SPID_ACS_URL, REGISTRA_SPID_KEY and
// REGISTRA_SPID_CERT; a flag wins over its variable.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/adapters/hsm"
	httpapi "github.com/registra-pki/registra/adapters/http"
	"github.com/registra-pki/registra/internal/atomicfile"
)

// BootstrapFile is the name, in the data directory, of the first admin's
// credentials.
const BootstrapFile = "bootstrap.json"

// Demo organisation created on first start.
const (
	demoOrg   = "DEMO"
	demoUnit  = "main"
	adminUser = "admin"
)

// serverCertNames are the DNS names of the API's TLS certificate: the
// ServerTLS profile carries DNS names only, so clients of a loopback server
// connect to "localhost" (curl https://localhost:8443 --cacert DATA/tls/ca.pem).
var serverCertNames = []string{"localhost"}

// options are the parsed flags.
type options struct {
	data, addr, publicAddr, publicURL string
	insecure                          bool
	hsmModule, hsmToken, hsmPINEnv    string
	logLevel                          slog.Level
	rec                               registra.RecognitionFiles
}

// bootstrap is the content of DATA/bootstrap.json.
type bootstrap struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	TOTPSecret string `json:"totp_secret"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "registra:", err)
		stop()
		os.Exit(1)
	}
}

// parse reads the flags, with environment variables as defaults.
func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	var o options
	fl := flag.NewFlagSet("server", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&o.data, "data", env("REGISTRA_DATA", "./registra-data"), "data directory (store, CA, keys, credentials)")
	fl.StringVar(&o.addr, "addr", env("REGISTRA_ADDR", "127.0.0.1:8443"), "address of the operator API (HTTPS)")
	fl.StringVar(&o.publicAddr, "public-addr", env("REGISTRA_PUBLIC_ADDR", "127.0.0.1:8080"), "address of the public CA, CRL and OCSP endpoints (HTTP)")
	fl.StringVar(&o.publicURL, "public-url", env("REGISTRA_PUBLIC_URL", ""), "base URL of the public endpoints written into certificates (default http://PUBLIC-ADDR)")
	fl.BoolVar(&o.insecure, "insecure-http", false, "serve the operator API over plain HTTP (tests and TLS-terminating proxies only)")
	fl.StringVar(&o.hsmModule, "hsm-module", env("REGISTRA_HSM_MODULE", ""), "PKCS#11 module path; empty means software keys")
	fl.StringVar(&o.hsmToken, "hsm-token", env("REGISTRA_HSM_TOKEN", ""), "PKCS#11 token label")
	fl.StringVar(&o.hsmPINEnv, "hsm-pin-env", env("REGISTRA_HSM_PIN_ENV", "REGISTRA_HSM_PIN"), "environment variable holding the token's user PIN")
	o.rec.RegisterFlags(fl, env)
	level := fl.String("log-level", env("REGISTRA_LOG_LEVEL", "info"), "log level: debug, info, warn or error")
	if err := fl.Parse(args); err != nil {
		return o, err
	}
	if fl.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %q", fl.Args())
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return o, fmt.Errorf("-log-level: %w", err)
	}
	if o.publicURL == "" {
		o.publicURL = "http://" + o.publicAddr
	}
	return o, nil
}

// apiBase is the operator API's base URL as a browser on this machine
// reaches it (the TLS certificate names localhost).
func (o options) apiBase() string {
	scheme := "https"
	if o.insecure {
		scheme = "http"
	}
	_, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		return scheme + "://" + o.addr
	}
	return scheme + "://localhost:" + port
}

// run starts the platform and serves until ctx ends.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}

	cfg := registra.Config{Dir: o.data, PublicURL: o.publicURL, Logger: log}
	if err := o.rec.Apply(&cfg, o.apiBase()); err != nil {
		return err
	}
	if o.hsmModule != "" {
		tok, err := hsm.Open(ctx, hsm.Config{ModulePath: o.hsmModule, TokenLabel: o.hsmToken, PINEnv: o.hsmPINEnv, Logger: log})
		if err != nil {
			return err
		}
		defer tok.Close() //nolint:errcheck // closing at exit
		cfg.KeyManager = tok
		names := hsm.DefaultPlatformKeyNames()
		cfg.CAKeyNames, cfg.EvidenceKeyName, cfg.HolderKeyName = names.CA, names.Evidence, hsm.HolderKeyName
	}
	p, err := registra.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close() //nolint:errcheck // closing at exit; acknowledged writes are already durable

	if err := firstStart(ctx, p, o.data, o.addr, stdout); err != nil {
		return err
	}

	apiLn, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	pubLn, err := net.Listen("tcp", o.publicAddr)
	if err != nil {
		apiLn.Close() //nolint:errcheck // the listen error is reported
		return err
	}
	sc := httpapi.ServerConfig{Platform: p, API: apiLn, Public: pubLn, Logger: log}
	scheme := "http"
	if !o.insecure {
		if sc.TLS, err = httpapi.ServerTLS(ctx, p, httpapi.ServerTLSConfig{Dir: filepath.Join(o.data, "tls"),
			Names: serverCertNames, PublicURL: o.publicURL}); err != nil {
			return err
		}
		scheme = "https"
	}
	fmt.Fprintf(stdout, "registra: operator API on %s://%s\n", scheme, apiLn.Addr())
	fmt.Fprintf(stdout, "registra: public CA, CRL and OCSP on http://%s\n", pubLn.Addr())
	log.Info("serving", "api", apiLn.Addr().String(), "public", pubLn.Addr().String(), "data", o.data)
	err = httpapi.Serve(ctx, sc)
	log.Info("stopped")
	return err
}

// firstStart bootstraps a platform without operators: the demo organisation,
// its unit and an admin whose credentials go to DATA/bootstrap.json. It
// prints how to log in once; later starts only say where the file is.
func firstStart(ctx context.Context, p *registra.Platform, dir, addr string, stdout io.Writer) error {
	path := filepath.Join(dir, BootstrapFile)
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(stdout, "registra: admin credentials in %s\n", path)
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return err
	}
	b := bootstrap{Username: adminUser, Password: base64.RawURLEncoding.EncodeToString(pw)}
	enr, err := p.Bootstrap(ctx, registra.BootstrapInput{
		Organisation: registra.Organisation{ClientCode: demoOrg, Name: "Demo partner",
			Units: []registra.Unit{{ID: demoUnit, Name: "Main office"}}},
		Admin: registra.OperatorInput{Username: adminUser, Name: "Platform admin", Email: "admin@registra.example",
			Roles: []access.Role{access.RoleAdmin}, Unit: demoUnit, Password: access.Password(b.Password)},
	})
	if errors.Is(err, registra.ErrConflict) {
		fmt.Fprintf(stdout, "registra: the platform already has operators and %s is missing: use their credentials\n", path)
		return nil
	}
	if err != nil {
		return err
	}
	b.TOTPSecret = enr.Secret.Reveal()
	j, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, append(j, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registra: created organisation %s and admin %q; credentials in %s (mode 0600)\n", demoOrg, adminUser, path)
	fmt.Fprintf(stdout, "registra: add the admin's TOTP to an authenticator app: %s\n", enr.URI.Reveal())
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "registra: log in: curl --cacert %s -d '{\"username\":\"%s\",\"password\":\"<from %s>\",\"otp\":\"<code>\"}' https://localhost:%s/v1/sessions\n",
		filepath.Join(dir, "tls", "ca.pem"), adminUser, BootstrapFile, port)
	return nil
}
