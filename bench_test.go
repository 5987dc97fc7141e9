package registra_test

import (
	"context"
	"errors"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
)

// BenchmarkIssue measures Platform.Issue of a remote signature product
// (key generation, two-phase issuance with two store batches, codes, vault,
// .p7m envelope, audit) against the raw ca.Issuer.Issue of the same profile
// on the same hierarchy, in one run. The platform uses the test parameters
// of openEnv (cheap Argon2id for the vault hashes, 1,000 PBKDF2 iterations);
// BENCHMARKS.md also reports the default parameters. Orders are taken to
// to_issue outside the timer.
func BenchmarkIssue(b *testing.B) {
	for _, kdf := range []string{"test-kdf", "default-kdf"} {
		b.Run("platform/"+kdf, func(b *testing.B) {
			var opts []envOption
			if kdf == "default-kdf" {
				opts = append(opts, withConfig(func(c *registra.Config) {
					c.VaultHash = envelopeDefaults().VaultHash
					c.CMS = envelopeDefaults().CMS
				}))
			}
			env := openEnv(b, opts...)
			ctx := context.Background()
			rao := env.User(orgA, access.RoleRAO)
			op := env.User(orgA, access.RoleOperator)
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				o, err := env.P.CreateDraft(ctx, op.Actor, orderInput(1000+i))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := env.P.Submit(ctx, op.Actor, o.ID); err != nil {
					b.Fatal(err)
				}
				if _, err := env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(b, rao, o)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("raw-ca-issue", func(b *testing.B) {
		iss := catest.NewIssuer(b)
		ctx := context.Background()
		holder := catest.Holder()
		for i := 0; i < b.N; i++ {
			key := catest.Key(b)
			if _, err := iss.Issue(ctx, ca.Request{Profile: ca.QualifiedNaturalPerson, Holder: holder, PublicKey: key.Public()}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// envelopeDefaults returns the platform's production parameters of the
// vault hashes and the .p7m key derivation (the zero values).
func envelopeDefaults() registra.Config { return registra.Config{} }

// BenchmarkLoginFlood sends 64 logins for an unknown username at once, with
// the default password parameters (Argon2id, 64 MiB, t=3, p=4: each
// rejection verifies a dummy hash so that it costs what a real one does),
// and reports the process's peak resident memory during them (VmHWM,
// reset before each op) and the logins refused per second. "bounded" is the
// default gate of slow hashes (GOMAXPROCS at once); "unbounded" lets all 64
// run at once, as before the gate.
func BenchmarkLoginFlood(b *testing.B) {
	const flood = 64
	for _, tc := range []struct {
		name  string
		slots int
	}{{"bounded", 0}, {"unbounded", flood}} {
		b.Run(tc.name, func(b *testing.B) {
			env := openEnv(b, withConfig(func(c *registra.Config) {
				c.Access.Password = access.PasswordParams{}
				c.SlowHashes = tc.slots
			}))
			ctx := context.Background()
			var peak uint64
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				debug.FreeOSMemory()
				resetPeakRSS(b)
				b.StartTimer()
				var wg sync.WaitGroup
				for range flood {
					wg.Go(func() {
						if _, err := env.P.Login(ctx, "nobody", "not the password at all", "123456"); !errors.Is(err, registra.ErrUnauthenticated) {
							b.Errorf("login: %v", err)
						}
					})
				}
				wg.Wait()
				peak = max(peak, peakRSS(b))
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
			b.ReportMetric(float64(b.N*flood)/b.Elapsed().Seconds(), "logins/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// resetPeakRSS resets the process's VmHWM (proc(5), clear_refs: 5).
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Skipf("cannot reset the peak RSS: %v", err)
	}
}

// peakRSS returns the process's VmHWM in bytes.
func peakRSS(b *testing.B) uint64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(s)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
