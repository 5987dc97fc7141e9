package crltest

import (
	"context"
	"iter"
	"math/big"
	"slices"
	"sync"

	"github.com/registra-pki/registra/crl"
)

// Journal is an in-memory [crl.Journal]. It stands for the durable store:
// a test "restarts" by building a new scheduler over the same Journal and
// Store. FailRecord makes the next Record calls fail.
type Journal struct {
	mu         sync.Mutex
	scopes     map[crl.Scope]*journalScope
	failRecord error
}

type journalScope struct {
	reserved *big.Int
	head     crl.Head
	receipts []crl.Receipt
	records  int
}

var _ crl.Journal = (*Journal)(nil)

// NewJournal returns an empty journal.
func NewJournal() *Journal { return &Journal{scopes: map[crl.Scope]*journalScope{}} }

func (j *Journal) scope(s crl.Scope) *journalScope {
	if j.scopes[s] == nil {
		j.scopes[s] = &journalScope{}
	}
	return j.scopes[s]
}

// FailRecord makes Record return err (until called with nil).
func (j *Journal) FailRecord(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.failRecord = err
}

// ReserveNumber returns the next number of the scope's counter.
func (j *Journal) ReserveNumber(ctx context.Context, scope crl.Scope) (*big.Int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.scope(scope)
	if s.reserved == nil {
		s.reserved = new(big.Int)
	}
	s.reserved = new(big.Int).Add(s.reserved, big.NewInt(1))
	return new(big.Int).Set(s.reserved), nil
}

// Head returns the scope's head.
func (j *Journal) Head(ctx context.Context, scope crl.Scope) (crl.Head, error) {
	if err := ctx.Err(); err != nil {
		return crl.Head{}, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.scope(scope).head, nil
}

// Record moves the head forward and appends the receipts, or changes
// nothing.
func (j *Journal) Record(ctx context.Context, scope crl.Scope, p *crl.Publication) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failRecord != nil {
		return j.failRecord
	}
	s := j.scope(scope)
	last := s.head.LastNumber()
	for _, c := range []*crl.CRLInfo{p.Full, p.Delta} {
		if c == nil {
			continue
		}
		if last != nil && c.Number.Cmp(last) <= 0 {
			return &crl.NumberError{Number: c.Number, Last: last}
		}
		last = c.Number
	}
	if p.Full != nil {
		s.head.Full = p.Full
	}
	if p.Delta != nil {
		s.head.Delta = p.Delta
	}
	s.receipts = append(s.receipts, p.Receipts...)
	s.records++
	return nil
}

// Receipts streams the scope's receipts.
func (j *Journal) Receipts(_ context.Context, scope crl.Scope) iter.Seq2[crl.Receipt, error] {
	j.mu.Lock()
	rs := slices.Clone(j.scope(scope).receipts)
	j.mu.Unlock()
	return func(yield func(crl.Receipt, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// ReceiptList returns a copy of the scope's receipts.
func (j *Journal) ReceiptList(scope crl.Scope) []crl.Receipt {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.scope(scope).receipts)
}

// Recorder is a [crl.Publisher] that keeps every CRL it receives.
type Recorder struct {
	mu  sync.Mutex
	all []*crl.Published
}

var _ crl.Publisher = (*Recorder)(nil)

// Publish keeps p.
func (r *Recorder) Publish(ctx context.Context, p *crl.Published) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, p)
	return nil
}

// All returns the CRLs received, in order.
func (r *Recorder) All() []*crl.Published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}
