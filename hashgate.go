package registra

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/envelope"
)

// HashQueuePerSlot is how many password hashes may wait for each slow hash
// that runs ([Config.SlowHashes]); one more is refused with [ErrBusy]. At the default
// cost of about a tenth of a second per hash, a full queue drains in a few
// seconds.
const HashQueuePerSlot = 32

// hashGate bounds the slow hashes (Argon2id) of the platform: operators'
// passwords at login and when set, and the activation codes of every
// issuance. Each hash holds its memory while it runs (64 MiB at the default
// parameters), so that without a bound a flood of concurrent logins, even
// for unknown usernames, would exhaust the machine's memory; and hashes are
// bound by the CPUs anyway, so that running more of them at once than there
// are CPUs makes none finish sooner. Waiting hashes are served in order
// (Go's channel senders queue first in, first out); a caller whose context
// ends stops waiting; past the queue's bound a password hash is refused at
// once with [ErrBusy], so that the HTTP API answers 503 instead of holding
// the request (the hashes of issuances wait instead: vaultGate).
type hashGate struct {
	slots   chan struct{}
	maxWait int64
	waiting atomic.Int64 // every hash waiting for a slot
	bounded atomic.Int64 // the password hashes among them
	refused atomic.Uint64
}

var (
	_ access.Gate   = (*hashGate)(nil)
	_ envelope.Gate = vaultGate{}
)

// newHashGate returns a gate that runs n hashes at once (GOMAXPROCS when n
// is zero) and queues HashQueuePerSlot more per slot.
func newHashGate(n int) *hashGate {
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &hashGate{slots: make(chan struct{}, n), maxWait: int64(n) * HashQueuePerSlot}
}

// Enter implements access.Gate: past the queue's bound it refuses with
// ErrBusy.
func (g *hashGate) Enter(ctx context.Context) error { return g.enter(ctx, true) }

// vaultGate is the gate as the code vault sees it. Its hashes belong to
// issuances: calls of authenticated RAOs, refused only once the intent is
// committed and the key made, so that a refusal would waste both, and
// which a flood of anonymous logins must not starve. They wait for a slot
// however long the queue, until their context ends.
type vaultGate struct{ *hashGate }

// Enter implements envelope.Gate.
func (g vaultGate) Enter(ctx context.Context) error { return g.enter(ctx, false) }

// enter waits for a slot; bounded refuses a caller that would wait behind
// maxWait other bounded ones. Only those count: the issuances waiting do
// not make logins refused, they only make them wait longer.
func (g *hashGate) enter(ctx context.Context, bounded bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if bounded {
		if g.bounded.Add(1) > g.maxWait {
			g.bounded.Add(-1)
			g.refused.Add(1)
			return fmt.Errorf("%w: %d password and code hashes are running and %d password hashes waiting", ErrBusy, cap(g.slots), g.maxWait)
		}
		defer g.bounded.Add(-1)
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave implements access.Gate and envelope.Gate (through vaultGate).
func (g *hashGate) Leave() { <-g.slots }

// hashGateMetrics exports a gate's state to Prometheus.
type hashGateMetrics struct {
	g                         *hashGate
	running, waiting, refused *prometheus.Desc
}

func (m *hashGateMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.running
	ch <- m.waiting
	ch <- m.refused
}

func (m *hashGateMetrics) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(m.running, prometheus.GaugeValue, float64(len(m.g.slots)))
	ch <- prometheus.MustNewConstMetric(m.waiting, prometheus.GaugeValue, float64(m.g.waiting.Load()))
	ch <- prometheus.MustNewConstMetric(m.refused, prometheus.CounterValue, float64(m.g.refused.Load()))
}

// HashMetrics returns the Prometheus collector of the platform's slow hashes
// ([Config.SlowHashes]): registra_slow_hashes_running and
// registra_slow_hashes_waiting (gauges), and
// registra_slow_hashes_refused_total (the hashes refused with [ErrBusy]).
func (p *Platform) HashMetrics() prometheus.Collector {
	return &hashGateMetrics{g: p.hashes,
		running: prometheus.NewDesc("registra_slow_hashes_running", "Password and code hashes running.", nil, nil),
		waiting: prometheus.NewDesc("registra_slow_hashes_waiting", "Password and code hashes waiting for a slot.", nil, nil),
		refused: prometheus.NewDesc("registra_slow_hashes_refused_total", "Password and code hashes refused because too many were waiting.", nil, nil),
	}
}
