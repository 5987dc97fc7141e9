package crl

import (
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"
)

// Answer is what one status service said about a certificate.
type Answer struct {
	// State is Good, Held, Revoked, or Unknown when the service had
	// nothing to say yet (no CRL published).
	State State
	// Reason and RevokedAt are set for Held and Revoked.
	Reason    Reason
	RevokedAt time.Time
	// AsOf is the instant the answer reflects: the CRL's thisUpdate, or
	// the asked instant for OCSP.
	AsOf time.Time
	// Seq is the newest change the answer reflects.
	Seq uint64
	// CRLNumber is the CRL's number (the delta's for a delta answer); nil
	// for OCSP.
	CRLNumber *big.Int
}

// PointInTime is what a relying party would have seen at one instant.
type PointInTime struct {
	Full, Delta, OCSP Answer
}

// Timeline records what was published and when, to answer status-at-a-time
// questions: for a serial and an instant, what the newest full CRL, the
// newest delta CRL (applied to its base) and OCSP said. CRL answers are
// read from the signed DER itself; the OCSP answer is the live status as of
// the instant, the way [Responder] computes it. Hold windows and
// back-dated revocations (a revocation of a suspended certificate dated to
// the suspension start) appear as the CRLs and OCSP showed them.
type Timeline struct {
	issuer  *x509.Certificate
	fulls   []*timelineCRL
	deltas  []*timelineCRL
	changes []Change
}

type timelineCRL struct {
	number, base *big.Int
	thisUpdate   time.Time
	seq          uint64
	entries      map[string]Entry
}

// NewTimeline returns an empty timeline for CRLs signed by issuer.
func NewTimeline(issuer *x509.Certificate) *Timeline { return &Timeline{issuer: issuer} }

// AddCRL parses and verifies a published CRL and records it. CRLs must be
// added in publication order.
func (t *Timeline) AddCRL(p *Published) error {
	rl, err := x509.ParseRevocationList(p.DER)
	if err != nil {
		return fmt.Errorf("%w: parsing crl: %w", ErrInvalidInput, err)
	}
	if err := rl.CheckSignatureFrom(t.issuer); err != nil {
		return fmt.Errorf("%w: %w", ErrVerify, err)
	}
	base, err := ParseDeltaBase(rl)
	if err != nil {
		return err
	}
	c := &timelineCRL{number: rl.Number, base: base, thisUpdate: rl.ThisUpdate, seq: p.Seq, entries: map[string]Entry{}}
	for _, e := range rl.RevokedCertificateEntries {
		c.entries[string(e.SerialNumber.Bytes())] = Entry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: Reason(e.ReasonCode)}
	}
	if base == nil {
		t.fulls = append(t.fulls, c)
	} else {
		t.deltas = append(t.deltas, c)
	}
	return nil
}

// AddChange records a status change; changes must be added by Seq.
func (t *Timeline) AddChange(c Change) { t.changes = append(t.changes, c) }

// latest returns the newest CRL with thisUpdate at or before at.
func latest(list []*timelineCRL, at time.Time) *timelineCRL {
	i := sort.Search(len(list), func(i int) bool { return list[i].thisUpdate.After(at) })
	if i == 0 {
		return nil
	}
	return list[i-1]
}

func answerFromEntry(e Entry, ok bool) Answer {
	if !ok || e.ReasonCode == RemoveFromCRL {
		return Answer{State: Good}
	}
	a := Answer{State: Revoked, Reason: e.ReasonCode, RevokedAt: e.RevocationTime}
	if e.ReasonCode == CertificateHold {
		a.State = Held
	}
	return a
}

// StatusAt answers for serial at instant at.
func (t *Timeline) StatusAt(serial *big.Int, at time.Time) PointInTime {
	key := string(serial.Bytes())
	var p PointInTime
	p.Full = Answer{State: Unknown}
	if f := latest(t.fulls, at); f != nil {
		e, ok := f.entries[key]
		p.Full = answerFromEntry(e, ok)
		p.Full.AsOf, p.Full.Seq, p.Full.CRLNumber = f.thisUpdate, f.seq, f.number
	}
	p.Delta = Answer{State: Unknown}
	if d := latest(t.deltas, at); d != nil {
		i := slices.IndexFunc(t.fulls, func(c *timelineCRL) bool { return c.number.Cmp(d.base) == 0 })
		if i >= 0 {
			e, ok := d.entries[key]
			if !ok {
				e, ok = t.fulls[i].entries[key]
			}
			p.Delta = answerFromEntry(e, ok)
			p.Delta.AsOf, p.Delta.Seq, p.Delta.CRLNumber = d.thisUpdate, d.seq, d.number
		}
	}
	p.OCSP = t.statusFromChanges(serial, func(c Change) bool { return !c.RequestedAt.After(at) })
	p.OCSP.AsOf = at
	return p
}

// OCSPAtSeq is the live status of serial once the changes up to seq were
// applied: what OCSP said while the change log ended at seq.
func (t *Timeline) OCSPAtSeq(serial *big.Int, seq uint64) Answer {
	return t.statusFromChanges(serial, func(c Change) bool { return c.Seq <= seq })
}

func (t *Timeline) statusFromChanges(serial *big.Int, include func(Change) bool) Answer {
	var st Status
	var seq uint64
	for _, c := range t.changes {
		if !include(c) {
			break
		}
		if c.SerialNumber.Cmp(serial) == 0 {
			st = st.Apply(c)
		}
		seq = c.Seq
	}
	a := Answer{State: st.State, Seq: seq}
	if st.Listed() {
		a.Reason, a.RevokedAt = st.Reason, st.RevokedAt.UTC().Truncate(time.Second)
	}
	return a
}
