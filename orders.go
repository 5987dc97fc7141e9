package registra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// Order is a request as the platform shows it: the order, its status, the
// latest application data, the holder's identifiers and the history.
type Order struct {
	ID         string
	Org        string
	Unit       string
	OperatorID string
	Status     lifecycle.Status
	Input      OrderInput
	// HolderID, UserID and IUT identify the holder identity (the IUT is
	// the certificate's dnQualifier).
	HolderID string
	UserID   string
	IUT      string
	// ProductID is set once the product is issued.
	ProductID   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ActivatedAt time.Time
	// Version changes whenever the order or its status changes.
	Version uint64
	History []StatusChange
}

// StatusChange is one step of an order's history. Deadline is set on the
// changes the CRL publisher must publish (suspension, reactivation,
// revocation), PublishedAt once it did.
type StatusChange struct {
	ID             string
	From, To       lifecycle.Status
	At             time.Time
	ActorID        string
	Requester      string
	ReasonCode     int
	Notes          string
	Mode           lifecycle.Publication
	Deadline       time.Time
	HoldUntil      time.Time
	RevocationTime time.Time
	PublishedAt    time.Time
	CRLNumber      uint64
}

func statusOf(s store.Status) lifecycle.Status {
	st, _ := lifecycle.ParseStatus(string(s)) //nolint:errcheck // the store holds lifecycle's names
	return st
}

func historyOf(changes []store.StatusChange) []StatusChange {
	out := make([]StatusChange, len(changes))
	for i, c := range changes {
		out[i] = StatusChange{ID: c.ID, From: statusOf(c.From), To: statusOf(c.To), At: c.At, ActorID: c.ActorID,
			Requester: c.Requester, ReasonCode: int(c.ReasonCode), Notes: c.Notes, Mode: publicationOf(c.Mode),
			Deadline: c.Deadline, HoldUntil: c.HoldUntil, RevocationTime: c.RevocationTime, PublishedAt: c.PublishedAt,
			CRLNumber: c.CRLNumber}
	}
	return out
}

// putJSON encodes v as a blob and returns its hash with the commands that
// store it with the batch referring to it (putBlob).
func (p *Platform) putJSON(ctx context.Context, v any) (string, []store.Command, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, &Error{Op: "blob", Err: err}
	}
	return p.putBlob(ctx, "blob", b)
}

// getJSON reads a blob written by putJSON.
func (p *Platform) getJSON(ctx context.Context, hash string, v any) error {
	b, err := p.store.Blobs().Get(ctx, hash)
	if err != nil {
		return wrap("blob", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &Error{Op: "blob", Err: err}
	}
	return nil
}

// holderRecord returns the holder identity for an applicant.
func holderRecord(id string, a *Applicant, cur store.HolderIdentity) store.HolderIdentity {
	h := cur
	h.ID, h.TaxCode, h.FirstName, h.Surname = id, a.TaxCode, a.FirstName, a.Surname
	h.BirthDate, h.Email, h.Mobile = a.BirthDate, a.Email, a.Mobile
	if !h.BirthDate.IsZero() {
		h.BirthDate = day(h.BirthDate)
	}
	return h
}

// orderRecord returns the order record for an input.
func orderRecord(o store.Order, in *OrderInput) store.Order {
	o.ExternalCode, o.ProductType, o.Nickname, o.DeviceSerial = in.ExternalCode, in.ProductType, in.Nickname, in.DeviceSerial
	o.DurationMonth = uint32(in.DurationMonths)
	o.RoleOrg, o.Role = in.RoleOrganization, in.RoleTitle
	return o
}

// holderConflict turns the store's uniqueness refusals of a holder into
// field errors, with an alias proposal for a used e-mail.
func holderConflict(err error, email string) error {
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		return err
	}
	switch {
	case strings.Contains(ce.Reason, "e-mail"):
		return &FieldError{Field: "applicant.email", Rule: "is already used by another holder identity",
			Suggestion: emailAlias(email, newID("")[:6])}
	case strings.Contains(ce.Reason, "mobile"):
		return &FieldError{Field: "applicant.mobile", Rule: "is already used by another holder identity"}
	case strings.Contains(ce.Reason, "external"):
		return &FieldError{Field: "external_code", Rule: "is already used in the organisation"}
	}
	return err
}

// unitOf returns the store unit an order is entered in.
func unitOf(aop access.Operator, in *OrderInput) (string, error) {
	u := in.Unit
	if u == "" && len(aop.Units) > 0 {
		u = aop.Units[0]
	}
	if u == "" {
		return "", nil
	}
	if !aop.WorksIn(u) {
		return "", fieldErr("unit", "the operator does not work in this unit")
	}
	return storeUnitID(aop.Org, u), nil
}

// CreateDraft saves a new request as a draft (Manuale operatore, "Product
// Request": the request can be saved as a draft at any step). A draft needs
// a catalogue product, a recognition method it allows, and the applicant's
// tax code and names; every other field is checked when set, and
// completely at [Platform.Submit]. The applicant's e-mail and mobile must be
// unused by any other holder identity: a used e-mail is refused with a
// *FieldError proposing an alias.
func (p *Platform) CreateDraft(ctx context.Context, a Actor, in OrderInput) (*Order, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	now := p.clock()
	oc := &orderCtx{snap: snap, aop: aop, order: store.Order{ID: newID("o-"), OrgID: aop.Org}}
	tr, err := p.decide(ctx, oc, lifecycle.ActionCreate, lifecycle.Input{}, now)
	if err != nil {
		return nil, err
	}
	if err := p.validateOrder(&in, false, now); err != nil {
		return nil, err
	}
	unit, err := unitOf(aop, &in)
	if err != nil {
		return nil, err
	}
	blob, blobCmds, err := p.putJSON(ctx, in)
	if err != nil {
		return nil, err
	}
	h := holderRecord(newID("h-"), &in.Applicant, store.HolderIdentity{UserID: newID("u-"), IUT: "IUT" + strings.ToUpper(newID(""))})
	o := orderRecord(store.Order{ID: oc.order.ID, OrgID: aop.Org, UnitID: unit, OperatorID: aop.ID, HolderID: h.ID,
		CreatedAt: now, UpdatedAt: now}, &in)
	cmds := append(blobCmds,
		store.PutHolder{Holder: h},
		store.PutOrder{Order: o, InitialStatus: store.StatusDraft},
		store.PutEvidence{Evidence: store.EvidenceRef{ID: applicationID(o.ID, 1), OrgID: aop.Org, OrderID: o.ID,
			Method: "application", Blobs: []string{blob}, CreatedAt: now}},
		auditEvent(aop.Org, aop.ID, auditAction(lifecycle.ActionCreate), o.ID, now,
			auditDetails{Outcome: outcomeDone, From: tr.From.String(), To: tr.To.String(), Input: digest(in)}),
	)
	if _, err := p.apply(ctx, "order.create", cmds...); err != nil {
		return nil, holderConflict(err, in.Applicant.Email)
	}
	return p.GetOrder(ctx, a, o.ID)
}

// UpdateDraft replaces the data of a request that is not complete (a
// draft, or one waiting for recognition, which is then checked completely).
// expectVersion, when not zero, must be the order's current Version.
func (p *Platform) UpdateDraft(ctx context.Context, a Actor, id string, expectVersion uint64, in OrderInput) (*Order, error) {
	oc, err := p.loadOrder(ctx, a, id)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	tr, err := p.decide(ctx, oc, lifecycle.ActionUpdate, lifecycle.Input{}, now)
	if err != nil {
		return nil, err
	}
	if expectVersion != 0 && expectVersion != max(oc.order.Version, oc.status.Version) {
		return nil, fmt.Errorf("%w: order %q changed since version %d", ErrConflict, id, expectVersion)
	}
	if err := p.validateOrder(&in, oc.state.Status != lifecycle.StatusDraft, now); err != nil {
		return nil, err
	}
	unit, err := unitOf(oc.aop, &in)
	if err != nil {
		return nil, err
	}
	_, n, err := p.application(ctx, oc.snap, id)
	if err != nil {
		return nil, err
	}
	blob, blobCmds, err := p.putJSON(ctx, in)
	if err != nil {
		return nil, err
	}
	o := orderRecord(oc.order, &in)
	o.UnitID, o.UpdatedAt = unit, now
	err = p.commit(ctx, oc, tr, digest(in), append(blobCmds,
		store.PutHolder{Holder: holderRecord(oc.holder.ID, &in.Applicant, oc.holder), ExpectVersion: oc.holder.Version},
		store.PutOrder{Order: o, ExpectVersion: oc.order.Version},
		store.PutEvidence{Evidence: store.EvidenceRef{ID: applicationID(id, n+1), OrgID: o.OrgID, OrderID: id,
			Method: "application", Blobs: []string{blob}, CreatedAt: now}})...)
	if err != nil {
		return nil, holderConflict(err, in.Applicant.Email)
	}
	return p.GetOrder(ctx, a, id)
}

// DeleteOrder deletes a request that is not complete (draft, to identify,
// to issue). The holder identity's e-mail and mobile are released for
// another request.
func (p *Platform) DeleteOrder(ctx context.Context, a Actor, id string) error {
	oc, err := p.loadOrder(ctx, a, id)
	if err != nil {
		return err
	}
	defer oc.snap.Close()
	tr, err := p.decide(ctx, oc, lifecycle.ActionDelete, lifecycle.Input{}, p.clock())
	if err != nil {
		return err
	}
	h := oc.holder
	h.Email, h.Mobile = "", ""
	return p.commit(ctx, oc, tr, digest(id), store.PutHolder{Holder: h, ExpectVersion: oc.holder.Version})
}

// Submit completes the entry of a draft (draft → to_identify) after
// checking every mandatory field: the request then waits for recognition.
func (p *Platform) Submit(ctx context.Context, a Actor, id string) (*Order, error) {
	oc, err := p.loadOrder(ctx, a, id)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	tr, err := p.decide(ctx, oc, lifecycle.ActionSubmit, lifecycle.Input{}, now)
	if err != nil {
		return nil, err
	}
	in, _, err := p.application(ctx, oc.snap, id)
	if err != nil {
		return nil, err
	}
	if err := p.validateOrder(&in, true, now); err != nil {
		return nil, err
	}
	if err := p.commit(ctx, oc, tr, digest(id)); err != nil {
		return nil, err
	}
	return p.GetOrder(ctx, a, id)
}

// GetOrder returns an order of the operator's organisation.
func (p *Platform) GetOrder(ctx context.Context, a Actor, id string) (*Order, error) {
	oc, err := p.loadOrder(ctx, a, id)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	if err := p.authorizeRead(ctx, oc.aop, oc.order.OrgID, id); err != nil {
		return nil, err
	}
	return p.orderView(ctx, oc)
}

// authorizeRead checks the read permission in the operator's organisation.
func (p *Platform) authorizeRead(ctx context.Context, aop access.Operator, org, subject string) error {
	if err := access.Authorize(aop, access.PermOrderRead, org); err != nil {
		return p.refuse(ctx, "order.read", aop.Org, aop.ID, subject, err)
	}
	return nil
}

func (p *Platform) orderView(ctx context.Context, oc *orderCtx) (*Order, error) {
	in, _, err := p.application(ctx, oc.snap, oc.order.ID)
	if err != nil {
		return nil, err
	}
	o := oc.order
	return &Order{ID: o.ID, Org: o.OrgID, Unit: unitLocal(o.OrgID, o.UnitID), OperatorID: o.OperatorID,
		Status: statusOf(oc.status.Status), Input: in, HolderID: o.HolderID, UserID: oc.holder.UserID, IUT: oc.holder.IUT,
		ProductID: oc.status.ProductID, CreatedAt: o.CreatedAt, UpdatedAt: later(o.UpdatedAt, oc.status.UpdatedAt),
		ActivatedAt: oc.status.ActivatedAt, Version: max(o.Version, oc.status.Version), History: historyOf(oc.changes)}, nil
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
