package store

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"iter"
)

// ChainHash returns the SHA-256 chain link of ev after prev (the previous
// sealed event's hash, empty for the first): SHA-256(prev || fields), where
// fields is the stable encoding of the event's sequence number,
// organisation, time, actor, action, subject and details. The event's Hash
// and Version are not part of it.
func ChainHash(prev []byte, ev *AuditEvent) []byte {
	e := &encoder{b: make([]byte, 0, 64+len(ev.Details))}
	e.bytes(prev)
	e.u64(ev.Seq)
	e.str(ev.OrgID)
	e.time(ev.At)
	e.str(ev.ActorID)
	e.str(ev.Action)
	e.str(ev.Subject)
	e.str(ev.Details)
	h := sha256.Sum256(e.b)
	return h[:]
}

// AuditChainError reports the first audit event that breaks the chain. It
// unwraps to [ErrCorrupt].
type AuditChainError struct {
	// Seq is the first bad sequence number: an edited event's own number,
	// the number of a deleted event, the first position of a swap.
	Seq    uint64
	Reason string
}

// Error returns "store: audit chain: event <seq>: <reason>".
func (e *AuditChainError) Error() string {
	return fmt.Sprintf("store: audit chain: event %d: %s", e.Seq, e.Reason)
}

// Unwrap returns [ErrCorrupt].
func (e *AuditChainError) Unwrap() error { return ErrCorrupt }

// VerifyAuditChain checks audit events given in sequence order, starting
// at sequence number 1: numbers must be consecutive, sealed events must form
// an unbroken SHA-256 chain (see [ChainHash]) and no sealed event may follow
// an unsealed one. It returns nil or an [*AuditChainError] naming the first
// bad sequence number. Unsealed events are not yet protected.
func VerifyAuditChain(events iter.Seq[AuditEvent]) error {
	want := uint64(1)
	var prev []byte
	unsealedSeen := false
	for ev := range events {
		if ev.Seq != want {
			return &AuditChainError{Seq: want, Reason: fmt.Sprintf("found event %d in its place", ev.Seq)}
		}
		if len(ev.Hash) == 0 {
			unsealedSeen = true
		} else {
			if unsealedSeen {
				return &AuditChainError{Seq: ev.Seq, Reason: "sealed after an unsealed event"}
			}
			if !bytes.Equal(ev.Hash, ChainHash(prev, &ev)) {
				return &AuditChainError{Seq: ev.Seq, Reason: "hash does not match its content and predecessor"}
			}
			prev = ev.Hash
		}
		want++
	}
	return nil
}

// planSeals fills in the range and chain hashes of every [SealAudit] of
// cmds (see its doc) from the committed state read by txn. Events the batch
// itself appends are not sealed: their numbers are known only when the
// batch applies.
func planSeals(txn *dbTxn, cmds []Command) error {
	m, err := first[metaRecord](txn, tableMeta, indexID, newKey().str(metaAudit))
	if err != nil {
		return err
	}
	if m == nil {
		m = &metaRecord{}
	}
	aux, head := m.Aux, m.Hash
	for i, c := range cmds {
		s, ok := c.(SealAudit)
		if !ok {
			continue
		}
		s.From, s.Hashes = aux+1, nil
		for aux < m.Value && len(s.Hashes) < int(s.Max) {
			ev, err := first[AuditEvent](txn, tableAudit, indexID, newKey().u64(aux+1))
			if err != nil {
				return err
			}
			if ev == nil {
				return fmt.Errorf("%w: audit event %d is missing", ErrCorrupt, aux+1)
			}
			head = ChainHash(head, ev)
			s.Hashes = append(s.Hashes, head)
			aux++
		}
		cmds[i] = s
	}
	return nil
}
