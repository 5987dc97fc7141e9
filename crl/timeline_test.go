package crl_test

import (
	"context"
	"crypto"
	"math/big"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/registra-pki/registra/crl"
	"github.com/registra-pki/registra/crl/crltest"
)

type ocspSeen struct {
	at     time.Time
	serial *big.Int
	resp   *ocsp.Response
}

func sameAnswer(a, b crl.Answer) bool {
	if a.State != b.State {
		return false
	}
	if a.State == crl.Good || a.State == crl.Unknown {
		return true
	}
	return a.Reason == b.Reason && a.RevokedAt.Truncate(time.Second).Equal(b.RevokedAt.Truncate(time.Second))
}

// TestStatusAtAgrees is the property test of issue 6: for random
// histories (suspensions, reactivations, revocations of suspended
// certificates back-dated to the suspension start) and random instants,
// what the full CRL, the delta CRL (applied to its base) and OCSP said
// agree: each CRL says exactly what OCSP said once the change log reached
// the CRL's sequence number, the full and delta CRL of one publication say
// the same, OCSP as the real responder answered it matches, and no CRL
// lags a change past its deadline.
func TestStatusAtAgrees(t *testing.T) {
	t.Parallel()
	h := crltest.NewHierarchy(t)
	linter := sharedLinter(t)
	for seed := uint64(1); seed <= 3; seed++ {
		synctest.Test(t, func(t *testing.T) {
			f := newSchedFixture(t, h, linter, nil)
			const serials = 60
			for i := int64(1); i <= serials; i++ {
				f.store.Issue(big.NewInt(i))
			}
			responder, err := crl.NewResponder(crl.ResponderConfig{Issuer: h.Issuing, Signer: h.OCSPSigner(), Source: f.store, CacheEntries: -1})
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- f.s.Run(ctx) }()

			rng := rand.New(rand.NewPCG(seed, 42))
			start := time.Now()
			end := start.Add(48 * time.Hour)
			var seen []ocspSeen
			for time.Now().Before(end) {
				time.Sleep(time.Duration(rng.ExpFloat64() * float64(4*time.Minute)))
				serial := big.NewInt(1 + rng.Int64N(serials))
				if rng.IntN(4) == 0 { // ask OCSP
					der, err := responder.Respond(ctx, crltest.OCSPRequest(t, serial, h.Issuing, crypto.SHA1, nil))
					require.NoError(t, err)
					resp, err := ocsp.ParseResponse(der, h.Issuing)
					require.NoError(t, err)
					seen = append(seen, ocspSeen{time.Now(), serial, resp})
					continue
				}
				st, err := f.store.Status(ctx, serial)
				require.NoError(t, err)
				mode := []crl.Mode{crl.Normal, crl.Immediate}[rng.IntN(2)]
				var kind crl.Kind
				switch st.State {
				case crl.Good:
					kind = []crl.Kind{crl.Suspend, crl.Suspend, crl.Revoke}[rng.IntN(3)]
				case crl.Held:
					kind = []crl.Kind{crl.Reactivate, crl.Revoke}[rng.IntN(2)]
				default:
					continue
				}
				_, err = f.store.Change(kind, serial, crl.PrivilegeWithdrawn, mode, time.Now())
				require.NoError(t, err)
			}
			time.Sleep(25 * time.Hour)
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)

			tl := crl.NewTimeline(h.Issuing)
			for _, p := range f.rec.All() {
				require.NoError(t, tl.AddCRL(p))
			}
			changes := f.store.Changes()
			for _, c := range changes {
				tl.AddChange(c)
			}
			require.NotEmpty(t, changes)
			kinds := map[string]int{}
			for _, c := range changes {
				kinds[c.Kind.String()+" from "+c.From.String()]++
			}
			require.Positive(t, kinds["revoke from held"], "back-dated revocations covered")
			require.Positive(t, kinds["reactivate from held"], "hold windows covered")
			stop := time.Now()

			for range 3000 {
				serial := big.NewInt(1 + rng.Int64N(serials))
				at := start.Add(time.Duration(rng.Int64N(int64(stop.Sub(start)))))
				p := tl.StatusAt(serial, at)
				require.NotEqual(t, crl.Unknown, p.Full.State)
				require.NotEqual(t, crl.Unknown, p.Delta.State)
				want := tl.OCSPAtSeq(serial, p.Full.Seq)
				require.True(t, sameAnswer(want, p.Full), "serial %s at %v: full CRL %s said %+v, OCSP at its seq %+v", serial, at, p.Full.CRLNumber, p.Full, want)
				want = tl.OCSPAtSeq(serial, p.Delta.Seq)
				require.True(t, sameAnswer(want, p.Delta), "serial %s at %v: delta CRL %s said %+v, OCSP at its seq %+v", serial, at, p.Delta.CRLNumber, p.Delta, want)
				if p.Full.Seq == p.Delta.Seq {
					require.True(t, sameAnswer(p.Full, p.Delta))
				}
				// No CRL in force lags a change whose deadline passed.
				for _, c := range changes {
					if !c.Deadline.Before(at) {
						break
					}
					require.GreaterOrEqual(t, p.Delta.Seq, c.Seq, "change %d overdue at %v on the delta CRL", c.Seq, at)
				}
				if p.OCSP.State != crl.Good {
					// Hold windows: what OCSP says held or revoked since
					// RevokedAt, a later CRL says the same or reverts only
					// through a recorded reactivation.
					require.False(t, p.OCSP.RevokedAt.After(at))
				}
			}
			// The real responder said what the timeline says OCSP said.
			for _, s := range seen {
				a := tl.StatusAt(s.serial, s.at).OCSP
				switch a.State {
				case crl.Good:
					require.Equal(t, ocsp.Good, s.resp.Status)
				default:
					require.Equal(t, ocsp.Revoked, s.resp.Status)
					require.Equal(t, int(a.Reason), s.resp.RevocationReason)
					require.True(t, a.RevokedAt.Equal(s.resp.RevokedAt))
				}
			}
			t.Logf("seed %d: %d changes, %d CRLs, %d OCSP answers checked", seed, len(changes), len(f.rec.All()), len(seen))
		})
	}
}
