package cli

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/lifecycle"
)

// passphraseFlags choose the envelope passphrase: the holder's tax code, or
// one the RAO sets.
type passphraseFlags struct {
	taxCode bool
	file    string
}

func (f *passphraseFlags) bind(c *cobra.Command) {
	c.Flags().BoolVar(&f.taxCode, "tax-code-passphrase", false, "seal the envelope with the holder's tax code")
	c.Flags().StringVar(&f.file, "passphrase-file", "", "file holding the envelope passphrase (\"-\": a line of standard input); prompted for twice when absent")
}

// read returns the passphrase choice.
func (f *passphraseFlags) read(e *env) (wirePassphrase, error) {
	if f.taxCode {
		if f.file != "" {
			return wirePassphrase{}, usagef("--tax-code-passphrase and --passphrase-file exclude each other")
		}
		return wirePassphrase{UseTaxCode: true}, nil
	}
	if f.file == "" && !e.stdinIsTerminal() {
		return wirePassphrase{}, usagef("--tax-code-passphrase or --passphrase-file is required")
	}
	p, err := e.secret("passphrase-file", f.file, "Envelope passphrase")
	if err != nil {
		return wirePassphrase{}, err
	}
	confirm := p
	if f.file == "" {
		if confirm, err = e.secret("passphrase-file", "", "Envelope passphrase again"); err != nil {
			return wirePassphrase{}, err
		}
	}
	return wirePassphrase{Custom: p, Confirm: confirm}, nil
}

// publicationFlag checks a --publication value against lifecycle's modes.
func publicationFlag(v string) error {
	if v == "" {
		return nil
	}
	if _, err := lifecycle.ParsePublication(v); err != nil {
		return usagef("--publication: %q: use normal (CRL within 24 h) or immediate (within 1 h)", v)
	}
	return nil
}

// readContract reads a --contract file; empty means none.
func (e *env) readContract(file string) ([]byte, error) {
	if file == "" {
		return nil, nil
	}
	return e.readInput("contract", file)
}

func newIssue(e *env) *cobra.Command {
	var pf passphraseFlags
	var csr string
	c := &cobra.Command{
		Use:   "issue ORDER",
		Short: "Issue the product of a recognised order (RAO; to_issue → active)",
		Long: `issue issues the order's product: remote signature products get their key in
the platform's key manager; on-device products send the device's CSR (--csr).
The activation codes are sealed in an envelope with the holder's tax code
(--tax-code-passphrase) or a passphrase the RAO sets (--passphrase-file, or
prompted for twice).`,
		Example: "  registra issue ORDER --tax-code-passphrase\n  registra issue ORDER --passphrase-file pass.txt --csr device.csr --json",
		Args:    exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var body struct {
				CSR        string         `json:"csr,omitempty"`
				Passphrase wirePassphrase `json:"passphrase"`
			}
			if csr != "" {
				b, err := e.readInput("csr", csr)
				if err != nil {
					return err
				}
				body.CSR = string(b)
			}
			var err error
			if body.Passphrase, err = pf.read(e); err != nil {
				return err
			}
			var p wireProduct
			return e.call(cmd.Context(), post(path("v1", "orders", args[0], "issue"), body), &p, func(w io.Writer) error { return printProduct(w, &p) })
		},
	}
	pf.bind(c)
	c.Flags().StringVar(&csr, "csr", "", "PEM PKCS #10 request made on the holder's device (on-device products)")
	return c
}

func newSuspend(e *env) *cobra.Command {
	var until, notes, contract, publication string
	c := &cobra.Command{
		Use:   "suspend PRODUCT",
		Short: "Suspend a product until a date (RAO; active → suspended)",
		Long: `suspend puts an active product on hold until --until (a date, meaning its
start in UTC, or an RFC 3339 time). The certificate is listed with reason
certificateHold on the next CRL (normal: within 24 h; immediate: within 1 h)
and becomes valid again by itself at the end date.`,
		Example: "  registra suspend PRODUCT --until 2026-12-31 --notes \"lost phone\" --contract contract.pdf\n  registra suspend PRODUCT --until 2026-12-31T18:00:00Z --publication immediate",
		Args:    exactArgs("PRODUCT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("until", until); err != nil {
				return err
			}
			end, err := parseWhen(until)
			if err != nil {
				return usagef("--until: %v", err)
			}
			if err := publicationFlag(publication); err != nil {
				return err
			}
			body := struct {
				End         time.Time `json:"end"`
				Notes       string    `json:"notes,omitempty"`
				Contract    []byte    `json:"contract,omitempty"`
				Publication string    `json:"publication,omitempty"`
			}{End: end, Notes: notes, Publication: publication}
			if body.Contract, err = e.readContract(contract); err != nil {
				return err
			}
			var p wireProduct
			return e.call(cmd.Context(), post(path("v1", "products", args[0], "suspend"), body), &p, func(w io.Writer) error { return printProduct(w, &p) })
		},
	}
	c.Flags().StringVar(&until, "until", "", "end of the suspension: YYYY-MM-DD or an RFC 3339 time")
	c.Flags().StringVar(&notes, "notes", "", "reasons of the suspension")
	c.Flags().StringVar(&contract, "contract", "", "the signed suspension contract to attach")
	c.Flags().StringVar(&publication, "publication", "", "CRL publication: normal (within 24 h, default) or immediate (within 1 h)")
	return c
}

// parseWhen reads a date (midnight UTC) or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor an RFC 3339 time", s)
	}
	return t, nil
}

func newReactivate(e *env) *cobra.Command {
	var publication string
	c := &cobra.Command{
		Use:     "reactivate PRODUCT",
		Short:   "End a suspension early (RAO; suspended → active)",
		Example: "  registra reactivate PRODUCT\n  registra reactivate PRODUCT --publication immediate",
		Args:    exactArgs("PRODUCT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := publicationFlag(publication); err != nil {
				return err
			}
			body := struct {
				Publication string `json:"publication,omitempty"`
			}{publication}
			var p wireProduct
			return e.call(cmd.Context(), post(path("v1", "products", args[0], "reactivate"), body), &p, func(w io.Writer) error { return printProduct(w, &p) })
		},
	}
	c.Flags().StringVar(&publication, "publication", "", "CRL publication: normal (within 24 h) or immediate (within 1 h)")
	return c
}

func newRevoke(e *env) *cobra.Command {
	var requester, motivation, publication, notes, contract string
	var names []string
	for _, m := range lifecycle.Motivations() {
		names = append(names, m.String())
	}
	var reqNames []string
	for _, r := range lifecycle.Requesters() {
		reqNames = append(reqNames, r.String())
	}
	c := &cobra.Command{
		Use:   "revoke PRODUCT",
		Short: "Revoke a product permanently (RAO; active or suspended → revoked)",
		Long: `revoke revokes an active or suspended product for good. The requester and
the motivation decide which motivations are allowed and the default CRL
publication (a key compromise is always immediate). Contract withdrawal needs
the withdrawn contract (--contract).

Requesters: ` + strings.Join(reqNames, ", ") + `
Motivations: ` + strings.Join(names, ", "),
		Example: "  registra revoke PRODUCT --requester owner --motivation key_compromise\n  registra revoke PRODUCT --requester owner --motivation contract_withdrawal --contract withdrawal.pdf --publication normal",
		Args:    exactArgs("PRODUCT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("requester", requester); err != nil {
				return err
			}
			if err := required("motivation", motivation); err != nil {
				return err
			}
			if _, err := lifecycle.ParseRequester(requester); err != nil {
				return usagef("--requester: %q: use %s", requester, strings.Join(reqNames, ", "))
			}
			if _, err := lifecycle.ParseMotivation(motivation); err != nil {
				return usagef("--motivation: %q: use %s", motivation, strings.Join(names, ", "))
			}
			if err := publicationFlag(publication); err != nil {
				return err
			}
			body := struct {
				Requester   string `json:"requester"`
				Motivation  string `json:"motivation"`
				Publication string `json:"publication,omitempty"`
				Notes       string `json:"notes,omitempty"`
				Contract    []byte `json:"contract,omitempty"`
			}{Requester: requester, Motivation: motivation, Publication: publication, Notes: notes}
			var err error
			if body.Contract, err = e.readContract(contract); err != nil {
				return err
			}
			var p wireProduct
			return e.call(cmd.Context(), post(path("v1", "products", args[0], "revoke"), body), &p, func(w io.Writer) error { return printProduct(w, &p) })
		},
	}
	c.Flags().StringVar(&requester, "requester", "", "who asks: "+strings.Join(reqNames, ", "))
	c.Flags().StringVar(&motivation, "motivation", "", "why: "+strings.Join(names, ", "))
	c.Flags().StringVar(&publication, "publication", "", "CRL publication: normal or immediate (default: as the requester and motivation give)")
	c.Flags().StringVar(&notes, "notes", "", "notes")
	c.Flags().StringVar(&contract, "contract", "", "the withdrawn contract (required for contract withdrawal)")
	return c
}

func newProduct(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "product",
		Short:   "Show products",
		Example: "  registra product get PRODUCT",
		Args:    exactArgs(),
	}
	var certOut string
	g := &cobra.Command{
		Use:     "get PRODUCT|ORDER",
		Short:   "Show a product: status, certificates, suspension or revocation, envelopes",
		Example: "  registra product get PRODUCT\n  registra product get ORDER --certificate-out holder.pem",
		Args:    exactArgs("PRODUCT|ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var p wireProduct
			if err := e.call(cmd.Context(), get(path("v1", "products", args[0])), &p, func(w io.Writer) error { return printProduct(w, &p) }); err != nil {
				return err
			}
			if certOut == "" {
				return nil
			}
			var pems strings.Builder
			for _, c := range p.Certificates {
				pems.WriteString(c.PEM)
			}
			return os.WriteFile(certOut, []byte(pems.String()), 0o644)
		},
	}
	g.Flags().StringVar(&certOut, "certificate-out", "", "also write the product's certificates (PEM) to this file")
	c.AddCommand(g)
	return c
}

func newCatalogue(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "catalogue",
		Short:   "List the product catalogue",
		Example: "  registra catalogue\n  registra catalogue --json | jq -r '.products[].id'",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out struct {
				Products []wireProductType `json:"products"`
			}
			return e.call(cmd.Context(), get("/v1/catalogue"), &out, func(w io.Writer) error {
				t := newTable(w, "ID", "NAME", "KEY", "PROFILE", "METHODS", "DURATIONS")
				for _, p := range out.Products {
					var ms []string
					for _, m := range p.Methods {
						ms = append(ms, m.Method)
					}
					var ds []string
					for _, d := range p.Durations {
						ds = append(ds, strconv.Itoa(d)+"m")
					}
					t.AppendRow([]any{p.ID, p.Name, p.KeyOrigin, p.Profile, strings.Join(ms, ","), strings.Join(ds, ",")})
				}
				render(w, t)
				return nil
			})
		},
	}
}

func newEnvelopeResend(e *env) *cobra.Command {
	var pf passphraseFlags
	c := &cobra.Command{
		Use:     "resend PRODUCT",
		Short:   "Seal the activation codes again under a new passphrase and mail them (RAO)",
		Example: "  registra envelope resend PRODUCT --passphrase-file new-pass.txt\n  registra envelope resend PRODUCT --tax-code-passphrase",
		Args:    exactArgs("PRODUCT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			choice, err := pf.read(e)
			if err != nil {
				return err
			}
			body := struct {
				Passphrase wirePassphrase `json:"passphrase"`
			}{choice}
			var p wireProduct
			return e.call(cmd.Context(), post(path("v1", "products", args[0], "envelope-resend"), body), &p, func(w io.Writer) error { return printProduct(w, &p) })
		},
	}
	pf.bind(c)
	return c
}

func newEnvelopeGet(e *env) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:     "get PRODUCT ENVELOPE",
		Short:   "Download a product's stored envelope (ciphertext)",
		Example: "  registra envelope get PRODUCT ENVELOPE -o codes.p7m",
		Args:    exactArgs("PRODUCT", "ENVELOPE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required("output", out); err != nil {
				return err
			}
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			var raw []byte
			r := request{method: http.MethodGet, path: path("v1", "products", args[0], "envelopes", args[1])}
			if _, err := c.do(cmd.Context(), r, &raw); err != nil {
				return err
			}
			if err := os.WriteFile(out, raw, 0o600); err != nil {
				return err
			}
			return e.out.emit(map[string]any{"file": out, "bytes": len(raw)}, func(w io.Writer) error {
				fprintf(w, "wrote %s (%d bytes)\n", out, len(raw))
				return nil
			})
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write")
	return c
}

func printProduct(w io.Writer, p *wireProduct) error {
	if err := kv(w, "Product", p.ID, "Order", p.OrderID, "Status", p.Status, "Type", p.Type, "Organisation", p.Org,
		"Holder", p.HolderID, "Issued", ts(p.IssuedAt)); err != nil {
		return err
	}
	if s := p.Suspension; s != nil {
		fprintf(w, "\n")
		if err := kv(w, "Suspended", ts(s.Start), "Until", ts(s.End), "By", s.By, "Notes", s.Notes); err != nil {
			return err
		}
	}
	if r := p.Revocation; r != nil {
		fprintf(w, "\n")
		if err := kv(w, "Revoked", ts(r.RevocationTime), "Requested", ts(r.RequestedAt), "Requester", r.Requester,
			"Motivation", r.Motivation, "Reason code", strconv.Itoa(r.ReasonCode), "Publication", r.Publication, "By", r.By, "Notes", r.Notes); err != nil {
			return err
		}
	}
	if len(p.Certificates) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "SERIAL", "NOT BEFORE", "NOT AFTER")
		for _, c := range p.Certificates {
			t.AppendRow([]any{c.SerialNumber, ts(c.NotBefore), ts(c.NotAfter)})
		}
		render(w, t)
	}
	if len(p.Envelopes) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "ENVELOPE", "FORMAT", "CREATED")
		for _, en := range p.Envelopes {
			t.AppendRow([]any{en.ID, en.Format, ts(en.CreatedAt)})
		}
		render(w, t)
	}
	return nil
}
