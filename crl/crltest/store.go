package crltest

import (
	"context"
	"fmt"
	"iter"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/registra-pki/registra/crl"
)

// SLA deadlines of the operator manual, as package lifecycle computes them.
const (
	NormalSLA    = 24 * time.Hour
	ImmediateSLA = time.Hour
)

// Store is an in-memory fake of the store's revocation tables for one
// scope: issued serials, a status record per serial with its history, and
// the change log. It satisfies [crl.Source] and [crl.StatusSource]. Views
// are consistent: a view opened at change n never sees change n+1.
type Store struct {
	mu       sync.Mutex
	records  map[string]*record
	order    []*big.Int // serials with a record, ascending
	changes  []crl.Change
	preload  int64     // serials 1..preload are revoked at preloadAt
	preAt    time.Time // revocation time of preloaded serials
	dropped  map[string]bool
	notify   func()
	issueSeq uint64
}

type record struct {
	serial  *big.Int
	history []crl.Change // by Seq
}

var _ crl.Source = (*Store)(nil)
var _ crl.StatusSource = (*Store)(nil)

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{records: map[string]*record{}, dropped: map[string]bool{}}
}

// OnChange sets a function called after every recorded change (the
// scheduler's Notify, as the root package wires it).
func (s *Store) OnChange(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notify = f
}

// Preload marks serials 1..n as revoked (keyCompromise) at at, without a
// record each: a compact way to hold a million entries for benchmarks.
// Call it before anything else; serials issued later must exceed n.
func (s *Store) Preload(n int64, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.preload, s.preAt = n, at
}

// Issue records that the scope issued serial (status good).
func (s *Store) Issue(serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(serial.Bytes())
	if _, ok := s.records[k]; ok {
		return
	}
	s.records[k] = &record{serial: new(big.Int).Set(serial)}
	i, _ := slices.BinarySearchFunc(s.order, serial, (*big.Int).Cmp)
	s.order = slices.Insert(s.order, i, s.records[k].serial)
}

// DropEntry corrupts the CRL-entry table: Entries omits serial while the
// status records still list it (to test reconciliation).
func (s *Store) DropEntry(serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped[string(serial.Bytes())] = true
}

// Change applies a status change as package lifecycle would: revoke from
// good or held, suspend from good, reactivate from held; revoking a
// suspended certificate back-dates the revocation to the suspension start
// (DESIGN.md, Italian rule). The deadline is now plus the mode's SLA.
func (s *Store) Change(kind crl.Kind, serial *big.Int, reason crl.Reason, mode crl.Mode, now time.Time) (crl.Change, error) {
	s.mu.Lock()
	r, ok := s.records[string(serial.Bytes())]
	if !ok {
		s.mu.Unlock()
		return crl.Change{}, fmt.Errorf("crltest: serial %x: %w", serial, crl.ErrNotFound)
	}
	cur := r.status()
	c := crl.Change{
		Seq: uint64(len(s.changes)) + 1, SerialNumber: r.serial, Kind: kind, From: cur.State, Reason: reason,
		RevocationTime: now, RequestedAt: now, Mode: mode,
	}
	switch mode {
	case crl.Immediate:
		c.Deadline = now.Add(ImmediateSLA)
	default:
		c.Mode, c.Deadline = crl.Normal, now.Add(NormalSLA)
	}
	switch {
	case kind == crl.Revoke && cur.State == crl.Held:
		c.RevocationTime = cur.RevokedAt
	case kind == crl.Revoke && cur.State == crl.Good, kind == crl.Suspend && cur.State == crl.Good,
		kind == crl.Reactivate && cur.State == crl.Held:
	default:
		s.mu.Unlock()
		return crl.Change{}, fmt.Errorf("crltest: %s from %s: %w", kind, cur.State, crl.ErrInvalidInput)
	}
	if kind == crl.Revoke && reason == crl.KeyCompromise {
		c.InvalidityDate = now.Add(-time.Hour)
	}
	r.history = append(r.history, c)
	s.changes = append(s.changes, c)
	notify := s.notify
	s.mu.Unlock()
	if notify != nil {
		notify()
	}
	return c, nil
}

// Changes returns a copy of the change log.
func (s *Store) Changes() []crl.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}

// Status returns the current status of serial.
func (s *Store) Status(_ context.Context, serial *big.Int) (crl.Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusAt(serial, uint64(len(s.changes)))
}

func (s *Store) statusAt(serial *big.Int, seq uint64) (crl.Status, error) {
	if r, ok := s.records[string(serial.Bytes())]; ok {
		return r.statusAt(seq), nil
	}
	if serial.Sign() > 0 && serial.IsInt64() && serial.Int64() <= s.preload {
		return crl.Status{State: crl.Revoked, RevokedAt: s.preAt, Reason: crl.KeyCompromise, Version: 1}, nil
	}
	return crl.Status{}, fmt.Errorf("crltest: serial %x: %w", serial, crl.ErrNotFound)
}

func (r *record) status() crl.Status { return r.statusAt(^uint64(0)) }

func (r *record) statusAt(seq uint64) crl.Status {
	var st crl.Status
	for _, c := range r.history {
		if c.Seq > seq {
			break
		}
		st = st.Apply(c)
	}
	return st
}

// View opens a consistent view at the current change.
func (s *Store) View(ctx context.Context, _ crl.Scope) (crl.View, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &view{s: s, seq: uint64(len(s.changes))}, nil
}

type view struct {
	s   *Store
	seq uint64
}

// Seq implements crl.View.
func (v *view) Seq() uint64 { return v.seq }

// Close implements crl.View.
func (v *view) Close() error { return nil }

// Status implements crl.View.
func (v *view) Status(_ context.Context, serial *big.Int) (crl.Status, error) {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	return v.s.statusAt(serial, v.seq)
}

// listed walks the listed serials of the view in order: the preloaded
// range, then the records (a record for a preloaded serial wins).
func (v *view) listed(ctx context.Context, entryTable bool) iter.Seq2[crl.Entry, error] {
	return func(yield func(crl.Entry, error) bool) {
		v.s.mu.Lock()
		order := slices.Clone(v.s.order)
		pre, preAt := v.s.preload, v.s.preAt
		v.s.mu.Unlock()
		next := 0
		emitRecords := func(upTo *big.Int) bool {
			for ; next < len(order) && (upTo == nil || order[next].Cmp(upTo) < 0); next++ {
				v.s.mu.Lock()
				r := v.s.records[string(order[next].Bytes())]
				st := r.statusAt(v.seq)
				drop := entryTable && v.s.dropped[string(order[next].Bytes())]
				v.s.mu.Unlock()
				if st.Listed() && !drop {
					if !yield(st.Entry(r.serial), nil) {
						return false
					}
				}
			}
			return true
		}
		for i := int64(1); i <= pre; i++ {
			if i%65536 == 0 && ctx.Err() != nil {
				yield(crl.Entry{}, ctx.Err())
				return
			}
			sn := big.NewInt(i)
			if !emitRecords(sn) {
				return
			}
			if next < len(order) && order[next].Cmp(sn) == 0 {
				continue // the record decides
			}
			if !yield(crl.Entry{SerialNumber: sn, RevocationTime: preAt, ReasonCode: crl.KeyCompromise}, nil) {
				return
			}
		}
		emitRecords(nil)
	}
}

// Entries implements crl.View (omitting dropped entries).
func (v *view) Entries(ctx context.Context) iter.Seq2[crl.Entry, error] { return v.listed(ctx, true) }

// Listed implements crl.View from the status records.
func (v *view) Listed(ctx context.Context) iter.Seq2[*big.Int, error] {
	return func(yield func(*big.Int, error) bool) {
		for e, err := range v.listed(ctx, false) {
			if !yield(e.SerialNumber, err) {
				return
			}
		}
	}
}

// Changes implements crl.View.
func (v *view) Changes(_ context.Context, after uint64) iter.Seq2[crl.Change, error] {
	return func(yield func(crl.Change, error) bool) {
		v.s.mu.Lock()
		cs := slices.Clone(v.s.changes[min(after, v.seq):v.seq])
		v.s.mu.Unlock()
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}
