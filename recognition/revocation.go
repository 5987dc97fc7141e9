package recognition

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// CRLSource returns the current CRL of a certificate's issuer, DER encoded:
// either supplied in advance or fetched from one of the certificate's CRL
// distribution points. The verifier checks the CRL's signature, issuer and
// freshness itself, so a source need not be trusted.
type CRLSource interface {
	CRL(ctx context.Context, issuer *x509.Certificate, distributionPoints []string) ([]byte, error)
}

// StaticCRLs is a [CRLSource] over CRLs supplied in advance (DER). It
// returns the first one issued by the requested issuer.
type StaticCRLs [][]byte

// CRL returns the first supplied CRL whose issuer is issuer's subject.
func (s StaticCRLs) CRL(ctx context.Context, issuer *x509.Certificate, _ []string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, der := range s {
		rl, err := x509.ParseRevocationList(der)
		if err != nil {
			continue
		}
		if slices.Equal(rl.RawIssuer, issuer.RawSubject) {
			return der, nil
		}
	}
	return nil, fmt.Errorf("recognition: crl: none supplied for %q", issuer.Subject.String())
}

// HTTPCRLs is a [CRLSource] that downloads the CRL from the first http or
// https distribution point of the certificate (RFC 5280 §4.2.1.13).
type HTTPCRLs struct {
	// Client makes the requests. Nil means a client with a 30 s timeout.
	Client *http.Client
	// MaxSize bounds the CRL size in bytes. Zero means 20 MiB.
	MaxSize int64
}

// CRL fetches the CRL; issuer is not used.
func (h HTTPCRLs) CRL(ctx context.Context, _ *x509.Certificate, distributionPoints []string) ([]byte, error) {
	client := h.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	limit := h.MaxSize
	if limit == 0 {
		limit = 20 << 20
	}
	var errs []error
	for _, dp := range distributionPoints {
		if !strings.HasPrefix(dp, "http://") && !strings.HasPrefix(dp, "https://") {
			continue
		}
		b, err := fetch(ctx, client, dp, limit)
		if err == nil {
			return b, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return nil, errors.New("recognition: crl: certificate has no http distribution point")
	}
	return nil, errors.Join(errs...)
}

func fetch(ctx context.Context, client *http.Client, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("recognition: crl: %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("recognition: crl: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("recognition: crl: %s: status %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("recognition: crl: %s: %w", url, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("recognition: crl: %s: larger than %d bytes", url, limit)
	}
	return b, nil
}

// checkRevocation checks cert against its issuer's CRL at now: the CRL must
// be signed by issuer, current (thisUpdate ≤ now ≤ nextUpdate) and must not
// list cert (RFC 5280 §6.3). A hold (certificateHold) counts as revoked:
// a suspended certificate is invalid for the whole suspension (eIDAS). When
// the status cannot be established the check fails closed. It returns the
// CRL used, for the evidence.
func checkRevocation(ctx context.Context, src CRLSource, cert, issuer *x509.Certificate, now time.Time) ([]byte, *CheckError) {
	fail := func(detail string, err error) *CheckError {
		return &CheckError{Check: CheckRevocation, Kind: ErrRevoked, Detail: detail, Err: err}
	}
	der, err := src.CRL(ctx, issuer, cert.CRLDistributionPoints)
	if err != nil {
		return nil, fail("status unknown: no crl", err)
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fail("status unknown: crl does not parse", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, fail("status unknown: crl not signed by the issuer", err)
	}
	if rl.ThisUpdate.After(now) {
		return nil, fail("status unknown: crl thisUpdate "+rl.ThisUpdate.UTC().Format(time.RFC3339)+" is in the future", nil)
	}
	if rl.NextUpdate.IsZero() || now.After(rl.NextUpdate) {
		return nil, fail("status unknown: crl expired at "+rl.NextUpdate.UTC().Format(time.RFC3339), nil)
	}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return der, fail(fmt.Sprintf("serial %s revoked at %s (reason %d)", cert.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339), e.ReasonCode), nil)
		}
	}
	return der, nil
}
