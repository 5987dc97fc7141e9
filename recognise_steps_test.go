package registra_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
	"github.com/registra-pki/registra/store"
)

// videoCallback is the provider's session record of order id, signed with
// key at now.
func videoCallback(t *testing.T, key recognition.Secret, session, id string, now time.Time) recognition.CallbackRequest {
	t.Helper()
	body, err := json.Marshal(map[string]any{"provider": "videoprov", "session_id": session, "order_id": id, "operator": "video-op",
		"outcome": recognition.OutcomeApproved, "started_at": now.Add(-10 * time.Minute), "ended_at": now.Add(-time.Minute),
		"artefacts": []map[string]any{{"kind": recognition.KindDocumentBoth, "data": recognitiontest.JPEG("document")},
			{"kind": recognition.KindSelfie, "data": recognitiontest.JPEG("selfie")}}})
	require.NoError(t, err)
	ts := strconv.FormatInt(now.Unix(), 10)
	return recognition.CallbackRequest{Timestamp: ts, Signature: recognition.SignCallback(key, ts, body), Body: body}
}

// videoEnv opens a platform with Video ID (provider "videoprov", a callback
// key of fill repeated) and the form signature's OTPs going to the returned
// outbox. It runs on the real clock: the one-shot signature carries the
// real time as its signing time.
func videoEnv(t *testing.T, fill string) (*testEnv, *recognitiontest.Outbox, recognition.Secret) {
	t.Helper()
	outbox := &recognitiontest.Outbox{}
	key := recognition.Secret(bytes.Repeat([]byte(fill), 32))
	env := openEnv(t, realClock(), withConfig(func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: outbox}
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	}))
	return env, outbox, key
}

// TestRecognitionSteps takes a Video ID order through the steps with the
// applicant in the library: the form signature by OTP with a one-shot
// certificate of the platform's issuing CA, then the provider's session
// record. The refusals on the way send nothing and record nothing.
func TestRecognitionSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, outbox, key := videoEnv(t, "v")
	rao := env.User(orgA, access.RoleRAO)
	clerk := env.User(orgA, access.RoleOperator)
	foreign := env.User(orgB, access.RoleRAO)
	o := submittedOrder(t, env, orgA, 1, func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID })
	mobile := o.Input.Applicant.Mobile
	form := recognitiontest.PDF("request form " + o.ID)

	_, err := env.P.StartFormSignature(ctx, foreign.Actor, o.ID, form)
	require.ErrorIs(t, err, registra.ErrNotFound)
	// A plain operator relays the applicant's steps of Video ID and SPID
	// only (TestRelayedVideoID): Live ID is the RAO's, in person.
	live := submittedOrder(t, env, orgA, 2, func(in *registra.OrderInput) { in.Method = recognition.MethodLiveID })
	_, err = env.P.StartFormSignature(ctx, clerk.Actor, live.ID, form)
	require.ErrorIs(t, err, registra.ErrPermission)
	_, err = env.P.StartFormSignature(ctx, rao.Actor, o.ID, []byte("not a PDF"))
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	assert.Equal(t, "form", namedField(t, err))
	assert.Zero(t, outbox.Sent(mobile))
	// The last step needs the form signature, and does not use up the
	// provider's record without it.
	cb := videoCallback(t, key, "s-1", o.ID, time.Now())
	_, err = env.P.RecogniseVideo(ctx, rao.Actor, o.ID, cb)
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	assert.Equal(t, "form_signature", namedField(t, err))

	ch, err := env.P.StartFormSignature(ctx, rao.Actor, o.ID, form)
	require.NoError(t, err)
	assert.Equal(t, 1, outbox.Sent(mobile))
	// The applicant's link token is a secret: it prints redacted.
	assert.Len(t, ch.Link.Reveal(), 43)
	assert.Equal(t, "[redacted]", fmt.Sprint(ch.Link))
	assert.Equal(t, "[redacted]", ch.Link.LogValue().String())
	code, err := outbox.Last(mobile)
	require.NoError(t, err)
	_, err = env.P.CompleteFormSignature(ctx, rao.Actor, o.ID, "another challenge", code)
	assert.Equal(t, "challenge_id", namedField(t, err))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = env.P.CompleteFormSignature(ctx, rao.Actor, o.ID, ch.ID, wrong)
	require.ErrorIs(t, err, recognition.ErrOTPInvalid)
	got, err := env.P.CompleteFormSignature(ctx, rao.Actor, o.ID, ch.ID, code)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIdentify, got.Status, "the form signature alone records nothing")

	// Each step is audited, without the code.
	events, err := env.P.AuditEvents(ctx, env.User(orgA, access.RoleMasterRAO).Actor, registra.AuditQuery{Subject: o.ID})
	require.NoError(t, err)
	var steps []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "order.form_sign") || strings.HasPrefix(e.Action, "order.one_shot") {
			steps = append(steps, e.Action+" "+e.ActorID)
			assert.NotContains(t, e.Details, code)
		}
	}
	assert.Equal(t, []string{"order.form_signature_sent " + rao.Username, "order.form_signed " + rao.Username,
		"order.one_shot_prepared " + rao.Username, "order.form_signed " + rao.Username}, steps)
	n := len(events)
	assert.Contains(t, events[n-3].Details, "refused")
	assert.Contains(t, events[n-2].Details, "profile one-shot")
	assert.Contains(t, events[n-1].Details, "one-shot certificate")

	// A caller cannot hand Recognise a session record or a form signature
	// of its own: the platform fills them from the steps only.
	vs := &recognition.VideoSession{Provider: "videoprov", OrderID: o.ID, Payload: cb.Body, Timestamp: cb.Timestamp, Signature: cb.Signature,
		ReceivedAt: time.Now()}
	_, err = env.P.Recognise(ctx, rao.Actor, o.ID, recognition.Submission{VideoSession: vs})
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	assert.Equal(t, "video_session", namedField(t, err))
	refs := evidenceRefs(t, env, o.ID)

	got, err = env.P.RecogniseVideo(ctx, rao.Actor, o.ID, cb)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	assert.Equal(t, refs+1, evidenceRefs(t, env, o.ID))
	m := storedManifest(t, env, o.ID)
	assert.Equal(t, recognition.MethodVideoID, m.Method)
	assert.Equal(t, "s-1", m.Attributes["video_session"])
	assert.Equal(t, rao.Username, m.Operator.ID)

	// The one-shot certificate is the platform's: profile one-shot, issued
	// by its issuing CA to the applicant.
	d, ok := m.Artefact(recognition.KindOneShotCert)
	require.True(t, ok)
	der, err := env.P.Store().Blobs().Get(ctx, d.SHA256.String())
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	require.NoError(t, cert.CheckSignatureFrom(env.P.Hierarchy().Issuing()))
	assert.Equal(t, "TINIT-"+o.Input.Applicant.TaxCode, cert.Subject.SerialNumber)
	assert.LessOrEqual(t, cert.NotAfter.Sub(cert.NotBefore), ca.OneShot.MaxValidity)
	assert.Equal(t, m.Attributes["one_shot_serial"], cert.SerialNumber.String())
	// Its serial was in the audit trail before it was signed.
	assert.Contains(t, events[n-2].Details, "serial "+cert.SerialNumber.Text(16))

	// Recorded: a further session record is refused by the order's status.
	_, err = env.P.RecogniseVideo(ctx, rao.Actor, o.ID, videoCallback(t, key, "s-2", o.ID, time.Now()))
	require.ErrorIs(t, err, registra.ErrTransition)
}

// TestSPIDAssertionRelayState checks that the assertion consumer service
// takes only a RelayState of a login started on this platform, once.
func TestSPIDAssertionRelayState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	idp := recognitiontest.NewIdP(t)
	key, cert := recognitiontest.SelfSignedRSA(t, "registra SPID service provider")
	env := openEnv(t, realClock(), withConfig(func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: &recognitiontest.Outbox{}}
		c.SPID = &recognition.SPIDConfig{EntityID: "https://registra.test/spid", ACSURL: "https://registra.test/spid/acs",
			IdPMetadata: idp.Metadata(t), Key: key, Certificate: cert}
	}))
	rao := env.User(orgA, access.RoleRAO)
	o := submittedOrder(t, env, orgA, 2, func(in *registra.OrderInput) {
		in.Method, in.ProductType = recognition.MethodSPID, registra.ProductRemoteSignatureSPID
	})
	md, err := env.P.SPIDMetadata()
	require.NoError(t, err)
	assert.Contains(t, string(md), `entityID="https://registra.test/spid"`)

	_, err = env.P.SPIDAssertion(ctx, "PHNhbWw+", "no-such-relay")
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	l, err := env.P.StartSPIDLogin(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	assert.Len(t, l.RelayState, 32)
	assert.NotEmpty(t, l.RequestID)
	// Without the form signature: refused, and the RelayState is used up.
	_, err = env.P.SPIDAssertion(ctx, "PHNhbWw+", l.RelayState)
	assert.Equal(t, "form_signature", namedField(t, err))
	_, err = env.P.SPIDAssertion(ctx, "PHNhbWw+", l.RelayState)
	require.ErrorIs(t, err, registra.ErrUnauthenticated)
	got, err := env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIdentify, got.Status)
}

// TestVideoCallback checks the provider's own callback: a record that comes
// before the form signature waits for it, and the signature's completion
// records the recognition; one that comes after records it at once, for
// the operator who completed the signature.
func TestVideoCallback(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, outbox, key := videoEnv(t, "w")
	rao := env.User(orgA, access.RoleRAO)
	sign := func(o *registra.Order) *registra.Order {
		t.Helper()
		ch, err := env.P.StartFormSignature(ctx, rao.Actor, o.ID, recognitiontest.PDF("request form "+o.ID))
		require.NoError(t, err)
		code, err := outbox.Last(o.Input.Applicant.Mobile)
		require.NoError(t, err)
		got, err := env.P.CompleteFormSignature(ctx, rao.Actor, o.ID, ch.ID, code)
		require.NoError(t, err)
		return got
	}
	video := func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID }

	// The record first, as in the manual: it waits.
	first := submittedOrder(t, env, orgA, 3, video)
	recorded, err := env.P.VideoCallback(ctx, videoCallback(t, key, "s-first", first.ID, time.Now()))
	require.NoError(t, err)
	assert.False(t, recorded)
	assert.Equal(t, lifecycle.StatusToIssue, sign(first).Status)
	assert.Equal(t, "s-first", storedManifest(t, env, first.ID).Attributes["video_session"])

	// The signature first: the record completes the recognition.
	second := submittedOrder(t, env, orgA, 4, video)
	assert.Equal(t, lifecycle.StatusToIdentify, sign(second).Status)
	recorded, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-second", second.ID, time.Now()))
	require.NoError(t, err)
	assert.True(t, recorded)
	m := storedManifest(t, env, second.ID)
	assert.Equal(t, rao.Username, m.Operator.ID)

	// Refusals.
	cb := videoCallback(t, key, "s-bad", second.ID, time.Now())
	cb.Signature = recognition.SignCallback(recognition.Secret(bytes.Repeat([]byte("x"), 32)), cb.Timestamp, cb.Body)
	_, err = env.P.VideoCallback(ctx, cb)
	require.ErrorIs(t, err, recognition.ErrUnauthenticated)
	_, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-second", second.ID, time.Now()))
	require.ErrorIs(t, err, recognition.ErrReplay)
	_, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-gone", "o-does-not-exist", time.Now()))
	require.ErrorIs(t, err, registra.ErrNotFound)
	_, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-done", second.ID, time.Now()))
	require.ErrorIs(t, err, registra.ErrTransition)
	offline := submittedOrder(t, env, orgA, 5, nil)
	_, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-offline", offline.ID, time.Now()))
	assert.Equal(t, "callback.order_id", namedField(t, err))
}

// TestRecognitionStepsAfterRestart: what the applicant's steps produced is
// kept in the store, sealed: a form signature completed before a restart
// is used after it, and a provider's session record that came first waits
// across a restart for the signature. The steps go with the recognition's
// record.
func TestRecognitionStepsAfterRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	outbox := &recognitiontest.Outbox{}
	key := recognition.Secret(bytes.Repeat([]byte("r"), 32))
	steps := func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: outbox}
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	}
	env := openEnv(t, realClock(), withConfig(steps))
	restart := func() {
		t.Helper()
		require.NoError(t, env.P.Close())
		cfg := envConfig(env.Dir, nil, env.EvidenceCA)
		steps(&cfg)
		p, err := registra.Open(ctx, cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = p.Close() }) //nolint:errcheck // closing at the end of a test
		env.P = p
	}
	storedSteps := func(orderID string) []store.StepRecord {
		t.Helper()
		snap, err := env.P.Store().Snapshot(ctx)
		require.NoError(t, err)
		defer snap.Close()
		s, err := snap.Steps(orderID)
		require.NoError(t, err)
		return s
	}
	rao := env.User(orgA, access.RoleRAO)
	video := func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID }
	signed := submittedOrder(t, env, orgA, 6, video)
	waiting := submittedOrder(t, env, orgA, 7, video)

	form := recognitiontest.PDF("request form " + signed.ID)
	ch, err := env.P.StartFormSignature(ctx, rao.Actor, signed.ID, form)
	require.NoError(t, err)
	code, err := outbox.Last(signed.Input.Applicant.Mobile)
	require.NoError(t, err)
	_, err = env.P.CompleteFormSignature(ctx, rao.Actor, signed.ID, ch.ID, code)
	require.NoError(t, err)
	kept := storedSteps(signed.ID)
	require.Len(t, kept, 1)
	assert.Equal(t, "form_signature", kept[0].Kind)
	assert.Equal(t, rao.Username, kept[0].OperatorID)
	sealed, err := env.P.Store().Blobs().Get(ctx, kept[0].Blob)
	require.NoError(t, err)
	assert.NotContains(t, string(sealed), string(form), "the signed form is stored sealed")

	recorded, err := env.P.VideoCallback(ctx, videoCallback(t, key, "s-waiting", waiting.ID, time.Now()))
	require.NoError(t, err)
	assert.False(t, recorded)
	require.Len(t, storedSteps(waiting.ID), 1)

	restart()

	// The signature made before the restart completes the recognition.
	recorded, err = env.P.VideoCallback(ctx, videoCallback(t, key, "s-signed", signed.ID, time.Now()))
	require.NoError(t, err)
	assert.True(t, recorded)
	got, err := env.P.GetOrder(ctx, rao.Actor, signed.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	m := storedManifest(t, env, signed.ID)
	assert.Equal(t, rao.Username, m.Operator.ID, "recorded for the operator who completed the signature")
	assert.Equal(t, "s-signed", m.Attributes["video_session"])
	assert.Empty(t, storedSteps(signed.ID), "the steps go with the record")

	// The record that came before the restart waits for the signature.
	ch, err = env.P.StartFormSignature(ctx, rao.Actor, waiting.ID, recognitiontest.PDF("request form "+waiting.ID))
	require.NoError(t, err)
	code, err = outbox.Last(waiting.Input.Applicant.Mobile)
	require.NoError(t, err)
	got, err = env.P.CompleteFormSignature(ctx, rao.Actor, waiting.ID, ch.ID, code)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	assert.Equal(t, "s-waiting", storedManifest(t, env, waiting.ID).Attributes["video_session"])
	assert.Empty(t, storedSteps(waiting.ID))

	// A challenge is not kept: after a restart the applicant asks for a
	// new code.
	third := submittedOrder(t, env, orgA, 8, video)
	ch, err = env.P.StartFormSignature(ctx, rao.Actor, third.ID, recognitiontest.PDF("request form "+third.ID))
	require.NoError(t, err)
	code, err = outbox.Last(third.Input.Applicant.Mobile)
	require.NoError(t, err)
	restart()
	_, err = env.P.CompleteFormSignature(ctx, rao.Actor, third.ID, ch.ID, code)
	assert.Equal(t, "challenge_id", namedField(t, err))
}

// TestExpiredStepsDropped: the scheduler drops a step once its time has
// passed; until then it waits.
func TestExpiredStepsDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	key := recognition.Secret(bytes.Repeat([]byte("e"), 32))
	env := openEnv(t, withConfig(func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: &recognitiontest.Outbox{}}
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	}))
	o := submittedOrder(t, env, orgA, 9, func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID })
	recorded, err := env.P.VideoCallback(ctx, videoCallback(t, key, "s-late", o.ID, env.Now()))
	require.NoError(t, err)
	assert.False(t, recorded)
	count := func() int {
		t.Helper()
		snap, err := env.P.Store().Snapshot(ctx)
		require.NoError(t, err)
		defer snap.Close()
		s, err := snap.Steps(o.ID)
		require.NoError(t, err)
		return len(s)
	}
	env.Advance(59 * time.Minute)
	_, err = env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, count())
	env.Advance(2 * time.Minute)
	_, err = env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	assert.Zero(t, count())
}

// TestRelayedVideoID: a plain operator who entered a Video ID request starts
// the applicant's form signature, which the applicant completes from their
// link, and the provider's record completes the recognition: the
// recognition is the video operator's, and the evidence names the plain
// operator as the one who relayed it (Manuale operatore, "Video ID
// Identification Process"). A sealed bundle stays out of their reach.
func TestRelayedVideoID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, outbox, key := videoEnv(t, "p")
	clerk := env.User(orgA, access.RoleOperator)
	o := submittedOrder(t, env, orgA, 11, func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID })
	ch, err := env.P.StartFormSignature(ctx, clerk.Actor, o.ID, recognitiontest.PDF("request form "+o.ID))
	require.NoError(t, err)
	code, err := outbox.Last(o.Input.Applicant.Mobile)
	require.NoError(t, err)
	require.NoError(t, env.P.CompleteFormSignatureByLink(ctx, ch.Link, code))

	recorded, err := env.P.VideoCallback(ctx, videoCallback(t, key, "s-relayed", o.ID, time.Now()))
	require.NoError(t, err)
	assert.True(t, recorded)
	got, err := env.P.GetOrder(ctx, clerk.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	m := storedManifest(t, env, o.ID)
	assert.Equal(t, clerk.Username, m.Operator.ID)
	assert.Equal(t, recognition.RoleOperator, m.Operator.Role)
	assert.Equal(t, "video-op", m.Attributes["video_operator"])

	// What stays the IR's and RAO's: a sealed bundle of any method.
	other := submittedOrder(t, env, orgA, 12, func(in *registra.OrderInput) { in.Method = recognition.MethodVideoID })
	rao := env.User(orgA, access.RoleRAO)
	_, err = env.P.RecordRecognition(ctx, clerk.Actor, other.ID, env.Evidence(t, rao, other))
	require.ErrorIs(t, err, registra.ErrPermission)
}
