package registra_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/access/accesstest"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// allEvents reads the whole audit trail from the store.
func allEvents(t *testing.T, env *testEnv) []store.AuditEvent {
	t.Helper()
	snap, err := env.P.Store().Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	var events []store.AuditEvent
	require.NoError(t, snap.AuditEvents(0, func(e store.AuditEvent) error { events = append(events, e); return nil }))
	return events
}

func firstBad(t *testing.T, events []store.AuditEvent) uint64 {
	t.Helper()
	err := registra.VerifyAuditEvents(events)
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrCorrupt)
	ce, ok := errors.AsType[*store.AuditChainError](err)
	require.True(t, ok, "%v", err)
	return ce.Seq
}

// TestAuditChain: every action of the workflow is in the audit trail, which
// the scheduler seals into a SHA-256 chain; verification finds a modified,
// a deleted and a swapped event and names the first bad sequence number
// (acceptance 4 of issue #5).
func TestAuditChain(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	o, pr := env.Issued(t, orgA, 1)
	_, err := env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterOwner,
		Motivation: lifecycle.MotivationKeyCompromise})
	require.NoError(t, err)
	_, err = env.P.Issue(ctx, env.User(orgA, access.RoleOperator).Actor, o.ID, registra.IssueInput{})
	require.ErrorIs(t, err, registra.ErrPermission)

	_, err = env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	require.NoError(t, env.P.VerifyAudit(ctx))
	events := allEvents(t, env)
	require.NoError(t, registra.VerifyAuditEvents(events))
	for _, e := range events {
		require.NotEmpty(t, e.Hash, "event %d is sealed", e.Seq)
	}

	// The order's story, in order, each with who, what and the statuses.
	var story []string
	for _, e := range events {
		if e.Subject != o.ID {
			continue
		}
		var d map[string]string
		require.NoError(t, json.Unmarshal([]byte(e.Details), &d))
		story = append(story, e.Action+" "+d["outcome"]+" "+d["from"]+">"+d["to"])
		assert.Equal(t, orgA, e.OrgID)
		assert.NotEmpty(t, e.ActorID)
		if d["outcome"] == "done" {
			assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, d["input"], e.Action)
		}
	}
	assert.Equal(t, []string{
		"order.create done none>draft",
		"order.submit done draft>to_identify",
		"order.record_recognition done to_identify>to_issue",
		"product.issue done to_issue>active",
		"product.revoke done active>revoked",
		"product.issue refused >",
	}, story)

	require.Greater(t, len(events), 12)
	k := len(events) / 2
	edited := slices.Clone(events)
	edited[k].Details = `{"outcome":"done"}`
	assert.Equal(t, events[k].Seq, firstBad(t, edited), "modified")

	deleted := slices.Delete(slices.Clone(events), k, k+1)
	assert.Equal(t, events[k].Seq, firstBad(t, deleted), "deleted")

	swapped := slices.Clone(events)
	swapped[k], swapped[k+1] = swapped[k+1], swapped[k]
	assert.Equal(t, events[k].Seq, firstBad(t, swapped), "swapped")

	// Swapping the contents but keeping the numbers in order is caught by
	// the hashes.
	swapped = slices.Clone(events)
	swapped[k].Details, swapped[k+1].Details = swapped[k+1].Details, swapped[k].Details
	swapped[k].Subject, swapped[k+1].Subject = swapped[k+1].Subject, swapped[k].Subject
	swapped[k].Action, swapped[k+1].Action = swapped[k+1].Action, swapped[k].Action
	if swapped[k].Details != events[k].Details || swapped[k].Subject != events[k].Subject || swapped[k].Action != events[k].Action {
		assert.Equal(t, events[k].Seq, firstBad(t, swapped), "contents swapped")
	}
}

// TestNoSecretsAtRest: passwords, TOTP secrets, passphrases and activation
// codes are in no audit event and in no file of the data directory in
// clear.
func TestNoSecretsAtRest(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	_, pr := env.Issued(t, orgA, 1)
	pr, err := env.P.ResendEnvelope(ctx, rao.Actor, pr.ID, registra.PassphraseChoice{Custom: testPassphrase,
		Confirm: testPassphrase})
	require.NoError(t, err)
	require.Len(t, pr.Envelopes, 2)
	p7m, err := env.P.Envelope(ctx, rao.Actor, pr.ID, pr.Envelopes[1].ID)
	require.NoError(t, err)
	cms, err := envelope.NewCMS(envelope.CMSConfig{})
	require.NoError(t, err)
	codes, err := cms.Open(ctx, &envelope.Envelope{Data: p7m}, testPassphrase)
	require.NoError(t, err)
	require.NotEmpty(t, codes)
	// The first envelope holds the same codes, under the tax code.
	first, err := env.P.Envelope(ctx, rao.Actor, pr.ID, pr.Envelopes[0].ID)
	require.NoError(t, err)
	o, err := env.P.GetOrder(ctx, rao.Actor, pr.OrderID)
	require.NoError(t, err)
	codes0, err := cms.Open(ctx, &envelope.Envelope{Data: first}, envelope.Passphrase(o.Input.Applicant.TaxCode))
	require.NoError(t, err)
	assert.Equal(t, codes.Names(), codes0.Names())
	for _, c := range codes {
		c0, _ := codes0.Get(c.Name)
		assert.True(t, c0 == c.Code, "resend seals the same %s", c.Name)
	}

	secrets := [][]byte{[]byte(accesstest.Password), []byte(testPassphrase), []byte(rao.Secret.Reveal()),
		[]byte(env.Admin.Secret.Reveal())}
	for _, c := range codes {
		secrets = append(secrets, []byte(revealCode(c.Code)))
	}
	_, err = env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	for _, e := range allEvents(t, env) {
		for _, s := range secrets {
			assert.NotContains(t, e.Details+e.Subject, string(s))
		}
	}
	require.NoError(t, filepath.WalkDir(env.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			assert.False(t, bytes.Contains(b, s), "a secret in clear in %s", path)
		}
		return nil
	}))
}

// revealCode returns a code's value: envelope.Code redacts itself
// everywhere else.
func revealCode(c envelope.Code) string { return string(c) }
