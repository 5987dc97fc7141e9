package httpapi

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths of the public listener. The CRL paths are the ones the CA writes in
// every certificate's CRL distribution point and freshest CRL extensions; the
// handler behind them must answer them.
const (
	PathRootCert   = "/ca/root.crt"
	PathIssuerCert = "/ca/issuing.crt"
	PathChain      = "/ca/chain.pem"
	PathCRL        = "/crl/issuing.crl"
	PathDeltaCRL   = "/crl/issuing-delta.crl"
	PathOCSP       = "/ocsp"
	PathHealth     = "/healthz"
	PathMetrics    = "/metrics"
	PathOpenAPI    = "/openapi.json"
)

// Certificates is where the public listener finds the CA certificates;
// *ca.Hierarchy satisfies it.
type Certificates interface {
	Root() *x509.Certificate
	Issuing() *x509.Certificate
}

// PublicConfig configures [NewPublic].
type PublicConfig struct {
	// CA gives the root and issuing certificates served under /ca/.
	// Required.
	CA Certificates
	// CRL answers GET PathCRL and PathDeltaCRL (a crl.HTTPSink). Nil
	// means those paths answer 404 until CRLs are wired.
	CRL http.Handler
	// OCSP answers OCSP requests (a crl.Responder), POST to PathOCSP and GET
	// PathOCSP + "/" + base64 request (RFC 6960 Appendix A.1); it sees the
	// path with PathOCSP stripped. Nil means 404.
	OCSP http.Handler
	// Health reports whether the platform can serve; nil means always
	// healthy. It is called with a context bounded by HealthTimeout.
	Health func(ctx context.Context) error
	// HealthTimeout bounds a health check; zero means 2 seconds.
	HealthTimeout time.Duration
	// Metrics is gathered for GET /metrics; nil means no /metrics.
	Metrics prometheus.Gatherer
	// OpenAPI is the API's OpenAPI document served at /openapi.json; nil
	// means 404.
	OpenAPI []byte
	// Logger receives failures; nil discards.
	Logger *slog.Logger
}

// Validate checks the configuration.
func (c *PublicConfig) Validate() error {
	var errs []error
	if c.CA == nil || c.CA.Root() == nil || c.CA.Issuing() == nil {
		errs = append(errs, &FieldError{Field: "CA", Rule: "is required and must hold the root and issuing certificates"})
	}
	if c.HealthTimeout < 0 {
		errs = append(errs, &FieldError{Field: "HealthTimeout", Rule: "must not be negative"})
	}
	return errors.Join(errs...)
}

// Public is the unauthenticated listener's handler. It is safe for
// concurrent use.
type Public struct {
	cfg   PublicConfig
	mux   *http.ServeMux
	chain []byte
}

// NewPublic returns the public handler.
func NewPublic(cfg PublicConfig) (*Public, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HealthTimeout == 0 {
		cfg.HealthTimeout = 2 * time.Second
	}
	p := &Public{cfg: cfg, mux: http.NewServeMux()}
	root, issuing := cfg.CA.Root(), cfg.CA.Issuing()
	// The chain from the issuing CA up, as TLS and RFC 5280 order it.
	p.chain = append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issuing.Raw}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: root.Raw})...)
	// RFC 2585 §4.1: application/pkix-cert for a DER certificate.
	p.mux.Handle("GET "+PathRootCert, static("application/pkix-cert", root.Raw))
	p.mux.Handle("GET "+PathIssuerCert, static("application/pkix-cert", issuing.Raw))
	p.mux.Handle("GET "+PathChain, static("application/pem-certificate-chain", p.chain))
	if cfg.CRL != nil {
		p.mux.Handle(PathCRL, cfg.CRL)
		p.mux.Handle(PathDeltaCRL, cfg.CRL)
	}
	p.mux.HandleFunc("GET "+PathHealth, p.health)
	if cfg.Metrics != nil {
		p.mux.Handle("GET "+PathMetrics, promhttp.HandlerFor(cfg.Metrics, promhttp.HandlerOpts{ErrorLog: slogPrinter{cfg.Logger}}))
	}
	if cfg.OpenAPI != nil {
		p.mux.Handle("GET "+PathOpenAPI, static("application/openapi+json", cfg.OpenAPI))
	}
	return p, nil
}

// ServeHTTP routes a request. OCSP GET requests carry base64, which may hold
// "//" or "+" that a ServeMux would clean and redirect, so they are routed
// before it.
func (p *Public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathOCSP || strings.HasPrefix(r.URL.Path, PathOCSP+"/") {
		if p.cfg.OCSP == nil {
			http.NotFound(w, r)
			return
		}
		http.StripPrefix(PathOCSP, p.cfg.OCSP).ServeHTTP(w, r)
		return
	}
	p.mux.ServeHTTP(w, r)
}

// health answers 200 "ok" or 503 with the failure logged.
func (p *Public) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if p.cfg.Health != nil {
		ctx, cancel := context.WithTimeout(r.Context(), p.cfg.HealthTimeout)
		defer cancel()
		if err := p.cfg.Health(ctx); err != nil {
			p.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "health check failed", slog.Any("err", err))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("unavailable\n")) // the client may have gone; nothing to do
			return
		}
	}
	_, _ = w.Write([]byte("ok\n")) // the client may have gone; nothing to do
}

// static serves fixed bytes with a content type; http.ServeContent adds
// Content-Length, range and HEAD support.
func static(contentType string, b []byte) http.Handler {
	modTime := time.Time{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeContent(w, r, "", modTime, bytes.NewReader(b))
	})
}

// slogPrinter lets promhttp report gathering errors through slog.
type slogPrinter struct{ l *slog.Logger }

// Println logs v at error level.
func (p slogPrinter) Println(v ...any) {
	p.l.Error("metrics", slog.Any("err", v))
}
