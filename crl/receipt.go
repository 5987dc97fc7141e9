package crl

import (
	"iter"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ModeReport summarises the receipts of one publication mode.
type ModeReport struct {
	// Count is the number of changes published.
	Count int
	// Misses is the number published after their deadline.
	Misses int
	// WorstLag and P99Lag are the largest and the 99th-percentile (nearest
	// rank) time from request to publication.
	WorstLag, P99Lag time.Duration
	// WorstLate is the largest time past a deadline (zero without misses).
	WorstLate time.Duration
}

// SLAReport is the SLA summary per publication mode.
type SLAReport struct {
	Normal, Immediate ModeReport
}

// SLA summarises receipts per mode.
func SLA(receipts iter.Seq2[Receipt, error]) (SLAReport, error) {
	lags := map[Mode][]time.Duration{}
	var rep SLAReport
	for r, err := range receipts {
		if err != nil {
			return SLAReport{}, err
		}
		m := &rep.Normal
		if r.Mode == Immediate {
			m = &rep.Immediate
		}
		m.Count++
		if r.Missed() {
			m.Misses++
		}
		m.WorstLate = max(m.WorstLate, r.Late())
		lags[r.Mode] = append(lags[r.Mode], r.Lag())
	}
	for mode, m := range map[Mode]*ModeReport{Normal: &rep.Normal, Immediate: &rep.Immediate} {
		l := lags[mode]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		m.WorstLag = l[len(l)-1]
		rank := (99*len(l) + 99) / 100 // nearest rank: ceil(0.99 n)
		m.P99Lag = l[rank-1]
	}
	return rep, nil
}

// Metrics are a scheduler's Prometheus metrics. They are created per
// scheduler (no global registry); [Scheduler.Collector] hands them to the
// caller, and the HTTP adapter registers them.
//
//   - registra_crl_status_changes_published_total{scope,mode}
//   - registra_crl_sla_misses_total{scope,mode}
//   - registra_crl_publication_lag_seconds{scope,mode} (histogram; p99 from it)
//   - registra_crl_published_total{scope,kind}
//   - registra_crl_number{scope,kind}
//   - registra_crl_next_update_timestamp_seconds{scope,kind}
type Metrics struct {
	changes, misses, crls *prometheus.CounterVec
	lag                   *prometheus.HistogramVec
	number, nextUpdate    *prometheus.GaugeVec
}

func newMetrics(scope Scope) *Metrics {
	labels := prometheus.Labels{"scope": string(scope)}
	return &Metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "registra_crl_status_changes_published_total",
			Help: "Status changes first published on a CRL.", ConstLabels: labels}, []string{"mode"}),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "registra_crl_sla_misses_total",
			Help: "Status changes published after their deadline.", ConstLabels: labels}, []string{"mode"}),
		crls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "registra_crl_published_total",
			Help: "CRLs published.", ConstLabels: labels}, []string{"kind"}),
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "registra_crl_publication_lag_seconds",
			Help: "Time from a status change to the first CRL carrying it.", ConstLabels: labels,
			Buckets: []float64{1, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600}}, []string{"mode"}),
		number: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "registra_crl_number",
			Help: "Number of the last CRL published.", ConstLabels: labels}, []string{"kind"}),
		nextUpdate: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "registra_crl_next_update_timestamp_seconds",
			Help: "nextUpdate of the last CRL published, as a Unix time.", ConstLabels: labels}, []string{"kind"}),
	}
}

func (m *Metrics) observe(ps []*Published, rs []Receipt) {
	for _, p := range ps {
		kind := "full"
		if p.Delta {
			kind = "delta"
		}
		m.crls.WithLabelValues(kind).Inc()
		n, _ := p.Number.Float64()
		m.number.WithLabelValues(kind).Set(n)
		m.nextUpdate.WithLabelValues(kind).Set(float64(p.NextUpdate.Unix()))
	}
	for _, r := range rs {
		mode := r.Mode.String()
		m.changes.WithLabelValues(mode).Inc()
		if r.Missed() {
			m.misses.WithLabelValues(mode).Inc()
		}
		m.lag.WithLabelValues(mode).Observe(r.Lag().Seconds())
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.changes, m.misses, m.crls, m.lag, m.number, m.nextUpdate}
}

var _ prometheus.Collector = (*Metrics)(nil)

// Collector returns the scheduler's metrics for registration.
func (s *Scheduler) Collector() *Metrics { return s.metrics }
