package cli

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/recognition"
)

// evidenceReport is what `registra evidence verify --json` prints.
type evidenceReport struct {
	Verified    bool                  `json:"verified"`
	Failed      []string              `json:"failed,omitempty"`
	SigningTime string                `json:"signing_time,omitempty"`
	Sealer      string                `json:"sealer,omitempty"`
	Manifest    *recognition.Manifest `json:"manifest,omitempty"`
}

func newEvidence(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "evidence",
		Short:   "Check sealed recognition evidence",
		Example: "  registra evidence verify bundle.bin --data ./registra-data",
		Args:    exactArgs(),
	}
	var roots, data string
	v := &cobra.Command{
		Use:   "verify BUNDLE",
		Short: "Verify a sealed evidence bundle offline",
		Long: `verify checks a sealed recognition evidence bundle from the bundle and the
trust anchors alone: the CMS signature over the manifest, the sealer's chain at
the signing time, the manifest's canonical form, and the SHA-256 and size of
every artefact. It prints the manifest (method, order, applicant, operator,
checks) and exits 1 listing every failed check when the bundle does not
verify.

The trust anchors are the PEM certificates of --roots, or the root CA of the
data directory given with --data.`,
		Example: "  registra evidence verify bundle.bin --roots evidence-roots.pem\n  registra evidence verify bundle.bin --data ./registra-data --json",
		Args:    exactArgs("BUNDLE"),
		RunE: func(_ *cobra.Command, args []string) error {
			pool, err := e.trustAnchors(roots, data)
			if err != nil {
				return err
			}
			b, err := e.readInput("BUNDLE", args[0])
			if err != nil {
				return err
			}
			sealed, err := recognition.ParseSealed(b)
			if err != nil {
				return errorf("reading "+args[0], err)
			}
			vb, verr := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: pool})
			rep := evidenceReport{Verified: verr == nil}
			if ve, ok := errors.AsType[*recognition.VerificationError](verr); ok {
				for _, c := range ve.Failed {
					rep.Failed = append(rep.Failed, c.Error())
				}
			} else if verr != nil {
				rep.Failed = []string{verr.Error()}
			}
			if vb != nil {
				rep.Manifest, rep.SigningTime = vb.Manifest, ts(vb.SigningTime)
				if vb.Sealer != nil {
					rep.Sealer = vb.Sealer.Subject.String()
				}
			}
			if err := e.out.emit(rep, func(w io.Writer) error { return printEvidence(w, rep) }); err != nil {
				return err
			}
			return errorf("evidence bundle does not verify", verr)
		},
	}
	v.Flags().StringVar(&roots, "roots", "", "PEM file of the evidence-sealing trust anchors")
	v.Flags().StringVar(&data, "data", "", "data directory whose root CA is the trust anchor (when --roots is not given)")
	c.AddCommand(v)
	return c
}

// trustAnchors reads the PEM certificates of roots, or the root CA of data.
func (e *env) trustAnchors(roots, data string) (*x509.CertPool, error) {
	flag := "roots"
	if roots == "" {
		if data == "" {
			return nil, usagef("--roots or --data is required")
		}
		roots, flag = filepath.Join(data, "ca", ca.RootFile), "data"
	}
	b, err := os.ReadFile(roots)
	if err != nil {
		return nil, usagef("--%s: %v", flag, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, usagef("--%s: %s holds no PEM certificate", flag, roots)
	}
	return pool, nil
}

func printEvidence(w io.Writer, r evidenceReport) error {
	if r.Verified {
		fprintf(w, "evidence bundle verified\n\n")
	} else {
		fprintf(w, "evidence bundle does NOT verify:\n")
		for _, f := range r.Failed {
			fprintf(w, "  - %s\n", oneLine(f))
		}
		fprintf(w, "\n")
	}
	m := r.Manifest
	if m == nil {
		return nil
	}
	officer := ""
	if m.Officer != nil {
		officer = joinNonEmpty(" ", m.Officer.GivenName, m.Officer.Surname, "("+string(m.Officer.Role)+")")
	}
	if err := kv(w, "Method", m.Method.String(), "Order", m.OrderID, "Product", m.ProductID,
		"Applicant", joinNonEmpty(" ", m.Applicant.GivenName, m.Applicant.Surname, m.Applicant.TaxCode),
		"Operator", joinNonEmpty(" ", m.Operator.ID, "("+string(m.Operator.Role)+")", m.Operator.Org, m.Operator.Unit),
		"Officer", officer, "Started", ts(m.StartedAt), "Completed", ts(m.CompletedAt),
		"Sealed", r.SigningTime, "Sealer", r.Sealer, "Usage limited", fmt.Sprint(m.UsageLimited)); err != nil {
		return err
	}
	if len(m.Artefacts) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "ARTEFACT", "TYPE", "SIZE", "SHA-256")
		for _, a := range m.Artefacts {
			t.AppendRow([]any{a.Kind, a.MediaType, a.Size, a.SHA256.String()})
		}
		render(w, t)
	}
	if len(m.Checks) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "CHECK", "RESULT", "SUBJECT", "DETAIL")
		for _, c := range m.Checks {
			t.AppendRow([]any{c.Name, c.Result, c.Subject, c.Detail})
		}
		render(w, t)
	}
	return nil
}
