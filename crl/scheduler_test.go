package crl_test

import (
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

const scope crl.Scope = "issuing-ca"

type schedFixture struct {
	h       *crltest.Hierarchy
	store   *crltest.Store
	journal *crltest.Journal
	rec     *crltest.Recorder
	http    *crl.HTTPSink
	s       *crl.Scheduler
	linter  *crl.Linter
}

// newSchedFixture builds a scheduler over fresh fakes; extra adjusts the
// config. Call it inside the synctest bubble when the test uses virtual
// time.
func newSchedFixture(t *testing.T, h *crltest.Hierarchy, linter *crl.Linter, extra func(*crl.SchedulerConfig)) *schedFixture {
	t.Helper()
	f := &schedFixture{h: h, store: crltest.NewStore(), journal: crltest.NewJournal(), rec: &crltest.Recorder{}, linter: linter}
	var err error
	f.http, err = crl.NewHTTPSink(crl.HTTPSinkConfig{FullPath: "/issuing.crl", DeltaPath: "/issuing-delta.crl"})
	require.NoError(t, err)
	f.s = f.newScheduler(t, extra)
	f.store.OnChange(f.s.Notify)
	return f
}

func (f *schedFixture) newScheduler(t *testing.T, extra func(*crl.SchedulerConfig)) *crl.Scheduler {
	t.Helper()
	cfg := crl.SchedulerConfig{
		Scope: scope, Source: f.store, Journal: f.journal, Signer: f.h.CRLSigner(),
		Publishers: []crl.Publisher{f.http, f.rec}, Linter: f.linter,
		DistributionPoint: crltest.CRLURL, DeltaURL: crltest.DeltaCRLURL,
	}
	if extra != nil {
		extra(&cfg)
	}
	s, err := crl.NewScheduler(cfg)
	require.NoError(t, err)
	return s
}

func sharedLinter(t *testing.T) *crl.Linter {
	t.Helper()
	l, err := crl.NewLinter()
	require.NoError(t, err)
	return l
}

// TestSchedulerSevenDays is acceptance 1: a week of virtual time with more
// than 10,000 status changes at random times and in random modes; every
// change must be on a published CRL before its deadline.
func TestSchedulerSevenDays(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, h, linter, nil)
		counter := &countingSink{}
		f.s = f.newScheduler(t, func(c *crl.SchedulerConfig) { c.Publishers = []crl.Publisher{f.http, counter} })
		f.store.OnChange(f.s.Notify)
		const serials = 12000
		for i := int64(1); i <= serials; i++ {
			f.store.Issue(big.NewInt(i))
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- f.s.Run(ctx) }()

		rng := rand.New(rand.NewPCG(6, 6))
		start := time.Now()
		end := start.Add(7 * 24 * time.Hour)
		changes := 0
		for time.Now().Before(end) {
			// Poisson arrivals, mean 45 s: about 13,000 arrivals in a
			// week, with bursts.
			time.Sleep(time.Duration(rng.ExpFloat64() * float64(45*time.Second)))
			serial := big.NewInt(1 + rng.Int64N(serials))
			st, err := f.store.Status(ctx, serial)
			require.NoError(t, err)
			mode := crl.Normal
			if rng.IntN(2) == 0 {
				mode = crl.Immediate
			}
			var kind crl.Kind
			switch st.State {
			case crl.Good:
				kind = []crl.Kind{crl.Revoke, crl.Suspend, crl.Suspend}[rng.IntN(3)]
			case crl.Held:
				kind = []crl.Kind{crl.Revoke, crl.Reactivate, crl.Reactivate}[rng.IntN(3)]
			default:
				continue
			}
			reason := []crl.Reason{crl.KeyCompromise, crl.AffiliationChanged, crl.Superseded, crl.CessationOfOperation, crl.PrivilegeWithdrawn}[rng.IntN(5)]
			_, err = f.store.Change(kind, serial, reason, mode, time.Now())
			require.NoError(t, err)
			changes++
		}
		// Let the last deadlines pass.
		time.Sleep(25 * time.Hour)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)

		all := f.store.Changes()
		require.GreaterOrEqual(t, len(all), 10000)
		receipts := f.journal.ReceiptList(scope)
		require.Len(t, receipts, len(all), "one receipt per change")
		for i, r := range receipts {
			c := all[i]
			require.Equal(t, c.Seq, r.Seq)
			require.False(t, r.Missed(), "change %d (%s, %s) published %v after its deadline", c.Seq, c.Kind, c.Mode, r.Late())
			// The CRL named by the receipt reflects the change.
			p := counter.byNumber(r.CRLNumber)
			require.NotNil(t, p)
			require.GreaterOrEqual(t, p.Seq, c.Seq)
			require.False(t, p.ThisUpdate.After(c.Deadline))
		}
		rep, err := f.s.SLA(ctx)
		require.NoError(t, err)
		assert.Zero(t, rep.Normal.Misses)
		assert.Zero(t, rep.Immediate.Misses)
		assert.Equal(t, len(all), rep.Normal.Count+rep.Immediate.Count)
		assert.LessOrEqual(t, rep.Immediate.WorstLag, time.Hour)
		fulls, deltas := counter.counts()
		t.Logf("7 virtual days: %d status changes, %d CRLs published (%d full, %d delta); immediate: worst lag %v, p99 %v; normal: worst lag %v, p99 %v",
			len(all), fulls+deltas, fulls, deltas, rep.Immediate.WorstLag, rep.Immediate.P99Lag, rep.Normal.WorstLag, rep.Normal.P99Lag)
		// Coalescing: far fewer CRLs than changes.
		assert.Less(t, fulls+deltas, len(all))
		// nextUpdate never lapsed: fulls came at most FullInterval apart.
		assert.LessOrEqual(t, counter.maxFullGap, 6*time.Hour+time.Minute)
		assert.LessOrEqual(t, counter.maxDeltaGap, 30*time.Minute+time.Minute, "delta CRLs reissued well before their 2 h nextUpdate")
	})
}

// countingSink keeps metadata only (no DER), for long simulations.
type countingSink struct {
	mu          chan struct{}
	meta        []crl.Published
	lastFull    time.Time
	maxFullGap  time.Duration
	lastDelta   time.Time
	maxDeltaGap time.Duration
}

func (c *countingSink) lock() {
	if c.mu == nil {
		c.mu = make(chan struct{}, 1)
	}
	c.mu <- struct{}{}
}
func (c *countingSink) unlock() { <-c.mu }

func (c *countingSink) Publish(_ context.Context, p *crl.Published) error {
	c.lock()
	defer c.unlock()
	m := *p
	m.DER = nil
	c.meta = append(c.meta, m)
	if p.Delta {
		if !c.lastDelta.IsZero() {
			c.maxDeltaGap = max(c.maxDeltaGap, p.ThisUpdate.Sub(c.lastDelta))
		}
		c.lastDelta = p.ThisUpdate
	}
	if !p.Delta {
		if !c.lastFull.IsZero() {
			c.maxFullGap = max(c.maxFullGap, p.ThisUpdate.Sub(c.lastFull))
		}
		c.lastFull = p.ThisUpdate
	}
	return nil
}

func (c *countingSink) byNumber(n *big.Int) *crl.Published {
	c.lock()
	defer c.unlock()
	for i := range c.meta {
		if c.meta[i].Number.Cmp(n) == 0 {
			return &c.meta[i]
		}
	}
	return nil
}

func (c *countingSink) counts() (fulls, deltas int) {
	c.lock()
	defer c.unlock()
	for _, m := range c.meta {
		if m.Delta {
			deltas++
		} else {
			fulls++
		}
	}
	return fulls, deltas
}

// TestSchedulerRestart is acceptance 3 at the crl level: a change recorded
// while no scheduler runs (a crash between revocation and publication) is
// published at once by the next scheduler over the same durable journal,
// and its receipt says how late it was.
func TestSchedulerRestart(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, h, linter, nil)
		f.store.Issue(big.NewInt(7))
		f.store.Issue(big.NewInt(8))
		ctx := t.Context()
		_, err := f.s.PublishDue(ctx, time.Now())
		require.NoError(t, err)
		firstHead, err := f.journal.Head(ctx, scope)
		require.NoError(t, err)

		// The revocation commits, then the process dies before the
		// coalescing window ends.
		c1, err := f.store.Change(crl.Revoke, big.NewInt(7), crl.KeyCompromise, crl.Immediate, time.Now())
		require.NoError(t, err)
		c2, err := f.store.Change(crl.Suspend, big.NewInt(8), 0, crl.Normal, time.Now())
		require.NoError(t, err)
		time.Sleep(3 * time.Hour)

		// Restart: a new scheduler over the same journal and store.
		s2 := f.newScheduler(t, nil)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- s2.Run(runCtx) }()
		synctest.Wait()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)

		rs := f.journal.ReceiptList(scope)
		require.Len(t, rs, 2)
		assert.Equal(t, c1.Seq, rs[0].Seq)
		assert.True(t, rs[0].Missed())
		assert.Equal(t, 2*time.Hour, rs[0].Late(), "immediate: deadline 1 h, published 3 h after")
		assert.Equal(t, 3*time.Hour, rs[0].Lag())
		assert.Equal(t, c2.Seq, rs[1].Seq)
		assert.False(t, rs[1].Missed(), "normal: still within 24 h")
		assert.Equal(t, 1, new(big.Int).Sub(rs[0].CRLNumber, firstHead.LastNumber()).Sign(), "a new, larger CRL number")
		served := f.http.Current(false)
		require.NotNil(t, served)
		assert.Equal(t, rs[0].CRLNumber, served.Number, "the new full CRL is served")
		rep, err := s2.SLA(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Immediate.Misses)
		assert.Equal(t, 2*time.Hour, rep.Immediate.WorstLate)
	})
}

// TestSchedulerPublishDueOverdue: a single pass after a restart publishes
// overdue changes on a delta CRL without waiting for the cadence.
func TestSchedulerPublishDueOverdue(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, h, linter, func(c *crl.SchedulerConfig) { c.DeltaInterval = 3 * time.Hour; c.DeltaValidity = 4 * time.Hour })
		f.store.Issue(big.NewInt(1))
		ctx := t.Context()
		_, err := f.s.PublishDue(ctx, time.Now())
		require.NoError(t, err)
		_, err = f.store.Change(crl.Revoke, big.NewInt(1), crl.Superseded, crl.Immediate, time.Now())
		require.NoError(t, err)
		time.Sleep(90 * time.Minute)
		s2 := f.newScheduler(t, func(c *crl.SchedulerConfig) { c.DeltaInterval = 3 * time.Hour; c.DeltaValidity = 4 * time.Hour })
		p, err := s2.PublishDue(ctx, time.Now())
		require.NoError(t, err)
		require.Len(t, p.Published, 1)
		assert.True(t, p.Published[0].Delta)
		require.Len(t, p.Receipts, 1)
		assert.Equal(t, 30*time.Minute, p.Receipts[0].Late())
	})
}

// TestSchedulerCoalescesBurst: 500 immediate revocations within 3 seconds
// go out on one delta CRL, not 500 CRLs.
func TestSchedulerCoalescesBurst(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, h, linter, nil)
		for i := int64(1); i <= 500; i++ {
			f.store.Issue(big.NewInt(i))
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- f.s.Run(ctx) }()
		synctest.Wait()
		before := len(f.rec.All())
		first := time.Now()
		for i := int64(1); i <= 500; i++ {
			_, err := f.store.Change(crl.Revoke, big.NewInt(i), crl.KeyCompromise, crl.Immediate, time.Now())
			require.NoError(t, err)
			time.Sleep(6 * time.Millisecond)
		}
		time.Sleep(10 * time.Second)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		after := f.rec.All()[before:]
		require.Len(t, after, 1, "one delta CRL for the burst")
		assert.True(t, after[0].Delta)
		assert.Equal(t, 500, after[0].Entries)
		assert.True(t, first.Add(5*time.Second).Truncate(time.Second).Equal(after[0].ThisUpdate), "published when the window closed")
		rs := f.journal.ReceiptList(scope)
		require.Len(t, rs, 500)
		for _, r := range rs {
			assert.Equal(t, after[0].Number, r.CRLNumber)
			assert.True(t, r.Delta)
		}
	})
}

// TestSchedulerRefusesUnsafeCRL: a CRL that would drop a revoked serial, a
// stale CRL number, or a failing sink publish nothing and record nothing.
func TestSchedulerRefusesUnsafeCRL(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	cases := []struct {
		name    string
		corrupt func(f *schedFixture)
		wantErr error
	}{
		{"entry table lost a revoked serial", func(f *schedFixture) { f.store.DropEntry(big.NewInt(2)) }, crl.ErrReconcile},
		{"crl number not above the last published", func(f *schedFixture) {
			f.s = f.newScheduler(t, func(c *crl.SchedulerConfig) { c.Journal = staleJournal{f.journal} })
		}, crl.ErrNumber},
		{"sink fails", func(f *schedFixture) {
			f.s = f.newScheduler(t, func(c *crl.SchedulerConfig) { c.Publishers = []crl.Publisher{failingSink{}} })
		}, errSink},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := newSchedFixture(t, h, linter, func(c *crl.SchedulerConfig) { c.FullInterval = time.Hour; c.DeltaInterval = time.Hour })
				for i := int64(1); i <= 3; i++ {
					f.store.Issue(big.NewInt(i))
					_, err := f.store.Change(crl.Revoke, big.NewInt(i), crl.KeyCompromise, crl.Normal, time.Now())
					require.NoError(t, err)
				}
				ctx := t.Context()
				_, err := f.s.PublishDue(ctx, time.Now())
				require.NoError(t, err)
				headBefore, err := f.journal.Head(ctx, scope)
				require.NoError(t, err)
				servedBefore := len(f.rec.All())
				tc.corrupt(f)
				time.Sleep(time.Hour)
				_, err = f.s.PublishDue(ctx, time.Now())
				require.ErrorIs(t, err, tc.wantErr)
				headAfter, err := f.journal.Head(ctx, scope)
				require.NoError(t, err)
				assert.Equal(t, headBefore.Full, headAfter.Full, "head unchanged")
				assert.Equal(t, headBefore.Delta, headAfter.Delta, "head unchanged")
				assert.Len(t, f.rec.All(), servedBefore, "nothing published")
			})
		})
	}
}

var errSink = errors.New("sink down")

type failingSink struct{}

func (failingSink) Publish(context.Context, *crl.Published) error { return errSink }

// staleJournal hands out a CRL number that was already used.
type staleJournal struct{ *crltest.Journal }

func (staleJournal) ReserveNumber(context.Context, crl.Scope) (*big.Int, error) {
	return big.NewInt(1), nil
}

func TestSchedulerConfigValidate(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	base := func() crl.SchedulerConfig {
		return crl.SchedulerConfig{Scope: scope, Source: crltest.NewStore(), Journal: crltest.NewJournal(),
			Signer: h.CRLSigner(), Publishers: []crl.Publisher{&crltest.Recorder{}}}
	}
	cases := []struct {
		name  string
		edit  func(*crl.SchedulerConfig)
		field string
	}{
		{"no scope", func(c *crl.SchedulerConfig) { c.Scope = "" }, "scope"},
		{"no source", func(c *crl.SchedulerConfig) { c.Source = nil }, "source"},
		{"no journal", func(c *crl.SchedulerConfig) { c.Journal = nil }, "journal"},
		{"no signer", func(c *crl.SchedulerConfig) { c.Signer = nil }, "signer"},
		{"no publishers", func(c *crl.SchedulerConfig) { c.Publishers = nil }, "publishers"},
		{"negative", func(c *crl.SchedulerConfig) { c.Coalesce = -1 }, "intervals"},
		{"full validity not above interval", func(c *crl.SchedulerConfig) { c.FullInterval = 24 * time.Hour }, "full_validity"},
		{"delta validity not above interval", func(c *crl.SchedulerConfig) { c.DeltaValidity = 10 * time.Minute }, "delta_validity"},
		{"coalesce not below margin", func(c *crl.SchedulerConfig) { c.Coalesce = 2 * time.Hour }, "coalesce"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base()
			tc.edit(&cfg)
			_, err := crl.NewScheduler(cfg)
			require.ErrorIs(t, err, crl.ErrInvalidInput)
			fe, ok := errors.AsType[*crl.FieldError](err)
			require.True(t, ok)
			assert.Equal(t, tc.field, fe.Field)
		})
	}
	_, err := crl.NewScheduler(base())
	require.NoError(t, err)
}
