package registra_test

import (
	"context"
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
