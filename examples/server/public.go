package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/registra-pki/registra"
	httpapi "github.com/registra-pki/registra/adapters/http"
)

// publicConfig wires the platform's CA certificates, CRLs and OCSP
// responder into the public listener, with the metrics and the OpenAPI
// document.
func publicConfig(p *registra.Platform, reg *prometheus.Registry, doc []byte, log *slog.Logger) httpapi.PublicConfig {
	reg.MustRegister(p.CRLMetrics())
	return httpapi.PublicConfig{
		CA:      p.Hierarchy(),
		CRL:     p.CRLHandler(),
		OCSP:    p.OCSPHandler(),
		Health:  func(ctx context.Context) error { return health(ctx, p) },
		Metrics: reg,
		OpenAPI: doc,
		Logger:  log,
	}
}

// health reports whether the store answers: a consistent read view opens.
func health(ctx context.Context, p *registra.Platform) error {
	snap, err := p.Store().Snapshot(ctx)
	if err != nil {
		return err
	}
	snap.Close()
	return nil
}

// runPlatform runs the platform's time-driven work (CRL publication,
// suspension ends, expiry) until ctx ends.
func runPlatform(ctx context.Context, p *registra.Platform) error {
	if err := p.Run(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
