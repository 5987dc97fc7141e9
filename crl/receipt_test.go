package crl_test

import (
	"math/big"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

func TestSLA(t *testing.T) {
	t.Parallel()
	r := func(mode crl.Mode, lag, sla time.Duration) crl.Receipt {
		return crl.Receipt{Mode: mode, RequestedAt: pinned, Deadline: pinned.Add(sla), PublishedAt: pinned.Add(lag)}
	}
	var rs []crl.Receipt
	for i := 1; i <= 200; i++ {
		rs = append(rs, r(crl.Immediate, time.Duration(i)*time.Second, time.Hour))
	}
	rs = append(rs, r(crl.Immediate, 90*time.Minute, time.Hour))
	rs = append(rs, r(crl.Normal, time.Hour, 24*time.Hour), r(crl.Normal, 30*time.Hour, 24*time.Hour))
	rep, err := crl.SLA(func(yield func(crl.Receipt, error) bool) {
		for _, x := range rs {
			if !yield(x, nil) {
				return
			}
		}
	})
	require.NoError(t, err)
	assert.Equal(t, crl.ModeReport{Count: 201, Misses: 1, WorstLag: 90 * time.Minute, P99Lag: 199 * time.Second, WorstLate: 30 * time.Minute}, rep.Immediate)
	assert.Equal(t, crl.ModeReport{Count: 2, Misses: 1, WorstLag: 30 * time.Hour, P99Lag: 30 * time.Hour, WorstLate: 6 * time.Hour}, rep.Normal)
}

func TestSchedulerMetrics(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	synctest.Test(t, func(t *testing.T) {
		f := newSchedFixture(t, h, linter, nil)
		reg := prometheus.NewPedanticRegistry()
		require.NoError(t, reg.Register(f.s.Collector()))
		f.store.Issue(big.NewInt(1))
		f.store.Issue(big.NewInt(2))
		ctx := t.Context()
		_, err := f.s.PublishDue(ctx, time.Now())
		require.NoError(t, err)
		_, err = f.store.Change(crl.Revoke, big.NewInt(1), crl.KeyCompromise, crl.Immediate, time.Now())
		require.NoError(t, err)
		_, err = f.store.Change(crl.Suspend, big.NewInt(2), 0, crl.Normal, time.Now())
		require.NoError(t, err)
		time.Sleep(2 * time.Hour) // the immediate change is an hour late
		_, err = f.s.PublishDue(ctx, time.Now())
		require.NoError(t, err)
		mfs, err := reg.Gather()
		require.NoError(t, err)
		got := map[string]float64{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				key := mf.GetName()
				for _, l := range m.GetLabel() {
					if l.GetName() != "scope" {
						key += " " + l.GetName() + "=" + l.GetValue()
					}
				}
				switch {
				case m.GetCounter() != nil:
					got[key] = m.GetCounter().GetValue()
				case m.GetHistogram() != nil:
					got[key] = float64(m.GetHistogram().GetSampleCount())
				case m.GetGauge() != nil:
					got[key] = m.GetGauge().GetValue()
				}
			}
		}
		assert.Equal(t, 1.0, got["registra_crl_sla_misses_total mode=immediate"])
		assert.Zero(t, got["registra_crl_sla_misses_total mode=normal"])
		assert.Equal(t, 1.0, got["registra_crl_status_changes_published_total mode=immediate"])
		assert.Equal(t, 1.0, got["registra_crl_status_changes_published_total mode=normal"])
		assert.Equal(t, 1.0, got["registra_crl_published_total kind=full"])
		assert.Equal(t, 2.0, got["registra_crl_published_total kind=delta"])
		assert.Equal(t, 1.0, got["registra_crl_publication_lag_seconds mode=immediate"])
		assert.Equal(t, 3.0, got["registra_crl_number kind=delta"])
		assert.Equal(t, float64(time.Now().Add(2*time.Hour).Unix()), got["registra_crl_next_update_timestamp_seconds kind=delta"])
	})
}
