package crl

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
)

// SchedulerConfig configures [NewScheduler].
type SchedulerConfig struct {
	// Scope is the CRL scope (one issuing CA). Required.
	Scope Scope
	// Source reads the scope's revocation state. Required.
	Source Source
	// Journal keeps CRL numbers, the head and receipts durably. Required.
	Journal Journal
	// Signer is the issuing CA. Required.
	Signer Signer
	// Publishers receive every CRL, in order; all must accept it before
	// the publication is recorded. Required (at least one).
	Publishers []Publisher
	// Linter lints every CRL before it is published; nil means
	// [NewLinter]'s.
	Linter *Linter

	// FullInterval is the longest time between two full CRLs; zero means
	// 6 hours.
	FullInterval time.Duration
	// FullValidity is nextUpdate − thisUpdate of a full CRL; zero means 24
	// hours. It must exceed FullInterval, so a full CRL is always reissued
	// before its nextUpdate.
	FullValidity time.Duration
	// DeltaInterval is the longest time between two delta CRLs; zero means
	// 30 minutes.
	DeltaInterval time.Duration
	// DeltaValidity is nextUpdate − thisUpdate of a delta CRL; zero means
	// 2 hours. It must exceed DeltaInterval.
	DeltaValidity time.Duration
	// Coalesce is how long an immediate change waits for others to share
	// its delta CRL; zero means 5 seconds. Under a burst of revocations
	// this bounds signing to one delta CRL per window.
	Coalesce time.Duration
	// Margin is how long before its deadline a normal change is published
	// at the latest; zero means 1 hour.
	Margin time.Duration
	// RetryDelay is the wait after a failed publication; zero means 30
	// seconds.
	RetryDelay time.Duration
	// Poll is the longest Run sleeps without looking for changes recorded
	// without [Scheduler.Notify] (by another node); zero means 1 minute.
	Poll time.Duration

	// DistributionPoint is the URI of the full CRL named by certificates
	// and by the issuing distribution point extension; empty means no
	// extension.
	DistributionPoint string
	// DeltaURL is where delta CRLs are published (freshest CRL
	// extension); empty means no extension.
	DeltaURL string
	// ExpiredCertsOnCRL is the date from which entries of expired
	// certificates are kept; zero means the issuing certificate's
	// NotBefore (every entry it ever listed is kept).
	ExpiredCertsOnCRL time.Time

	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives publications and failures; nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names the first bad one.
func (c *SchedulerConfig) Validate() error {
	d := c.withDefaults()
	switch {
	case c.Scope == "":
		return &FieldError{Field: "scope", Rule: "required"}
	case c.Source == nil:
		return &FieldError{Field: "source", Rule: "required"}
	case c.Journal == nil:
		return &FieldError{Field: "journal", Rule: "required"}
	case c.Signer == nil || c.Signer.Certificate() == nil:
		return &FieldError{Field: "signer", Rule: "required"}
	case len(c.Publishers) == 0 || slices.Contains(c.Publishers, nil):
		return &FieldError{Field: "publishers", Rule: "at least one, none nil"}
	case c.FullInterval < 0 || c.FullValidity < 0 || c.DeltaInterval < 0 || c.DeltaValidity < 0 ||
		c.Coalesce < 0 || c.Margin < 0 || c.RetryDelay < 0 || c.Poll < 0:
		return &FieldError{Field: "intervals", Rule: "must not be negative"}
	case d.FullValidity <= d.FullInterval:
		return &FieldError{Field: "full_validity", Rule: "must exceed full_interval (nextUpdate never lapses)"}
	case d.DeltaValidity <= d.DeltaInterval:
		return &FieldError{Field: "delta_validity", Rule: "must exceed delta_interval (nextUpdate never lapses)"}
	case d.DeltaInterval > d.FullInterval:
		return &FieldError{Field: "delta_interval", Rule: "must not exceed full_interval"}
	case d.Coalesce >= d.Margin:
		return &FieldError{Field: "coalesce", Rule: "must be shorter than margin"}
	}
	if _, err := sigAlgFor(c.Signer.Certificate().PublicKey); err != nil {
		return err
	}
	return nil
}

func (c SchedulerConfig) withDefaults() SchedulerConfig {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.FullInterval, 6*time.Hour)
	def(&c.FullValidity, 24*time.Hour)
	def(&c.DeltaInterval, 30*time.Minute)
	def(&c.DeltaValidity, 2*time.Hour)
	def(&c.Coalesce, 5*time.Second)
	def(&c.Margin, time.Hour)
	def(&c.RetryDelay, 30*time.Second)
	def(&c.Poll, time.Minute)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ExpiredCertsOnCRL.IsZero() && c.Signer != nil && c.Signer.Certificate() != nil {
		c.ExpiredCertsOnCRL = c.Signer.Certificate().NotBefore
	}
	return c
}

// Scheduler publishes one scope's CRLs against the deadlines of its
// pending status changes. [Scheduler.PublishDue] is one pass;
// [Scheduler.Run] loops over passes (Boulder's Run/RunOnce pairing).
type Scheduler struct {
	cfg     SchedulerConfig
	log     *slog.Logger
	notify  chan struct{}
	metrics *Metrics
}

// NewScheduler checks cfg and returns a scheduler.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	cfg.Publishers = slices.Clone(cfg.Publishers)
	if cfg.Linter == nil {
		l, err := NewLinter()
		if err != nil {
			return nil, err
		}
		cfg.Linter = l
	}
	return &Scheduler{cfg: cfg, log: cfg.Logger, notify: make(chan struct{}, 1), metrics: newMetrics(cfg.Scope)}, nil
}

// Notify wakes Run to look at new changes (call it after committing a
// status change). It never blocks.
func (s *Scheduler) Notify() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Pass is the outcome of one [Scheduler.PublishDue].
type Pass struct {
	// Published holds the CRLs published: none, a delta, or a full CRL
	// followed by a fresh delta CRL based on it.
	Published []*Published
	// Receipts are those of the changes first carried.
	Receipts []Receipt
	// Next is when a publication falls due if no change arrives.
	Next time.Time
}

// Run publishes until ctx ends, and returns ctx's error. It begins with a
// full CRL, so that sinks holding CRLs in memory serve one at once after a
// restart, and so that changes left pending by a crash are published at
// once (their receipts record the lateness); then it sleeps until the next
// due time, a [Scheduler.Notify], or Poll. A failed pass is logged and
// retried after RetryDelay.
func (s *Scheduler) Run(ctx context.Context) error {
	first := true
	for {
		now := s.cfg.Now()
		var (
			p   Pass
			err error
		)
		if first {
			p, err = s.pass(ctx, now, true)
		} else {
			p, err = s.PublishDue(ctx, now)
		}
		wait := s.cfg.RetryDelay
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.ErrorContext(ctx, "crl: publication failed", logattr.Issuer, string(s.cfg.Scope), "error", err)
		} else {
			first = false
			wait = min(max(p.Next.Sub(s.cfg.Now()), 0), s.cfg.Poll)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		case <-s.notify:
			t.Stop()
		}
	}
}

// PublishDue publishes what is due at now: a full CRL when the cadence
// calls for one (or none was ever published), otherwise a delta CRL when
// the cadence, a coalescing window or a normal change's deadline margin
// has come, or when a change is overdue. Nothing is recorded unless every
// check and every publisher succeeded.
func (s *Scheduler) PublishDue(ctx context.Context, now time.Time) (Pass, error) {
	return s.pass(ctx, now, false)
}

func (s *Scheduler) pass(ctx context.Context, now time.Time, forceFull bool) (Pass, error) {
	// Decisions use now as given (truncating it could make a due time in
	// the next fraction of a second look both not due and past); CRL times
	// are whole seconds, as DER carries them.
	stamp := now.UTC().Truncate(time.Second)
	head, err := s.cfg.Journal.Head(ctx, s.cfg.Scope)
	if err != nil {
		return Pass{}, fmt.Errorf("crl: reading head: %w", err)
	}
	view, err := s.cfg.Source.View(ctx, s.cfg.Scope)
	if err != nil {
		return Pass{}, fmt.Errorf("crl: opening view: %w", err)
	}
	defer view.Close()
	var pending []Change
	for c, err := range view.Changes(ctx, head.Seq()) {
		if err != nil {
			return Pass{}, fmt.Errorf("crl: reading changes: %w", err)
		}
		pending = append(pending, c)
	}
	full, delta, next := s.plan(head, pending, now)
	if forceFull {
		full = true
	}
	if !full && !delta {
		return Pass{Next: next}, nil
	}

	pub := &Publication{}
	var out []*Published
	baseNumber, baseSeq := (*big.Int)(nil), uint64(0)
	if full {
		p, err := s.buildFull(ctx, view, head, stamp)
		if err != nil {
			return Pass{}, err
		}
		out = append(out, p)
		pub.Full = &p.CRLInfo
		baseNumber, baseSeq = p.Number, p.Seq
	} else {
		baseNumber, baseSeq = head.Full.Number, head.Full.Seq
	}
	d, err := s.buildDelta(ctx, view, head, baseNumber, baseSeq, stamp)
	if err != nil {
		return Pass{}, err
	}
	out = append(out, d)
	pub.Delta = &d.CRLInfo

	for _, p := range out {
		for _, sink := range s.cfg.Publishers {
			if err := sink.Publish(ctx, p); err != nil {
				return Pass{}, fmt.Errorf("crl: publishing crl %s: %w", p.Number, err)
			}
		}
	}
	publishedAt := s.cfg.Now().UTC()
	first := out[0]
	for _, c := range pending {
		if c.Seq > view.Seq() {
			break
		}
		pub.Receipts = append(pub.Receipts, Receipt{
			Scope: s.cfg.Scope, Seq: c.Seq, SerialNumber: c.SerialNumber, Kind: c.Kind, Mode: c.Mode,
			RequestedAt: c.RequestedAt, Deadline: c.Deadline, PublishedAt: publishedAt,
			CRLNumber: first.Number, Delta: first.Delta,
		})
	}
	if err := s.cfg.Journal.Record(ctx, s.cfg.Scope, pub); err != nil {
		return Pass{}, fmt.Errorf("crl: recording publication: %w", err)
	}
	s.metrics.observe(out, pub.Receipts)
	for _, r := range pub.Receipts {
		if r.Missed() {
			s.log.WarnContext(ctx, "crl: status change published late", logattr.Serial, r.SerialNumber.Text(16),
				logattr.Deadline, r.Deadline, "late", r.Late(), logattr.CRLNumber, r.CRLNumber.String())
		}
	}
	for _, p := range out {
		s.log.InfoContext(ctx, "crl: published", logattr.Issuer, string(s.cfg.Scope), logattr.CRLNumber, p.Number.String(),
			"delta", p.Delta, "entries", p.Entries)
	}
	newHead := Head{Full: head.Full, Delta: pub.Delta}
	if pub.Full != nil {
		newHead.Full = pub.Full
	}
	_, _, next = s.plan(newHead, nil, now)
	return Pass{Published: out, Receipts: pub.Receipts, Next: next}, nil
}

// plan decides what is due at now and when the next publication falls due.
func (s *Scheduler) plan(head Head, pending []Change, now time.Time) (full, delta bool, next time.Time) {
	if head.Full == nil || head.Delta == nil {
		return true, true, now
	}
	fullAt := head.Full.ThisUpdate.Add(s.cfg.FullInterval)
	deltaAt := head.Delta.ThisUpdate.Add(s.cfg.DeltaInterval)
	for _, c := range pending {
		at := c.Deadline.Add(-s.cfg.Margin)
		if c.Mode == Immediate {
			at = earliest(c.RequestedAt.Add(s.cfg.Coalesce), c.Deadline)
		}
		if at.Before(deltaAt) {
			deltaAt = at
		}
	}
	if !now.Before(fullAt) {
		return true, true, now
	}
	if !now.Before(deltaAt) {
		return false, true, now
	}
	return false, false, earliest(fullAt, deltaAt)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// checkNumber makes sure n exceeds every number published (RFC 5280
// §5.2.3; Boulder's storer does the same before it uploads).
func checkNumber(n *big.Int, head Head, extra ...*big.Int) error {
	last := head.LastNumber()
	for _, e := range extra {
		if e != nil && (last == nil || e.Cmp(last) > 0) {
			last = e
		}
	}
	if last != nil && n.Cmp(last) <= 0 {
		return &NumberError{Number: n, Last: last}
	}
	return nil
}

// finish runs the post-signing checks: signature, number, lint.
func (s *Scheduler) finish(b *Built, n *big.Int, head Head, extra ...*big.Int) error {
	if err := b.Verify(s.cfg.Signer.Certificate()); err != nil {
		return err
	}
	if err := checkNumber(n, head, extra...); err != nil {
		return err
	}
	return s.cfg.Linter.Lint(b.DER)
}

func (s *Scheduler) buildFull(ctx context.Context, view View, head Head, now time.Time) (*Published, error) {
	n, err := s.cfg.Journal.ReserveNumber(ctx, s.cfg.Scope)
	if err != nil {
		return nil, fmt.Errorf("crl: reserving crl number: %w", err)
	}
	if err := checkNumber(n, head); err != nil {
		return nil, fmt.Errorf("crl: full crl: %w", err)
	}
	t := &Template{
		Number: n, ThisUpdate: now, NextUpdate: now.Add(s.cfg.FullValidity),
		DistributionPoint: s.cfg.DistributionPoint, FreshestCRL: s.cfg.DeltaURL, ExpiredCertsOnCRL: s.cfg.ExpiredCertsOnCRL,
	}
	b, err := Build(ctx, t, Reconcile(view.Entries(ctx), view.Listed(ctx)), s.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("crl: building full crl %s: %w", n, err)
	}
	if err := s.finish(b, n, head); err != nil {
		return nil, fmt.Errorf("crl: checking full crl %s: %w", n, err)
	}
	return &Published{Scope: s.cfg.Scope, CRLInfo: CRLInfo{Number: n, ThisUpdate: t.ThisUpdate, NextUpdate: t.NextUpdate, Seq: view.Seq()},
		Entries: b.Entries, DER: b.DER}, nil
}

func (s *Scheduler) buildDelta(ctx context.Context, view View, head Head, base *big.Int, baseSeq uint64, now time.Time) (*Published, error) {
	var changes []Change
	for c, err := range view.Changes(ctx, baseSeq) {
		if err != nil {
			return nil, fmt.Errorf("crl: reading changes: %w", err)
		}
		changes = append(changes, c)
	}
	entries := DeltaEntries(changes)
	// Reconcile: each entry must say what the status record says now.
	var rerr ReconcileError
	for _, e := range entries {
		st, err := view.Status(ctx, e.SerialNumber)
		if err != nil {
			return nil, fmt.Errorf("crl: reading status of %x: %w", e.SerialNumber, err)
		}
		switch {
		case e.ReasonCode == RemoveFromCRL && st.Listed():
			rerr.Missing = append(rerr.Missing, e.SerialNumber)
		case e.ReasonCode != RemoveFromCRL && (!st.Listed() || st.Reason != e.ReasonCode || !st.RevokedAt.Equal(e.RevocationTime)):
			rerr.Extra = append(rerr.Extra, e.SerialNumber)
		}
	}
	if len(rerr.Missing) > 0 || len(rerr.Extra) > 0 {
		return nil, fmt.Errorf("crl: building delta crl: %w", &rerr)
	}
	n, err := s.cfg.Journal.ReserveNumber(ctx, s.cfg.Scope)
	if err != nil {
		return nil, fmt.Errorf("crl: reserving crl number: %w", err)
	}
	if err := checkNumber(n, head, base); err != nil {
		return nil, fmt.Errorf("crl: delta crl: %w", err)
	}
	t := &Template{
		Number: n, BaseNumber: base, ThisUpdate: now, NextUpdate: now.Add(s.cfg.DeltaValidity),
		DistributionPoint: s.cfg.DistributionPoint, ExpiredCertsOnCRL: s.cfg.ExpiredCertsOnCRL,
	}
	b, err := Build(ctx, t, Entries(entries), s.cfg.Signer)
	if err != nil {
		return nil, fmt.Errorf("crl: building delta crl %s: %w", n, err)
	}
	if err := s.finish(b, n, head, base); err != nil {
		return nil, fmt.Errorf("crl: checking delta crl %s: %w", n, err)
	}
	return &Published{Scope: s.cfg.Scope, Delta: true,
		CRLInfo: CRLInfo{Number: n, BaseNumber: base, ThisUpdate: t.ThisUpdate, NextUpdate: t.NextUpdate, Seq: view.Seq()},
		Entries: b.Entries, DER: b.DER}, nil
}

// DeltaEntries computes the entries of a delta CRL from the changes made
// since its base (RFC 5280 §5.2.4), in serial order: every certificate
// listed now whose listing changed (newly revoked or held, or a hold
// turned into a revocation with its final reason), and removeFromCRL for
// every certificate listed on the base or since that is no longer listed
// (reactivated).
func DeltaEntries(changes []Change) []Entry {
	type acc struct {
		serial     *big.Int
		st         Status
		everListed bool
		last       Change
	}
	by := map[string]*acc{}
	var order []*acc
	for _, c := range changes {
		k := string(c.SerialNumber.Bytes())
		a, ok := by[k]
		if !ok {
			a = &acc{serial: c.SerialNumber}
			if c.From == Held {
				a.st = Status{State: Held, Reason: CertificateHold}
				a.everListed = true
			}
			by[k] = a
			order = append(order, a)
		}
		a.st = a.st.Apply(c)
		a.everListed = a.everListed || a.st.Listed()
		a.last = c
	}
	slices.SortFunc(order, func(x, y *acc) int { return x.serial.Cmp(y.serial) })
	out := make([]Entry, 0, len(order))
	for _, a := range order {
		switch {
		case a.st.Listed():
			out = append(out, a.st.Entry(a.serial))
		case a.everListed:
			out = append(out, Entry{SerialNumber: a.serial, RevocationTime: a.last.RevocationTime, ReasonCode: RemoveFromCRL})
		}
	}
	return out
}

// SLA reads every receipt of the scope and summarises them per mode.
func (s *Scheduler) SLA(ctx context.Context) (SLAReport, error) {
	return SLA(s.cfg.Journal.Receipts(ctx, s.cfg.Scope))
}
