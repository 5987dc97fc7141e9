package registra

import (
	"context"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// SuspendInput is a suspension (Manuale operatore, "Product Suspension":
// "defines the end date of suspension, attaches the contract, and reports
// in Notes the reasons").
type SuspendInput struct {
	// End is when the suspension ends by itself: in the future and not after
	// the certificate's notAfter.
	End time.Time
	// Notes give the reasons.
	Notes string
	// Contract is the attached contract (required from operators); it is
	// stored as a blob.
	Contract []byte `json:"-"`
	// Publication is the CRL publication mode; zero means normal.
	Publication lifecycle.Publication
}

// RevokeInput is a revocation (Manuale operatore, "Product Revocation").
type RevokeInput struct {
	Requester  lifecycle.Requester
	Motivation lifecycle.Motivation
	// Publication is the CRL publication mode; zero means the default of
	// lifecycle.Matrix (a key compromise is always immediate).
	Publication lifecycle.Publication
	Notes       string
	// Contract is the withdrawn contract, required for contract
	// withdrawal; it is stored as a blob.
	Contract []byte `json:"-"`
}

// contractRef returns the reference of an attached contract (the blob's
// SHA-256) and the commands that store it with the change (putBlob), or
// nothing when none is attached.
func (p *Platform) contractRef(ctx context.Context, b []byte) (string, []store.Command, error) {
	if len(b) == 0 {
		return "", nil, nil
	}
	return p.putBlob(ctx, "contract", b)
}

// Suspend puts an active product on hold until in.End (RAO). The change is
// pending publication with its SLA deadline; at the end date the scheduler
// ([Platform.Run]) releases the hold, or revokes, as Config.Lifecycle.HoldEnd
// says.
func (p *Platform) Suspend(ctx context.Context, a Actor, productID string, in SuspendInput) (*Product, error) {
	oc, err := p.loadProduct(ctx, a, productID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	// Authorisation and the transition are checked before the contract is
	// stored: a refused request leaves nothing behind.
	if _, err := p.decide(ctx, oc, lifecycle.ActionSuspend, lifecycle.Input{Publication: in.Publication,
		Suspension: &lifecycle.SuspendRequest{End: in.End, Notes: in.Notes, Contract: contractPlaceholder(in.Contract)}}, now); err != nil {
		return nil, err
	}
	ref, contractCmds, err := p.contractRef(ctx, in.Contract)
	if err != nil {
		return nil, err
	}
	tr, err := p.machine.Apply(oc.state, lifecycle.ActionSuspend, operatorActor(oc.aop), lifecycle.Input{Publication: in.Publication,
		Suspension: &lifecycle.SuspendRequest{End: in.End, Notes: in.Notes, Contract: ref}}, now)
	if err != nil {
		return nil, wrap("product.suspend", err)
	}
	if err := p.commit(ctx, oc, tr, digest(struct {
		SuspendInput
		Contract string
	}{in, ref}), contractCmds...); err != nil {
		return nil, err
	}
	return p.GetProduct(ctx, a, productID)
}

// contractPlaceholder stands for a contract that is attached but not yet
// stored, so that the first check sees whether one is given.
func contractPlaceholder(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return "pending"
}

// Reactivate ends a suspension early (RAO). The change is pending
// publication (removeFromCRL on the next delta CRL).
func (p *Platform) Reactivate(ctx context.Context, a Actor, productID string, mode lifecycle.Publication) (*Product, error) {
	oc, err := p.loadProduct(ctx, a, productID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	tr, err := p.decide(ctx, oc, lifecycle.ActionReactivate, lifecycle.Input{Publication: mode}, p.clock())
	if err != nil {
		return nil, err
	}
	if err := p.commit(ctx, oc, tr, digest(mode)); err != nil {
		return nil, err
	}
	return p.GetProduct(ctx, a, productID)
}

// Revoke revokes an active or suspended product permanently (RAO). The
// requester × motivation matrix of package lifecycle decides which
// motivations are allowed and the default publication mode; revoking a
// suspended product dates the revocation back to the suspension's start
// unless Config.Lifecycle.DateRevocationAtRequest is set.
func (p *Platform) Revoke(ctx context.Context, a Actor, productID string, in RevokeInput) (*Product, error) {
	oc, err := p.loadProduct(ctx, a, productID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	req := lifecycle.RevokeRequest{Requester: in.Requester, Motivation: in.Motivation, Notes: in.Notes,
		Contract: contractPlaceholder(in.Contract)}
	if _, err := p.decide(ctx, oc, lifecycle.ActionRevoke, lifecycle.Input{Publication: in.Publication, Revocation: &req}, now); err != nil {
		return nil, err
	}
	ref, contractCmds, err := p.contractRef(ctx, in.Contract)
	if err != nil {
		return nil, err
	}
	req.Contract = ref
	tr, err := p.machine.Apply(oc.state, lifecycle.ActionRevoke, operatorActor(oc.aop),
		lifecycle.Input{Publication: in.Publication, Revocation: &req}, now)
	if err != nil {
		return nil, wrap("product.revoke", err)
	}
	if err := p.commit(ctx, oc, tr, digest(struct {
		RevokeInput
		Contract string
	}{in, ref}), contractCmds...); err != nil {
		return nil, err
	}
	return p.GetProduct(ctx, a, productID)
}
