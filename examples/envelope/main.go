// Command envelope writes a sample envelope of activation codes: the
// codes.p7m (CMS, RFC 3211 password recipient) and codes.pdf (AES-256) a
// holder receives by mail, and prints each code on its own line as
// "name: code".
//
// Usage:
//
//	go run ./examples/envelope -passphrase P -out DIR
//	go run ./examples/envelope -tax-code RSSMRA85T10A562S -scheme device -out DIR
//
// Open the results with standard tools:
//
//	openssl cms -decrypt -inform DER -in DIR/codes.p7m -pwri_password P
//	pdftotext -upw P DIR/codes.pdf -
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/registra-pki/registra/envelope"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("envelope", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pass := fs.String("passphrase", "", "custom passphrase (printable ASCII, at least 12 characters)")
	taxCode := fs.String("tax-code", "", "use the holder's tax code as the passphrase (normalised to upper case)")
	out := fs.String("out", "", "directory to write codes.p7m and codes.pdf into (created if missing)")
	schemeName := fs.String("scheme", "remote", "product kind: remote (signing PIN, emergency code) or device (PIN, PUK, emergency code)")
	iterations := fs.Int("iterations", 0, "PBKDF2 iterations for the .p7m (0 = the default, 600000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("envelope: -out is required and no arguments are taken")
	}
	var scheme envelope.Scheme
	switch *schemeName {
	case "remote":
		scheme = envelope.RemoteSignature
	case "device":
		scheme = envelope.DeviceSignature
	default:
		return fmt.Errorf("envelope: -scheme: must be remote or device")
	}
	passphrase, err := envelope.PassphrasePolicy{}.Choose(envelope.PassphraseRequest{
		TaxCode: *taxCode,
		Custom:  envelope.Passphrase(*pass),
		Confirm: envelope.Passphrase(*pass),
	})
	if err != nil {
		return err
	}

	codes, err := scheme.Generate(nil)
	if err != nil {
		return err
	}
	cms, err := envelope.NewCMS(envelope.CMSConfig{Iterations: *iterations})
	if err != nil {
		return err
	}
	pdf, err := envelope.NewPDF(envelope.PDFConfig{})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	for _, s := range []envelope.Sealer{cms, pdf} {
		e, err := s.Seal(ctx, codes, passphrase)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, e.FileName), e.Data, 0o600); err != nil {
			return err
		}
	}
	for _, c := range codes {
		// The one place codes are printed: this is a demonstration tool.
		if _, err := fmt.Fprintf(stdout, "%s: %s\n", c.Name, string(c.Code)); err != nil {
			return err
		}
	}
	return nil
}
