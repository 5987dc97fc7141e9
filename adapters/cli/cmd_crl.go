package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/crl"
)

// crlSummary is what `registra crl show --json` prints.
type crlSummary struct {
	Source             string        `json:"source"`
	Issuer             string        `json:"issuer"`
	Number             string        `json:"number"`
	DeltaBase          string        `json:"delta_base,omitempty"`
	ThisUpdate         string        `json:"this_update"`
	NextUpdate         string        `json:"next_update,omitempty"`
	SignatureAlgorithm string        `json:"signature_algorithm"`
	SignatureVerified  *bool         `json:"signature_verified,omitempty"`
	Entries            int           `json:"entries"`
	ByReason           []reasonCount `json:"by_reason"`
	Listed             []crlEntry    `json:"listed,omitempty"`
}

// reasonCount is how many entries carry one reason.
type reasonCount struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// crlEntry is one revoked certificate.
type crlEntry struct {
	Serial         string `json:"serial"`
	RevocationTime string `json:"revocation_time"`
	Reason         string `json:"reason"`
}

func newCRL(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:     "crl",
		Short:   "Inspect certificate revocation lists",
		Example: "  registra crl show http://127.0.0.1:8080/crl/issuing.crl",
		Args:    exactArgs(),
	}
	var issuer string
	var entries bool
	show := &cobra.Command{
		Use:   "show FILE|URL",
		Short: "Summarise a CRL: issuer, number, dates, entries by reason",
		Long: `show reads a CRL (DER or PEM) from a file or an http(s) URL and prints its
issuer, CRL number (and base CRL number for a delta CRL), thisUpdate and
nextUpdate, and how many entries carry each RFC 5280 reason code. --entries
lists every serial; --issuer checks the signature against the issuing CA's
certificate and exits 1 when it does not verify.`,
		Example: `  registra crl show ./issuing.crl
  registra crl show http://127.0.0.1:8080/crl/issuing.crl --entries
  registra crl show http://127.0.0.1:8080/crl/issuing-delta.crl --issuer issuing.pem --json`,
		Args: exactArgs("FILE|URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := e.fetchCRL(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			rl, err := parseCRL(raw)
			if err != nil {
				return err
			}
			s, err := summariseCRL(args[0], rl, entries)
			if err != nil {
				return err
			}
			var sigErr error
			if issuer != "" {
				b, err := os.ReadFile(issuer)
				if err != nil {
					return usagef("--issuer: %v", err)
				}
				cert, err := ca.ParseCertificate(b)
				if err != nil {
					return usagef("--issuer: %v", err)
				}
				sigErr = rl.CheckSignatureFrom(cert)
				ok := sigErr == nil
				s.SignatureVerified = &ok
			}
			if err := e.out.emit(s, func(w io.Writer) error { return printCRL(w, s) }); err != nil {
				return err
			}
			if sigErr != nil {
				return fmt.Errorf("%w: signature does not verify against %s: %v", crl.ErrVerify, issuer, sigErr)
			}
			return nil
		},
	}
	show.Flags().StringVar(&issuer, "issuer", "", "PEM or DER certificate of the CRL's issuer: check the signature")
	show.Flags().BoolVar(&entries, "entries", false, "list every revoked serial")
	c.AddCommand(show)
	return c
}

// fetchCRL reads src, a file or an http(s) URL.
func (e *env) fetchCRL(ctx context.Context, src string) ([]byte, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return b, nil
	}
	hc, err := newHTTPClient(e.cfg.HTTPClient, e.caFile, e.timeout)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, usagef("%v", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &UnreachableError{URL: src, Err: errors.Unwrap(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &UnreachableError{URL: src, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, decodeProblem(resp.StatusCode, b)
	}
	return b, nil
}

// parseCRL reads a DER or PEM ("X509 CRL") CRL.
func parseCRL(b []byte) (*x509.RevocationList, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, fmt.Errorf("%w: PEM block %q is not an X509 CRL", crl.ErrInvalidInput, blk.Type)
		}
		b = blk.Bytes
	}
	rl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("%w: not a CRL: %v", crl.ErrInvalidInput, err)
	}
	return rl, nil
}

// summariseCRL counts rl's entries by reason code.
func summariseCRL(src string, rl *x509.RevocationList, list bool) (crlSummary, error) {
	s := crlSummary{Source: src, Issuer: rl.Issuer.String(), ThisUpdate: ts(rl.ThisUpdate), NextUpdate: ts(rl.NextUpdate),
		SignatureAlgorithm: rl.SignatureAlgorithm.String(), Entries: len(rl.RevokedCertificateEntries), ByReason: []reasonCount{}}
	if rl.Number != nil {
		s.Number = rl.Number.String()
	}
	base, err := crl.ParseDeltaBase(rl)
	if err != nil {
		return s, err
	}
	if base != nil {
		s.DeltaBase = base.String()
	}
	counts := map[int]int{}
	for _, en := range rl.RevokedCertificateEntries {
		counts[en.ReasonCode]++
		if list {
			s.Listed = append(s.Listed, crlEntry{Serial: serialHex(en.SerialNumber), RevocationTime: ts(en.RevocationTime),
				Reason: crl.Reason(en.ReasonCode).String()})
		}
	}
	codes := make([]int, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	for _, c := range codes {
		s.ByReason = append(s.ByReason, reasonCount{Code: c, Reason: crl.Reason(c).String(), Count: counts[c]})
	}
	return s, nil
}

// serialHex prints a serial number as colon-free lower-case hex.
func serialHex(n *big.Int) string {
	if n == nil {
		return ""
	}
	return n.Text(16)
}

func printCRL(w io.Writer, s crlSummary) error {
	kind := "full CRL"
	if s.DeltaBase != "" {
		kind = "delta CRL (base " + s.DeltaBase + ")"
	}
	sig := ""
	if s.SignatureVerified != nil {
		sig = "does not verify"
		if *s.SignatureVerified {
			sig = "verified"
		}
	}
	if err := kv(w, "Kind", kind, "Issuer", s.Issuer, "Number", s.Number, "This update", s.ThisUpdate,
		"Next update", s.NextUpdate, "Signature", joinNonEmpty(", ", s.SignatureAlgorithm, sig), "Entries", fmt.Sprint(s.Entries)); err != nil {
		return err
	}
	if len(s.ByReason) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "CODE", "REASON", "ENTRIES")
		for _, r := range s.ByReason {
			t.AppendRow([]any{r.Code, r.Reason, r.Count})
		}
		render(w, t)
	}
	if len(s.Listed) > 0 {
		fprintf(w, "\n")
		t := newTable(w, "SERIAL", "REVOKED", "REASON")
		for _, en := range s.Listed {
			t.AppendRow([]any{en.Serial, en.RevocationTime, en.Reason})
		}
		render(w, t)
	}
	return nil
}
