package httpapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/registra-pki/registra"
)

// DefaultShutdownTimeout bounds the graceful shutdown of [Serve].
const DefaultShutdownTimeout = 10 * time.Second

// ServerConfig configures [Serve]: the operator API and the public listener
// of one platform, as the example server and `registra serve` run them.
type ServerConfig struct {
	// Platform is the library served. Required; Serve does not close it.
	Platform *registra.Platform
	// API is the operator API's listener. Required.
	API net.Listener
	// Public is the public CA, CRL and OCSP listener (plain HTTP).
	// Required.
	Public net.Listener
	// TLS serves the operator API over TLS (see [ServerTLS]). Nil means
	// plain HTTP, for tests and TLS-terminating proxies.
	TLS *tls.Config
	// APIConfig configures the operator API; its Platform, Registerer and Logger
	// are filled from this configuration when zero.
	APIConfig Config
	// Registry gathers the metrics served at /metrics. Nil means a new
	// registry with the Go runtime and process collectors.
	Registry *prometheus.Registry
	// ShutdownTimeout bounds the graceful shutdown once ctx ends. Zero
	// means [DefaultShutdownTimeout].
	ShutdownTimeout time.Duration
	// Logger receives the servers' logs. Nil discards.
	Logger *slog.Logger
}

// Validate checks the configuration, naming every bad field.
func (c *ServerConfig) Validate() error {
	var errs []error
	if c.Platform == nil {
		errs = append(errs, &FieldError{Field: "Platform", Rule: "is required"})
	}
	if c.API == nil {
		errs = append(errs, &FieldError{Field: "API", Rule: "is required"})
	}
	if c.Public == nil {
		errs = append(errs, &FieldError{Field: "Public", Rule: "is required"})
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, &FieldError{Field: "ShutdownTimeout", Rule: "must not be negative"})
	}
	return errors.Join(errs...)
}

// Serve serves the platform until ctx ends: the operator API on cfg.API,
// the public listener on cfg.Public (CA certificates, CRLs, OCSP, /healthz,
// /metrics, /openapi.json), and the platform's time-driven work
// (registra.Platform.Run: CRL publication, suspension ends, expiry). When ctx
// ends it stops accepting requests and waits for those in flight, up to
// ShutdownTimeout. It returns the first failure of any of them. It closes
// both listeners.
func Serve(ctx context.Context, cfg ServerConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	p := cfg.Platform
	for _, c := range []prometheus.Collector{p.CRLMetrics(), p.HashMetrics()} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	ac := cfg.APIConfig
	if ac.Platform == nil {
		ac.Platform = p
	}
	if ac.Registerer == nil {
		ac.Registerer = reg
	}
	if ac.Logger == nil {
		ac.Logger = log
	}
	api, err := New(ac)
	if err != nil {
		return err
	}
	doc, err := api.OpenAPI()
	if err != nil {
		return err
	}
	pub, err := NewPublic(PublicConfig{CA: p.Hierarchy(), CRL: p.CRLHandler(), OCSP: p.OCSPHandler(),
		Health: p.Health, Metrics: reg, OpenAPI: doc, Logger: log})
	if err != nil {
		return err
	}
	errLog := slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	apiSrv := &http.Server{Handler: api, TLSConfig: cfg.TLS, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	pubSrv := &http.Server{Handler: pub, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, ErrorLog: errLog}
	apiLn := cfg.API
	if cfg.TLS != nil {
		apiLn = tls.NewListener(apiLn, cfg.TLS)
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	const loops = 3 // the two servers and the platform's scheduler
	errc := make(chan error, loops)
	go func() { errc <- serveUntilClosed(apiSrv, apiLn) }()
	go func() { errc <- serveUntilClosed(pubSrv, cfg.Public) }()
	go func() {
		if err := p.Run(runCtx); err != nil && runCtx.Err() == nil {
			errc <- err
			return
		}
		errc <- nil
	}()
	var first error
	ended := 0
	select {
	case <-ctx.Done():
	case first = <-errc:
		ended++
	}
	cancel()
	sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer stop()
	err = errors.Join(first, apiSrv.Shutdown(sctx), pubSrv.Shutdown(sctx))
	// The scheduler may be publishing a CRL: wait for every loop, so that
	// nothing uses the platform once Serve returns and its caller closes it.
	for ; ended < loops; ended++ {
		select {
		case e := <-errc:
			err = errors.Join(err, e)
		case <-sctx.Done():
			return errors.Join(err, fmt.Errorf("httpapi: shutdown: %w", sctx.Err()))
		}
	}
	return err
}

// serveUntilClosed runs srv on ln until it is shut down.
func serveUntilClosed(srv *http.Server, ln net.Listener) error {
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
