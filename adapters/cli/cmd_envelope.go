package cli

import (
	"bytes"
	"io"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/envelope"
)

// openedCode is one activation code as `registra envelope open --json`
// prints it.
type openedCode struct {
	Name string `json:"name"`
	Code string `json:"code"`
}

func newEnvelope(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "envelope",
		Short:   "Open activation-code envelopes, and resend them",
		Example: "  registra envelope open codes.p7m --passphrase-file pass.txt\n  registra envelope resend PRODUCT --passphrase-file new-pass.txt",
		Args:    exactArgs(),
	}
	c.AddCommand(newEnvelopeOpen(e), newEnvelopeResend(e), newEnvelopeGet(e))
	return c
}

func newEnvelopeOpen(e *env) *cobra.Command {
	var pass string
	c := &cobra.Command{
		Use:   "open FILE",
		Short: "Open an envelope (.p7m or PDF) and print the activation codes",
		Long: `open decrypts an activation-code envelope with its passphrase and prints the
codes. FILE is a CMS EnvelopedData .p7m with a password recipient (RFC 3211)
or a password-protected PDF made by registra; "-" reads standard input.

The passphrase comes from --passphrase-file ("-": one line of standard input),
or is prompted for on a terminal. A wrong passphrase exits 1.`,
		Example: "  registra envelope open codes.p7m --passphrase-file pass.txt\n  registra envelope open codes.pdf --passphrase-file - --json < pass.txt",
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := e.readInput("FILE", args[0])
			if err != nil {
				return err
			}
			secret, err := e.secret("passphrase-file", pass, "Passphrase")
			if err != nil {
				return err
			}
			var opener envelope.Opener
			env := &envelope.Envelope{FileName: args[0], Data: data}
			if bytes.HasPrefix(data, []byte("%PDF-")) {
				if opener, err = envelope.NewPDF(envelope.PDFConfig{Now: e.cfg.Now}); err != nil {
					return err
				}
			} else if opener, err = envelope.NewCMS(envelope.CMSConfig{}); err != nil {
				return err
			}
			codes, err := opener.Open(cmd.Context(), env, envelope.Passphrase(secret))
			if err != nil {
				return errorf("opening "+args[0], err)
			}
			out := make([]openedCode, len(codes))
			for i, c := range codes {
				out[i] = openedCode{Name: string(c.Name), Code: reveal(c.Code)}
			}
			return e.out.emit(out, func(w io.Writer) error {
				t := newTable(w, "NAME", "CODE")
				for _, c := range out {
					t.AppendRow([]any{c.Name, c.Code})
				}
				render(w, t)
				return nil
			})
		},
	}
	c.Flags().StringVar(&pass, "passphrase-file", "", "file holding the passphrase (\"-\": standard input); prompted for when absent")
	return c
}

// reveal returns a code's clear value: printing it is this command's job.
func reveal(c envelope.Code) string { return string(c) }
