package registra

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// orderCtx is what an action on an existing order works from: one
// consistent snapshot, the acting operator, the order and its state.
type orderCtx struct {
	snap    store.Snapshot
	aop     access.Operator
	sop     store.Operator // the acting operator's record
	order   store.Order
	status  store.StatusRecord
	holder  store.HolderIdentity
	product *store.Product
	changes []store.StatusChange
	state   lifecycle.State
}

// loadOrder opens a snapshot and loads order id for actor a. An order of
// another organisation is not found. The caller closes oc.snap.
func (p *Platform) loadOrder(ctx context.Context, a Actor, id string) (*orderCtx, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	oc, err := p.loadOrderIn(snap, a, id)
	if err != nil {
		snap.Close()
		return nil, err
	}
	return oc, nil
}

func (p *Platform) loadOrderIn(snap store.Snapshot, a Actor, id string) (*orderCtx, error) {
	sop, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	oc := &orderCtx{snap: snap, aop: aop, sop: sop}
	if err := p.readOrder(oc, id); err != nil {
		return nil, err
	}
	if oc.order.OrgID != aop.Org {
		// Orders of another organisation are never reachable, not even by
		// admins: they do not exist for the operator (issue #5).
		return nil, notFound("order", id)
	}
	return oc, nil
}

// readOrder fills oc with order id and everything its state needs.
func (p *Platform) readOrder(oc *orderCtx, id string) error {
	var err error
	if oc.order, err = oc.snap.Order(id); err != nil {
		if isNotFound(err) {
			return notFound("order", id)
		}
		return wrap("order", err)
	}
	if oc.status, err = oc.snap.Status(id); err != nil {
		return wrap("order", err)
	}
	if oc.holder, err = oc.snap.Holder(oc.order.HolderID); err != nil {
		return wrap("order", err)
	}
	if oc.status.ProductID != "" {
		pr, err := oc.snap.Product(oc.status.ProductID)
		if err != nil {
			return wrap("order", err)
		}
		oc.product = &pr
	}
	if oc.changes, err = oc.snap.StatusChanges(id); err != nil {
		return wrap("order", err)
	}
	oc.state, err = stateOf(oc.status, oc.product, oc.changes)
	return err
}

// stateOf rebuilds the lifecycle state of an order from its status record,
// product and history.
func stateOf(st store.StatusRecord, pr *store.Product, changes []store.StatusChange) (lifecycle.State, error) {
	s, err := lifecycle.ParseStatus(string(st.Status))
	if err != nil {
		return lifecycle.State{}, &Error{Op: "order", Err: err}
	}
	out := lifecycle.State{Status: s}
	if pr != nil && len(pr.Certificates) > 0 {
		out.NotAfter = pr.Certificates[0].NotAfter
	}
	last := func(to store.Status) *store.StatusChange {
		for i := len(changes) - 1; i >= 0; i-- {
			if changes[i].To == to {
				return &changes[i]
			}
		}
		return nil
	}
	if s == lifecycle.StatusSuspended {
		if ch := last(store.StatusSuspended); ch != nil {
			start := ch.RevocationTime
			if start.IsZero() {
				start = ch.At
			}
			out.Suspension = &lifecycle.Suspension{Start: start, End: ch.HoldUntil, Notes: ch.Notes,
				Contract: ch.ContractBlob, By: ch.ActorID}
		}
	}
	if s == lifecycle.StatusRevoked {
		if ch := last(store.StatusRevoked); ch != nil {
			rq, _ := lifecycle.ParseRequester(ch.Requester) //nolint:errcheck // written by revoke
			out.Revocation = &lifecycle.Revocation{Requester: rq, Motivation: motivationOf(lifecycle.Reason(ch.ReasonCode)),
				Notes: ch.Notes, Contract: ch.ContractBlob, Reason: lifecycle.Reason(ch.ReasonCode), RequestedAt: ch.At,
				RevocationTime: ch.RevocationTime, Publication: publicationOf(ch.Mode), By: ch.ActorID}
		}
	}
	return out, nil
}

// motivationOf inverts lifecycle.Motivation.Reason, which is one to one.
func motivationOf(r lifecycle.Reason) lifecycle.Motivation {
	for _, m := range lifecycle.Motivations() {
		if m.Reason() == r {
			return m
		}
	}
	return lifecycle.MotivationOfficeProcedure
}

func publicationOf(m store.PublicationMode) lifecycle.Publication {
	switch m {
	case store.PublicationImmediate:
		return lifecycle.PublicationImmediate
	case store.PublicationNormal:
		return lifecycle.PublicationNormal
	}
	return lifecycle.PublicationDefault
}

func storeMode(m lifecycle.Publication) store.PublicationMode {
	switch m {
	case lifecycle.PublicationImmediate:
		return store.PublicationImmediate
	case lifecycle.PublicationNormal:
		return store.PublicationNormal
	}
	return store.PublicationNone
}

// operatorActor is the lifecycle actor of an operator: the permissions of
// their roles, spelt identically in access and lifecycle.
func operatorActor(aop access.Operator) lifecycle.Actor {
	perms := aop.Permissions()
	grants := make([]lifecycle.Permission, len(perms))
	for i, pm := range perms {
		grants[i] = lifecycle.Permission(pm)
	}
	return lifecycle.Actor{Kind: lifecycle.ActorOperator, ID: aop.ID, Grants: grants}
}

// auditAction is the audit trail's name of a lifecycle action: the
// permission its table row names, such as "product.suspend".
func auditAction(a lifecycle.Action) string {
	for _, r := range lifecycle.Table() {
		if r.Action == a && r.Permission != lifecycle.PermSchedule {
			return string(r.Permission)
		}
	}
	return "lifecycle." + a.String()
}

// decide authorises action a on the order of oc for its operator and
// applies it to the order's state. Authorisation goes through access (the
// operator's organisation, the permission of the action's row) and then
// through lifecycle's table; refused authorisations are audited as
// refusals, other refusals change nothing.
func (p *Platform) decide(ctx context.Context, oc *orderCtx, a lifecycle.Action, in lifecycle.Input, now time.Time) (lifecycle.Transition, error) {
	row, ok := p.machine.Row(a)
	if !ok {
		return lifecycle.Transition{}, fmt.Errorf("%w: unknown action %s", ErrInvalidInput, a)
	}
	op := auditAction(a)
	if err := access.Authorize(oc.aop, access.Permission(row.Permission), oc.order.OrgID); err != nil {
		return lifecycle.Transition{}, p.refuse(ctx, op, oc.aop.Org, oc.aop.ID, oc.order.ID, err)
	}
	tr, err := p.machine.Apply(oc.state, a, operatorActor(oc.aop), in, now)
	if errors.Is(err, lifecycle.ErrPermission) {
		return lifecycle.Transition{}, p.refuse(ctx, op, oc.aop.Org, oc.aop.ID, oc.order.ID, err)
	}
	if err != nil {
		return lifecycle.Transition{}, wrap(op, err)
	}
	return tr, nil
}

// changeCommand returns the ChangeStatus of a transition, with the pending
// publication (deadline) of lifecycle's PendingChange.
func changeCommand(orderID string, expect uint64, tr lifecycle.Transition) store.ChangeStatus {
	ch := store.StatusChange{ID: newID("sc-"), OrderID: orderID, From: store.Status(tr.From.String()),
		To: store.Status(tr.To.String()), At: tr.At, ActorID: tr.Actor, ReasonCode: -1}
	if s := tr.State.Suspension; s != nil && tr.Action == lifecycle.ActionSuspend {
		ch.HoldUntil, ch.Notes, ch.ContractBlob = s.End, s.Notes, s.Contract
	}
	if r := tr.State.Revocation; r != nil && tr.To == lifecycle.StatusRevoked {
		ch.Requester, ch.Notes, ch.ContractBlob = r.Requester.String(), r.Notes, r.Contract
		ch.ReasonCode, ch.RevocationTime = int32(r.Reason), r.RevocationTime
	}
	if pc := tr.Pending; pc != nil {
		ch.ReasonCode = int32(pc.Reason)
		ch.RevocationTime = pc.RevocationTime
		ch.Mode = storeMode(pc.Mode)
		ch.Deadline = pc.Deadline
	}
	cs := store.ChangeStatus{Change: ch, ExpectVersion: expect}
	if tr.Action == lifecycle.ActionIssue {
		cs.ActivatedAt = tr.At
	}
	return cs
}

// commit applies a transition: the status change (when the status moves or
// a publication is pending), the extra commands and the audit event, in one
// batch.
func (p *Platform) commit(ctx context.Context, oc *orderCtx, tr lifecycle.Transition, input string, extra ...store.Command) error {
	cmds := slices.Clone(extra)
	d := auditDetails{Outcome: outcomeDone, From: tr.From.String(), To: tr.To.String(), Input: input}
	if tr.From != tr.To || tr.Pending != nil {
		cs := changeCommand(oc.order.ID, oc.status.Version, tr)
		d.Change = cs.Change.ID
		cmds = append([]store.Command{cs}, cmds...)
	}
	cmds = append(cmds, auditEvent(oc.order.OrgID, tr.Actor, auditAction(tr.Action), oc.order.ID, tr.At, d))
	if _, err := p.apply(ctx, auditAction(tr.Action), cmds...); err != nil {
		return err
	}
	if ev, ok := p.machine.NextEvent(tr.State); ok {
		p.notifyAt(ev.At)
	}
	if tr.Pending != nil {
		p.pub.scheduler.Notify()
	}
	return nil
}

// applicationID is the ID of the n-th saved version of an order's
// application data (the request form's content), kept as an evidence
// reference to a blob: the order record holds only the indexed fields.
func applicationID(orderID string, n int) string { return orderID + ".a" + strconv.Itoa(n) }

// refNumber returns n of a reference ID made as orderID + kind + n (n ≥ 1),
// or 0 when id is not one.
func refNumber(id, orderID, kind string) int {
	rest, ok := strings.CutPrefix(id, orderID+kind)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || strconv.Itoa(n) != rest {
		return 0
	}
	return n
}

// application returns the latest saved application of an order and its
// version number.
func (p *Platform) application(ctx context.Context, snap store.Snapshot, orderID string) (OrderInput, int, error) {
	refs, err := snap.OrderEvidence(orderID)
	if err != nil {
		return OrderInput{}, 0, wrap("order", err)
	}
	n := 0
	var ref store.EvidenceRef
	for _, r := range refs {
		if k := refNumber(r.ID, orderID, ".a"); k > n {
			ref, n = r, k
		}
	}
	if n == 0 {
		return OrderInput{}, 0, &Error{Op: "order", Err: fmt.Errorf("order %q has no application data", orderID)}
	}
	var in OrderInput
	if err := p.getJSON(ctx, ref.Blobs[0], &in); err != nil {
		return OrderInput{}, 0, err
	}
	return in, n, nil
}
