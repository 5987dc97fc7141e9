package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/adapters/cli"
	httpapi "github.com/registra-pki/registra/adapters/http"
	"github.com/registra-pki/registra/ca"
)

// serverCertNames are the DNS names of the API's TLS certificate, as the
// example server issues it: clients of a loopback server connect to
// https://localhost:PORT with --ca-file DATA/tls/ca.pem.
var serverCertNames = []string{"localhost"}

// serve runs `registra serve`: the platform of a directory made by
// `registra init`, served by adapters/http's Serve (the example server's
// server) with the API's TLS certificate from adapters/http's ServerTLS.
func serve(ctx context.Context, o cli.ServeOptions) error {
	log := slog.New(slog.NewTextHandler(o.Stderr, &slog.HandlerOptions{Level: o.LogLevel}))
	if _, err := os.Stat(filepath.Join(o.Data, "ca", ca.ManifestFile)); errors.Is(err, fs.ErrNotExist) {
		return &cli.UsageError{Msg: fmt.Sprintf("--data: %s holds no CA hierarchy: run `registra init --data %s` first", o.Data, o.Data)}
	}
	apiLn, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	defer apiLn.Close() //nolint:errcheck // Serve closes it; this covers the early returns
	pubLn, err := net.Listen("tcp", o.PublicAddr)
	if err != nil {
		return err
	}
	defer pubLn.Close() //nolint:errcheck // as apiLn
	publicURL := o.PublicURL
	if publicURL == "" {
		publicURL = "http://" + pubLn.Addr().String()
	}
	scheme := "https"
	if o.InsecureHTTP {
		scheme = "http"
	}
	// The API's base URL as a browser on this machine reaches it: the TLS
	// certificate names localhost.
	apiBase := fmt.Sprintf("%s://localhost:%d", scheme, apiLn.Addr().(*net.TCPAddr).Port)
	cfg := registra.Config{Dir: o.Data, PublicURL: publicURL, Logger: log}
	if err := o.Recognition.Apply(&cfg, apiBase); err != nil {
		return &cli.UsageError{Msg: err.Error()}
	}
	if o.HSM != "" {
		keys, err := openHSM(ctx, o.HSM, log)
		if err != nil {
			return err
		}
		defer keys.Close() //nolint:errcheck // closing at exit
		cfg.KeyManager, cfg.CAKeyNames, cfg.HolderKeyName = keys.Manager, keys.CAKeyNames, keys.HolderKeyName
		cfg.EvidenceKeyName = keys.EvidenceKeyName
	}
	p, err := registra.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer p.Close() //nolint:errcheck // closing at exit; acknowledged writes are durable

	sc := httpapi.ServerConfig{Platform: p, API: apiLn, Public: pubLn, Logger: log}
	if !o.InsecureHTTP {
		if sc.TLS, err = httpapi.ServerTLS(ctx, p, httpapi.ServerTLSConfig{Dir: filepath.Join(o.Data, "tls"),
			Names: serverCertNames, PublicURL: publicURL}); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Stdout, "registra: operator API on %s://%s\n", scheme, apiLn.Addr())
	fmt.Fprintf(o.Stdout, "registra: public CA, CRL and OCSP on http://%s\n", pubLn.Addr())
	if scheme == "https" {
		fmt.Fprintf(o.Stdout, "registra: log in with: registra login --server https://localhost:%d --ca-file %s\n",
			apiLn.Addr().(*net.TCPAddr).Port, filepath.Join(o.Data, "tls", "ca.pem"))
	}
	return httpapi.Serve(ctx, sc)
}
