package crl_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"io"
	"iter"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

// benchEntries is the number of entries of the large benchmarks (issue 6:
// one million). These run only under -bench, never in make test.
const benchEntries = 1_000_000

var benchNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// benchEntry is entry i of the benchmark CRL: 16-byte serials, a mix of
// reasons (a fifth on hold), an invalidity date on key compromises.
func benchEntry(i int) crl.Entry {
	var b [16]byte
	b[0] = 0x40
	for k := 0; k < 8; k++ {
		b[15-k] = byte(uint64(i) >> (8 * k))
	}
	e := crl.Entry{SerialNumber: new(big.Int).SetBytes(b[:]), RevocationTime: benchNow.Add(-time.Duration(i) * time.Second)}
	switch i % 5 {
	case 0:
		e.ReasonCode = crl.KeyCompromise
		e.InvalidityDate = e.RevocationTime.Add(-time.Hour)
	case 1:
		e.ReasonCode = crl.CertificateHold
	case 2:
		e.ReasonCode = crl.Superseded
	case 3:
		e.ReasonCode = crl.PrivilegeWithdrawn
	}
	return e
}

func benchIter(n int) iter.Seq2[crl.Entry, error] {
	return func(yield func(crl.Entry, error) bool) {
		for i := range n {
			if !yield(benchEntry(i), nil) {
				return
			}
		}
	}
}

// peakHeap runs f and returns the peak of live heap objects above the
// level before it, sampled every 2 ms (runtime/metrics, no stop-the-world).
func peakHeap(f func()) uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	base := s[0].Value.Uint64()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		ss := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for {
			metrics.Read(ss)
			if v := ss[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkFullCRL1M builds and signs a full CRL of one million entries
// with the streaming encoder and with x509.CreateRevocationList on the same
// entries (ECDSA P-256), in one run, reporting peak heap for both, and
// checks that both TBS encodings are byte-for-byte equal and that
// x509.ParseRevocationList and openssl crl parse the streamed CRL.
func BenchmarkFullCRL1M(b *testing.B) {
	h := crltest.NewHierarchy(b)
	tmpl := &crl.Template{Number: big.NewInt(1000), ThisUpdate: benchNow, NextUpdate: benchNow.Add(24 * time.Hour)}
	var streamed, std []byte

	b.Run("stream", func(b *testing.B) {
		var peak uint64
		for b.Loop() {
			peak = max(peak, peakHeap(func() {
				built, err := crl.Build(context.Background(), tmpl, benchIter(benchEntries), h.CRLSigner())
				require.NoError(b, err)
				streamed = built.DER
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
		b.ReportMetric(float64(len(streamed))/(1<<20), "crl-MiB")
	})
	b.Run("stdlib", func(b *testing.B) {
		var peak uint64
		for b.Loop() {
			peak = max(peak, peakHeap(func() {
				rl := &x509.RevocationList{Number: tmpl.Number, ThisUpdate: tmpl.ThisUpdate, NextUpdate: tmpl.NextUpdate,
					RevokedCertificateEntries: make([]x509.RevocationListEntry, 0, benchEntries)}
				for e := range benchIter(benchEntries) {
					rce := x509.RevocationListEntry{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime, ReasonCode: int(e.ReasonCode)}
					if !e.InvalidityDate.IsZero() {
						rce.ExtraExtensions = invalidityExt(b, e.InvalidityDate)
					}
					rl.RevokedCertificateEntries = append(rl.RevokedCertificateEntries, rce)
				}
				der, err := x509.CreateRevocationList(rand.Reader, rl, h.Issuing, h.IssuingKey)
				require.NoError(b, err)
				std = der
			}))
		}
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	})
	if streamed == nil || std == nil {
		return
	}
	a, err := x509.ParseRevocationList(streamed)
	require.NoError(b, err)
	require.Len(b, a.RevokedCertificateEntries, benchEntries)
	require.NoError(b, a.CheckSignatureFrom(h.Issuing))
	s, err := x509.ParseRevocationList(std)
	require.NoError(b, err)
	require.Equal(b, s.RawTBSRevocationList, a.RawTBSRevocationList, "TBS byte-for-byte equal to the standard library's")
	if path, err := exec.LookPath("openssl"); err == nil {
		f := filepath.Join(b.TempDir(), "big.crl")
		require.NoError(b, os.WriteFile(f, streamed, 0o600))
		out, err := exec.Command(path, "crl", "-inform", "DER", "-in", f, "-noout", "-crlnumber").CombinedOutput()
		require.NoError(b, err, "%s", out)
		require.Contains(b, string(out), "crlNumber=0x03E8")
	}
}

func invalidityExt(b *testing.B, t time.Time) []pkixExtension {
	b.Helper()
	return []pkixExtension{{Id: oidInvalidityDate, Value: generalizedTime(t)}}
}

// BenchmarkImmediateRevocation1M measures, with one million entries
// already revoked, the time from an immediate revocation being committed
// to the delta CRL carrying it being served over HTTP, with the scheduler
// running (coalescing window set to 1 ms so that the figure is the work,
// not the wait; add the configured window, 5 s by default). It also reports
// the initial full publication of the million-entry CRL through the whole
// pipeline (reconcile, build, sign, verify, lint).
func BenchmarkImmediateRevocation1M(b *testing.B) {
	h := crltest.NewHierarchy(b)
	store := crltest.NewStore()
	store.Preload(benchEntries, benchNow.Add(-24*time.Hour))
	journal := crltest.NewJournal()
	sink, err := crl.NewHTTPSink(crl.HTTPSinkConfig{FullPath: "/issuing.crl", DeltaPath: "/issuing-delta.crl"})
	require.NoError(b, err)
	signal := &signalSink{ch: make(chan *crl.Published, 16)}
	s, err := crl.NewScheduler(crl.SchedulerConfig{
		Scope: scope, Source: store, Journal: journal, Signer: h.CRLSigner(), Publishers: []crl.Publisher{sink, signal},
		Coalesce: time.Millisecond, DistributionPoint: crltest.CRLURL, DeltaURL: crltest.DeltaCRLURL,
	})
	require.NoError(b, err)
	store.OnChange(s.Notify)
	srv := httptest.NewServer(sink)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Run(ctx) }()
	for p := range signal.ch {
		if !p.Delta {
			continue
		}
		break
	}
	fullPublish := time.Since(start)
	full := sink.Current(false)
	require.Equal(b, benchEntries, full.Entries)

	// Each op revokes revocationsPerOp certificates one after the other,
	// so that -benchtime 1x still measures a sample.
	const revocationsPerOp = 20
	next := int64(benchEntries + 1)
	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		for range revocationsPerOp {
			serial := big.NewInt(next)
			next++
			store.Issue(serial)
			t0 := time.Now()
			c, err := store.Change(crl.Revoke, serial, crl.KeyCompromise, crl.Immediate, t0)
			require.NoError(b, err)
			for p := range signal.ch {
				if p.Delta && p.Seq >= c.Seq {
					break
				}
			}
			resp, err := http.Get(srv.URL + "/issuing-delta.crl")
			require.NoError(b, err)
			der, err := io.ReadAll(resp.Body)
			require.NoError(b, err)
			require.NoError(b, resp.Body.Close())
			worst = max(worst, time.Since(t0))
			rl, err := x509.ParseRevocationList(der)
			require.NoError(b, err)
			found := false
			for _, e := range rl.RevokedCertificateEntries {
				found = found || e.SerialNumber.Cmp(serial) == 0
			}
			require.True(b, found)
		}
	}
	b.StopTimer()
	b.ReportMetric(fullPublish.Seconds(), "full-publish-s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*revocationsPerOp)/1000, "ms-to-served")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms-to-served")
	cancel()
	<-done
}

type signalSink struct{ ch chan *crl.Published }

func (s *signalSink) Publish(_ context.Context, p *crl.Published) error {
	select {
	case s.ch <- p:
	default:
	}
	return nil
}
