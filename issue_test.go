package registra_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca/catest"
)

// TestIssueBlobsAfterRestart: Issue answers exactly what GetProduct reads
// back, and every blob the committed product refers to (certificates,
// activation-code vault, envelopes, holder key), written together in one
// durable write before the commit, is there after a restart (issue #10:
// a blob referenced by committed state is always present).
func TestIssueBlobsAfterRestart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		device bool
	}{
		{"remote signature", false},
		{"on-device, two certificates", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := openEnv(t, withConfig(func(c *registra.Config) { c.PDFEnvelope = true }))
			ctx := context.Background()
			rao := env.User(orgA, access.RoleRAO)
			var pr *registra.Product
			if tc.device {
				in := orderInput(2)
				in.ProductType = registra.ProductDeviceSignature
				in.DeviceSerial = "TOKEN-0043"
				o := recognised(t, env, orgA, in)
				key := catest.Key(t)
				var err error
				pr, err = env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{CSR: catest.CSR(t, key),
					Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
				require.NoError(t, err)
				require.Len(t, pr.Certificates, 2)
			} else {
				_, pr = env.Issued(t, orgA, 1)
				require.Len(t, pr.Certificates, 1)
			}
			require.Len(t, pr.Envelopes, 2, "the .p7m and the PDF")
			got, err := env.P.GetProduct(ctx, rao.Actor, pr.ID)
			require.NoError(t, err)
			assert.Equal(t, got, pr, "Issue answers what was committed")

			snap, err := env.P.Store().Snapshot(ctx)
			require.NoError(t, err)
			refs, err := snap.OrderEnvelopes(pr.OrderID)
			snap.Close()
			require.NoError(t, err)
			wantRefs := 3 // vault and two envelopes
			if !tc.device {
				wantRefs++ // and the holder key
			}
			require.Len(t, refs, wantRefs)
			require.NoError(t, env.P.Close())

			p, err := registra.Open(ctx, envConfig(env.Dir, env.Clock, env.EvidenceCA))
			require.NoError(t, err)
			t.Cleanup(func() { _ = p.Close() }) //nolint:errcheck // closing at the end of a test
			after, err := p.GetProduct(ctx, rao.Actor, pr.ID)
			require.NoError(t, err)
			assert.Equal(t, pr, after)
			for _, r := range refs {
				b, err := p.Store().Blobs().Get(ctx, r.Blob)
				require.NoError(t, err, "blob of %s", r.ID)
				assert.NotEmpty(t, b)
			}
			_, err = p.ResendEnvelope(ctx, rao.Actor, pr.ID, registra.PassphraseChoice{UseTaxCode: true})
			require.NoError(t, err, "the vault record opens after the restart")
		})
	}
}
