// Command registra administers a registra PKI data directory and drives the
// operator API of a running platform from the shell. It is a thin main over
// package adapters/cli, which documents the commands and exit codes; this
// file wires the adapters the command tree may not import itself: the PKCS
// #11 key manager (adapters/hsm) for `registra init --hsm`.
//
//	registra init --data ./registra-data
//	registra login --server https://127.0.0.1:8443 --ca-file ./registra-data/tls/ca.pem --username admin
//	registra --help
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/registra-pki/registra/adapters/cli"
	"github.com/registra-pki/registra/adapters/hsm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, config(), os.Args[1:])
	stop()
	os.Exit(code)
}

// config is the command tree's configuration for this process.
func config() cli.Config {
	return cli.Config{
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Keys:    openHSM,
		Serve:   serve,
		Version: version(),
	}
}

// version is the module version the binary was built from.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return ""
}

// openHSM opens the PKCS #11 token named by a pkcs11: configuration URI
// (hsm.ParseConfigURI) and names the CA and holder keys in it as the example
// server does, so that a directory made by `registra init --hsm` serves with
// the same settings.
func openHSM(ctx context.Context, uri string, log *slog.Logger) (*cli.Keys, error) {
	cfg, err := hsm.ParseConfigURI(uri)
	if err != nil {
		return nil, err
	}
	cfg.Logger = log
	tok, err := hsm.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	names := hsm.DefaultPlatformKeyNames()
	return &cli.Keys{
		Manager:         tok,
		CAKeyNames:      names.CA,
		HolderKeyName:   hsm.HolderKeyName,
		EvidenceKeyName: names.Evidence,
		Close:           tok.Close,
	}, nil
}
