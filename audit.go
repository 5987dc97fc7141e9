package registra

import (
	"context"
	"errors"
	"slices"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/store"
)

// AuditEvent is one event of the audit trail: who (ActorID), for which
// organisation, did what (Action, such as "product.revoke"), when, to which
// object (Subject), with Details as JSON: the outcome ("done" or "refused"),
// the statuses before and after, the SHA-256 of the inputs (never a
// secret) or the refusal's rule. Seq orders the events; Hash links a sealed
// event into the SHA-256 chain.
type AuditEvent = store.AuditEvent

// AuditQuery selects audit events of the operator's organisation.
type AuditQuery struct {
	// From is the first sequence number; zero means the first event.
	From uint64
	// Subject, when set, keeps the events of one object (an order ID).
	Subject string
	// Limit bounds the result; zero means 100, at most 1000.
	Limit int
}

// errStop ends an audit scan early.
var errStop = errors.New("stop")

// AuditEvents returns audit events of the operator's organisation, in
// sequence order (master RAOs; events of other organisations are never
// returned).
func (p *Platform) AuditEvents(ctx context.Context, a Actor, q AuditQuery) ([]AuditEvent, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	if err := access.Authorize(aop, access.PermAuditRead, aop.Org); err != nil {
		return nil, p.refuse(ctx, "audit.read", aop.Org, aop.ID, "", err)
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = 100
	case limit < 0 || limit > 1000:
		return nil, fieldErr("query.limit", "must be 0-1000")
	}
	var out []AuditEvent
	err = snap.AuditEvents(q.From, func(e store.AuditEvent) error {
		if e.OrgID != aop.Org || (q.Subject != "" && e.Subject != q.Subject) {
			return nil
		}
		out = append(out, e)
		if len(out) == limit {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, wrap("audit.read", err)
	}
	return out, nil
}

// VerifyAudit checks the whole audit trail: consecutive sequence numbers,
// an unbroken SHA-256 chain over the sealed events, and a chain head that
// matches the store's record of it. It returns nil or an error wrapping
// store.ErrCorrupt whose *store.AuditChainError names the first bad
// sequence number. Events appended since the last sealing pass
// ([Platform.RunDue]) are not yet protected.
func (p *Platform) VerifyAudit(ctx context.Context) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	return snap.VerifyAudit()
}

// VerifyAuditEvents checks a list of audit events, as exported from a
// platform, starting at sequence number 1 (see store.VerifyAuditChain): an
// edited, removed or reordered event is reported as a *store.AuditChainError
// naming the first bad sequence number.
func VerifyAuditEvents(events []AuditEvent) error {
	return store.VerifyAuditChain(slices.Values(events))
}

// sealAudit links every unsealed audit event into the chain, under the
// scheduler's lease.
func (p *Platform) sealAudit(ctx context.Context, fence *store.LeaseToken) error {
	for {
		r, err := p.store.Apply(ctx, &store.Batch{Fence: fence, Commands: []store.Command{store.SealAudit{Max: store.MaxSealBatch}}})
		if err != nil {
			return wrap("audit.seal", err)
		}
		// A short batch means nothing is left to seal.
		snap, err := p.snapshot(ctx)
		if err != nil {
			return err
		}
		unsealed := false
		_ = snap.AuditEvents(r.Outputs[0].Number+1, func(store.AuditEvent) error { //nolint:errcheck // errStop only
			unsealed = true
			return errStop
		})
		snap.Close()
		if !unsealed {
			return nil
		}
	}
}
