// Package envelopetest helps other packages test code that issues and
// resends envelopes: a vault and sealers with cheap parameters, and a fake
// [envelope.Mailer] that records deliveries. Import it only from tests.
package envelopetest

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/registra-pki/registra/envelope"
)

// CheapHash is an Argon2id cost for tests only: 64 KiB, one pass.
var CheapHash = envelope.HashParams{Time: 1, MemoryKiB: 64, Threads: 1}

// Option adjusts [NewVault].
type Option func(*envelope.VaultConfig)

// WithKEK uses kek instead of a fresh key file.
func WithKEK(kek envelope.KEK) Option { return func(c *envelope.VaultConfig) { c.KEK = kek } }

// NewVault returns a vault over a fresh key file in t.TempDir(), hashing
// with [CheapHash].
func NewVault(t testing.TB, opts ...Option) *envelope.Vault {
	t.Helper()
	cfg := envelope.VaultConfig{Hash: CheapHash}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.KEK == nil {
		k, err := envelope.OpenKeyFile(envelope.KeyFileConfig{Dir: t.TempDir()})
		if err != nil {
			t.Fatalf("envelopetest: %v", err)
		}
		cfg.KEK = k
	}
	v, err := envelope.NewVault(cfg)
	if err != nil {
		t.Fatalf("envelopetest: %v", err)
	}
	return v
}

// NewSealers returns a CMS sealer with the floor iteration count and a PDF
// sealer: what envelope.SealAll needs.
func NewSealers(t testing.TB) (*envelope.CMS, *envelope.PDF) {
	t.Helper()
	c, err := envelope.NewCMS(envelope.CMSConfig{Iterations: envelope.MinIterations})
	if err != nil {
		t.Fatalf("envelopetest: %v", err)
	}
	p, err := envelope.NewPDF(envelope.PDFConfig{})
	if err != nil {
		t.Fatalf("envelopetest: %v", err)
	}
	return c, p
}

// Mailer is a fake [envelope.Mailer]: it validates and records deliveries,
// or fails with Err when set.
type Mailer struct {
	mu         sync.Mutex
	err        error
	deliveries []*envelope.Delivery
}

var _ envelope.Mailer = (*Mailer)(nil)

// FailWith makes every later Enqueue return err (nil to succeed again).
func (m *Mailer) FailWith(err error) {
	m.mu.Lock()
	m.err = err
	m.mu.Unlock()
}

// Enqueue records a copy of d.
func (m *Mailer) Enqueue(ctx context.Context, d *envelope.Delivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	cp := *d
	cp.Envelopes = slices.Clone(d.Envelopes)
	m.deliveries = append(m.deliveries, &cp)
	return nil
}

// Deliveries returns what was enqueued, in order.
func (m *Mailer) Deliveries() []*envelope.Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.deliveries)
}
