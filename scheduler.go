package registra

import (
	"context"
	"errors"
	"time"

	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// schedulerLease is the name of the store lease under which one node runs
// the time-driven transitions and seals the audit trail.
const schedulerLease = "registra.scheduler"

// DueReport says what one scheduler pass did.
type DueReport struct {
	// Skipped is set when another node holds the scheduler's lease.
	Skipped bool
	// Released, Revoked and Expired count the holds released, the holds
	// that ended in a revocation (HoldEndRevoke) and the expired products.
	Released, Revoked, Expired int
	// Abandoned counts the issuance intents given up (see
	// [IntentRecoveryAge]).
	Abandoned int
	// Next is when the next automatic transition falls due; zero when
	// none will.
	Next time.Time
}

// RunDue makes one pass of the time-driven transitions at now, under the
// scheduler's store lease: suspensions whose end date has come are released
// (or revoked, as Config.Lifecycle.HoldEnd says), products past their
// notAfter expire, each with its pending publication and audit event; then
// the audit trail is sealed. Package lifecycle decides what is due.
func (p *Platform) RunDue(ctx context.Context, now time.Time) (DueReport, error) {
	ttl := p.cfg.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	tok, _, err := p.store.Leases().Acquire(ctx, schedulerLease, p.holderID, ttl)
	if errors.Is(err, store.ErrConflict) {
		return DueReport{Skipped: true}, nil
	}
	if err != nil {
		return DueReport{}, wrap("schedule", err)
	}
	var rep DueReport
	for _, q := range []scheduleIndex{holdsEnding, expiring} {
		if err := p.runDue(ctx, &tok, q, now, &rep); err != nil {
			return rep, err
		}
	}
	if err := p.recoverIntents(ctx, &tok, now, &rep); err != nil {
		return rep, err
	}
	if err := p.dropExpiredSteps(ctx, &tok, now); err != nil {
		return rep, err
	}
	if err := p.dropExpiredSessions(ctx, &tok, now); err != nil {
		return rep, err
	}
	if err := p.sealAudit(ctx, &tok); err != nil {
		return rep, err
	}
	return rep, nil
}

// IntentRecoveryAge is how old an open issuance intent must be before the
// scheduler gives it up. Issuance signs and completes within one call, so an
// intent left open that long belongs to a call that crashed between the
// intent and its completion: its certificate, signed or not, was never
// stored nor handed out, and its serial stays reserved.
const IntentRecoveryAge = 10 * time.Minute

// recoverIntents abandons issuance intents left open by a crash (two-phase
// issuance, STORE.md).
func (p *Platform) recoverIntents(ctx context.Context, tok *store.LeaseToken, now time.Time, rep *DueReport) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	var stale []store.Command
	err = snap.OpenIntents(func(in store.IntentRecord) error {
		if now.Sub(in.CreatedAt) < IntentRecoveryAge || len(stale) == store.MaxCommands {
			return errStop // oldest first: the rest are younger
		}
		stale = append(stale, store.AbandonIntent{IntentID: in.ID, Reason: "recovered: issuance did not complete"})
		return nil
	})
	snap.Close()
	if err != nil && !errors.Is(err, errStop) {
		return wrap("schedule", err)
	}
	if len(stale) == 0 {
		return nil
	}
	if _, err := p.store.Apply(ctx, &store.Batch{Fence: tok, Commands: stale}); err != nil {
		return wrap("schedule", err)
	}
	rep.Abandoned += len(stale)
	p.log.Warn("abandoned issuance intents left open", "count", len(stale))
	return nil
}

// scheduleIndex is one of the store's schedule indexes: suspensions by end
// date, or products by notAfter.
type scheduleIndex struct {
	query func(snap store.Snapshot, from, to time.Time, limit int) ([]store.Schedule, error)
	at    func(store.Schedule) time.Time // the time the index sorts by
}

var (
	holdsEnding = scheduleIndex{
		query: func(snap store.Snapshot, from, to time.Time, limit int) ([]store.Schedule, error) {
			return snap.HoldsEnding(from, to, limit)
		},
		at: func(sc store.Schedule) time.Time { return sc.HoldUntil },
	}
	expiring = scheduleIndex{
		query: func(snap store.Snapshot, from, to time.Time, limit int) ([]store.Schedule, error) {
			return snap.Expiring(from, to, limit)
		},
		at: func(sc store.Schedule) time.Time { return sc.NotAfter },
	}
)

// schedulePage is how many schedule records one read of a pass takes.
const schedulePage = 500

// runDue handles the orders whose schedule (in the index q) falls at or
// before now, earliest first, then notes the first later event of q. The
// index only selects the orders: package lifecycle decides what is due.
func (p *Platform) runDue(ctx context.Context, tok *store.LeaseToken, q scheduleIndex, now time.Time, rep *DueReport) error {
	seen := map[string]bool{}
	var from time.Time
	for {
		snap, err := p.snapshot(ctx)
		if err != nil {
			return err
		}
		due, err := q.query(snap, from, now, schedulePage)
		if err != nil {
			snap.Close()
			return wrap("schedule", err)
		}
		fresh := 0
		for _, sc := range due {
			if seen[sc.OrderID] {
				continue
			}
			seen[sc.OrderID] = true
			fresh++
			oc := &orderCtx{snap: snap}
			if err := p.readOrder(oc, sc.OrderID); err != nil {
				snap.Close()
				return err
			}
			if err := p.runDueOrder(ctx, tok, oc, now, rep); err != nil {
				snap.Close()
				return err
			}
		}
		snap.Close()
		if len(due) < schedulePage || fresh == 0 {
			break
		}
		// Handled orders leave the index (or move on); the rest of this
		// instant and later ones come next.
		from = q.at(due[len(due)-1])
	}
	return p.noteNext(ctx, q, now, rep)
}

// noteNext moves rep.Next to the first event after now of the earliest
// orders in q's index from now on.
func (p *Platform) noteNext(ctx context.Context, q scheduleIndex, now time.Time, rep *DueReport) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	defer snap.Close()
	next, err := q.query(snap, now, lastTime, nextLookahead)
	if err != nil {
		return wrap("schedule", err)
	}
	for _, sc := range next {
		oc := &orderCtx{snap: snap}
		if err := p.readOrder(oc, sc.OrderID); err != nil {
			return err
		}
		if ev, ok := p.machine.NextEvent(oc.state); ok && ev.At.After(now) && (rep.Next.IsZero() || ev.At.Before(rep.Next)) {
			rep.Next = ev.At
		}
	}
	return nil
}

// nextLookahead is how many orders noteNext reads: more than one, so that
// an order left due (it changed during the pass) does not hide the next.
const nextLookahead = 8

// lastTime is the latest time the store keeps.
var lastTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)

// cleanupPage is how many expired records one batch deletes.
const cleanupPage = 500

// dropExpiredSessions deletes the sessions whose absolute end has passed
// (sessions that ended idle go with them at their absolute end).
func (p *Platform) dropExpiredSessions(ctx context.Context, tok *store.LeaseToken, now time.Time) error {
	return p.dropExpired(ctx, tok, func(snap store.Snapshot) ([]store.Command, error) {
		old, err := snap.ExpiredSessions(now, cleanupPage)
		cmds := make([]store.Command, len(old))
		for i, s := range old {
			cmds[i] = store.DeleteSession{ID: s.ID}
		}
		return cmds, err
	})
}

// dropExpired deletes expired records a page at a time: expired returns the
// deletions of up to cleanupPage of them, read from a snapshot, until a
// page comes back short.
func (p *Platform) dropExpired(ctx context.Context, tok *store.LeaseToken, expired func(store.Snapshot) ([]store.Command, error)) error {
	for {
		snap, err := p.snapshot(ctx)
		if err != nil {
			return err
		}
		cmds, err := expired(snap)
		snap.Close()
		if err != nil {
			return wrap("schedule", err)
		}
		if len(cmds) == 0 {
			return nil
		}
		if _, err := p.store.Apply(ctx, &store.Batch{Fence: tok, Commands: cmds}); err != nil {
			return wrap("schedule", err)
		}
		if len(cmds) < cleanupPage {
			return nil
		}
	}
}

// runDueOrder applies the automatic action due for one order, if any, and
// notes the next one.
func (p *Platform) runDueOrder(ctx context.Context, tok *store.LeaseToken, oc *orderCtx, now time.Time, rep *DueReport) error {
	a, due := p.machine.Due(oc.state, now)
	if !due {
		if ev, ok := p.machine.NextEvent(oc.state); ok && (rep.Next.IsZero() || ev.At.Before(rep.Next)) {
			rep.Next = ev.At
		}
		return nil
	}
	tr, err := p.machine.Apply(oc.state, a, lifecycle.System(), lifecycle.Input{}, now)
	if err != nil {
		return wrap("schedule", err)
	}
	cs := changeCommand(oc.order.ID, oc.status.Version, tr)
	cmds := []store.Command{cs, auditEvent(oc.order.OrgID, tr.Actor, auditAction(a), oc.order.ID, now,
		auditDetails{Outcome: outcomeDone, From: tr.From.String(), To: tr.To.String(), Change: cs.Change.ID})}
	if _, err := p.store.Apply(ctx, &store.Batch{Fence: tok, Commands: cmds}); err != nil {
		if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrLeaseLost) {
			// The order changed meanwhile (an operator acted): the next
			// pass sees its new state.
			return nil
		}
		return wrap("schedule", err)
	}
	if tr.Pending != nil {
		p.pub.scheduler.Notify()
	}
	switch {
	case tr.To == lifecycle.StatusExpired:
		rep.Expired++
	case tr.To == lifecycle.StatusRevoked:
		rep.Revoked++
	default:
		rep.Released++
	}
	if next, ok := p.machine.NextEvent(tr.State); ok && (rep.Next.IsZero() || next.At.Before(rep.Next)) {
		rep.Next = next.At
	}
	return nil
}

// Run runs the platform's background work until ctx ends, and returns
// ctx's error: the time-driven transitions (a pass of [Platform.RunDue],
// then a sleep until the next automatic transition, at most
// Config.SchedulerInterval, moved forward when an operator's action
// announces an earlier event) and the CRL scheduler, which publishes every pending change of
// revocation status before its deadline.
func (p *Platform) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	crlDone := make(chan error, 1)
	go func() { crlDone <- p.pub.scheduler.Run(ctx) }()
	err := p.runLifecycle(ctx)
	cancel()
	<-crlDone
	return err
}

// runLifecycle is Run's loop of time-driven transitions.
func (p *Platform) runLifecycle(ctx context.Context) error {
	interval := p.cfg.SchedulerInterval
	if interval == 0 {
		interval = DefaultSchedulerInterval
	}
	for {
		now := p.now()
		rep, err := p.RunDue(ctx, now)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			p.log.Error("scheduler pass failed", "err", err)
		}
		next := now.Add(interval)
		if !rep.Next.IsZero() && rep.Next.Before(next) {
			next = rep.Next
		}
		// Sleep until the next pass; an operator's action that announces
		// an earlier event (a suspension's end) moves it forward without a
		// pass, so that issuing or suspending costs no scan.
		for slept := false; !slept; {
			// The store keeps microseconds: wake just after the event.
			t := time.NewTimer(max(next.Sub(p.now())+time.Microsecond, 0))
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
				slept = true
			case <-p.wake:
				t.Stop()
				if at := p.takeWakeAt(); !at.IsZero() && at.Before(next) {
					next = at
				}
			}
		}
	}
}
