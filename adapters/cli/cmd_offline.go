package cli

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/internal/atomicfile"
	"github.com/registra-pki/registra/recognition"
)

// offlineFlags are the inputs of `registra recognition offline`.
type offlineFlags struct {
	uploads                    []string
	sealCert, sealKey          string
	role                       string
	officerID, officerGiven    string
	officerSurname, officerTax string
	officerRole                string
	out                        string
}

func newRecognitionOffline(e *env) *cobra.Command {
	var f offlineFlags
	c := &cobra.Command{
		Use:   "offline ORDER",
		Short: "Verify an in-person recognition's uploads, seal the evidence and record it",
		Long: `offline is the recognition station's step for the Offline method: the applicant
was seen in person and signed the paper form. It reads the order's applicant
and the logged-in operator from the API, runs package recognition's Offline
verifier over the uploads (--upload KIND=FILE: document_front, document_back
or document_both, signed_paper_form, recognition_report or signed_report),
seals the evidence with the station's evidence key (--seal-cert, --seal-key,
PEM; the certificate must chain to the platform's evidence roots) and records
it on the order. --out also keeps the sealed bundle.

An operator who did not recognise the applicant names the recognising officer
(--officer-id, --officer-given-name, --officer-surname, --officer-tax-code,
--officer-role).`,
		Example: `  registra recognition offline ORDER --upload document_front=front.jpg --upload document_back=back.jpg \
      --upload signed_paper_form=form.pdf --upload recognition_report=report.pdf \
      --seal-cert evidence.pem --seal-key evidence.key --out evidence.bin`,
		Args: exactArgs("ORDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			uploads, err := e.readUploads(f.uploads)
			if err != nil {
				return err
			}
			sealer, err := loadSealer(f.sealCert, f.sealKey, e)
			if err != nil {
				return err
			}
			c, err := e.apiClient()
			if err != nil {
				return err
			}
			var o wireOrder
			if _, err := c.do(ctx, get(path("v1", "orders", args[0])), &o); err != nil {
				return errorf("reading the order", err)
			}
			var me wireActor
			if _, err := c.do(ctx, get("/v1/sessions/current"), &me); err != nil {
				return errorf("reading the session", err)
			}
			role, err := actingRole(f.role, me.Roles)
			if err != nil {
				return err
			}
			a := o.Input.Applicant
			sub := recognition.Submission{OrderID: o.ID,
				Applicant: recognition.Applicant{TaxCode: a.TaxCode, GivenName: a.FirstName, Surname: a.Surname,
					DateOfBirth: a.BirthDate, PlaceOfBirth: a.BirthPlace, Email: a.Email, Mobile: a.Mobile},
				Operator: recognition.Operator{ID: me.ID, Name: me.ID, Role: role, Org: me.Org, Unit: o.Unit},
				Consents: []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: a.PrivacyConsent}},
				Uploads:  uploads}
			if f.officerID != "" {
				sub.Officer = &recognition.Officer{ID: f.officerID, GivenName: f.officerGiven, Surname: f.officerSurname,
					TaxCode: f.officerTax, Role: recognition.Role(f.officerRole)}
			}
			v, err := recognition.NewOffline(recognition.OfflineConfig{Now: e.cfg.Now, Logger: e.logger()})
			if err != nil {
				return err
			}
			ev, err := v.Verify(ctx, sub)
			if err != nil {
				return errorf("offline recognition", err)
			}
			sealed, err := sealer.Seal(ctx, &ev)
			if err != nil {
				return errorf("sealing the evidence", err)
			}
			bundle, err := sealed.MarshalBinary()
			if err != nil {
				return err
			}
			if f.out != "" {
				if err := atomicfile.Write(f.out, bundle, 0o600); err != nil {
					return err
				}
			}
			r := post(path("v1", "orders", o.ID, "recognition"), &multipartBody{files: []formFile{{field: "bundle", name: "bundle.bin", data: bundle}}})
			var rec wireOrder
			return e.callWith(ctx, c, r, &rec, func(w io.Writer) error { return printOrder(w, &rec) })
		},
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.uploads, "upload", nil, "an artefact, KIND=FILE (repeat for each)")
	fl.StringVar(&f.sealCert, "seal-cert", "", "PEM evidence-sealing certificate, followed by its chain")
	fl.StringVar(&f.sealKey, "seal-key", "", "PEM private key of the evidence-sealing certificate")
	fl.StringVar(&f.role, "role", "", "the role you act in: operator, ir, rao or master_rao (default: your highest)")
	fl.StringVar(&f.officerID, "officer-id", "", "the recognising officer's operator ID, when you upload for them")
	fl.StringVar(&f.officerGiven, "officer-given-name", "", "the recognising officer's given name")
	fl.StringVar(&f.officerSurname, "officer-surname", "", "the recognising officer's surname")
	fl.StringVar(&f.officerTax, "officer-tax-code", "", "the recognising officer's tax code")
	fl.StringVar(&f.officerRole, "officer-role", "", "the recognising officer's role: ir, rao or master_rao")
	fl.StringVar(&f.out, "out", "", "also write the sealed bundle to this file")
	return c
}

// readUploads reads KIND=FILE arguments.
func (e *env) readUploads(specs []string) ([]recognition.Upload, error) {
	if len(specs) == 0 {
		return nil, usagef("--upload is required: KIND=FILE for each artefact")
	}
	var out []recognition.Upload
	for _, s := range specs {
		kind, file, ok := strings.Cut(s, "=")
		if !ok || kind == "" || file == "" {
			return nil, usagef("--upload: %q is not KIND=FILE", s)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usagef("--upload: %v", err)
		}
		out = append(out, recognition.Upload{Kind: recognition.ArtefactKind(kind), Name: filepath.Base(file), Data: b})
	}
	return out, nil
}

// actingRole returns the recognition role the operator acts in: the one
// asked for, which the operator must hold, or the highest one held.
func actingRole(asked string, held []string) (recognition.Role, error) {
	order := []recognition.Role{recognition.RoleMasterRAO, recognition.RoleRAO, recognition.RoleIR, recognition.RoleOperator}
	if asked != "" {
		if !slices.Contains(held, asked) {
			return "", usagef("--role: you do not hold the role %q (you hold %s)", asked, strings.Join(held, ", "))
		}
		return recognition.Role(asked), nil
	}
	for _, r := range order {
		if slices.Contains(held, string(r)) {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: none of your roles (%s) takes part in recognition", recognition.ErrInvalidInput, strings.Join(held, ", "))
}

// loadSealer reads the evidence-sealing certificate (with its chain) and key.
func loadSealer(certFile, keyFile string, e *env) (*recognition.Sealer, error) {
	if err := required("seal-cert", certFile); err != nil {
		return nil, err
	}
	if err := required("seal-key", keyFile); err != nil {
		return nil, err
	}
	cb, err := os.ReadFile(certFile)
	if err != nil {
		return nil, usagef("--seal-cert: %v", err)
	}
	var certs []*x509.Certificate
	for blk, rest := pem.Decode(cb); blk != nil; blk, rest = pem.Decode(rest) {
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, usagef("--seal-cert: %v", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, usagef("--seal-cert: %s holds no PEM certificate", certFile)
	}
	kb, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, usagef("--seal-key: %v", err)
	}
	key, err := parsePrivateKey(kb)
	if err != nil {
		return nil, usagef("--seal-key: %v", err)
	}
	return recognition.NewSealer(recognition.SealerConfig{Certificate: certs[0], Chain: certs[1:], Key: key, Logger: e.logger()})
}

// parsePrivateKey reads a PEM PKCS #8, SEC 1 or PKCS #1 private key.
func parsePrivateKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("no PEM block")
	}
	var k any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key (encrypted keys are not read)", blk.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%T cannot sign", k)
	}
	return s, nil
}
