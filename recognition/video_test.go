package recognition_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

var videoKey = recognition.Secret("0123456789abcdef0123456789abcdef-video")

type videoWorld struct {
	*otpWorld
	v   *recognition.VideoID
	now time.Time
}

func newVideoWorld(t *testing.T, edit func(*recognition.VideoIDConfig)) *videoWorld {
	t.Helper()
	w := &videoWorld{otpWorld: newOTPWorld(t, nil), now: time.Now()}
	cfg := recognition.VideoIDConfig{Provider: "acme-video", CallbackKey: videoKey, OneShotRoots: w.oneShotCA.Pool()}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	w.v, err = recognition.NewVideoID(cfg)
	require.NoError(t, err)
	return w
}

func videoBody(t *testing.T, edit func(map[string]any)) []byte {
	t.Helper()
	started := time.Now().Add(-20 * time.Minute).UTC()
	p := map[string]any{
		"provider":   "acme-video",
		"session_id": "sess-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"order_id":   "ord-video",
		"operator":   "video-op-9",
		"outcome":    "approved",
		"started_at": started,
		"ended_at":   started.Add(12 * time.Minute),
		"artefacts": []map[string]any{
			{"kind": "document_front", "name": "front.jpg", "data": recognitiontest.JPEG("front")},
			{"kind": "document_back", "name": "back.jpg", "data": recognitiontest.JPEG("back")},
			{"kind": "tax_card", "name": "tax.png", "data": recognitiontest.PNG("tax card")},
			{"kind": "selfie", "name": "selfie.jpg", "data": recognitiontest.JPEG("selfie")},
		},
	}
	if edit != nil {
		edit(p)
	}
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return b
}

func signedCallback(body []byte, at time.Time) recognition.CallbackRequest {
	ts := strconv.FormatInt(at.Unix(), 10)
	return recognition.CallbackRequest{Timestamp: ts, Signature: recognition.SignCallback(videoKey, ts, body), Body: body}
}

func (w *videoWorld) submission(t *testing.T, s *recognition.VideoSession, fs *recognition.FormSignature) recognition.Submission {
	t.Helper()
	return recognition.Submission{
		OrderID: "ord-video", Applicant: w.applicant, Operator: operator(recognition.RoleOperator), Consents: consents(),
		VideoSession: s, FormSignature: fs,
	}
}

func (w *videoWorld) formSignature(t *testing.T) *recognition.FormSignature {
	t.Helper()
	ch := w.start(t)
	fs, err := w.signer.Complete(context.Background(), ch, w.code(t))
	require.NoError(t, err)
	return fs
}

func TestVideoIDCallback(t *testing.T) {
	t.Parallel()
	w := newVideoWorld(t, nil)
	ctx := context.Background()

	body := videoBody(t, nil)
	s, err := w.v.Callback(ctx, signedCallback(body, time.Now()))
	require.NoError(t, err)
	assert.Equal(t, "acme-video", s.Provider)
	assert.Equal(t, "ord-video", s.OrderID)
	assert.Len(t, s.Artefacts, 4)
	assert.Equal(t, body, s.Payload)

	_, err = w.v.Callback(ctx, signedCallback(body, time.Now()))
	assert.ErrorIs(t, err, recognition.ErrReplay, "the same session twice")

	rotated := videoBody(t, nil)
	cb := signedCallback(rotated, time.Now())
	cb.Signature = recognition.SignCallback(recognition.Secret("an old key that is no longer used!!"), cb.Timestamp, rotated) + "," + cb.Signature
	_, err = w.v.Callback(ctx, cb)
	require.NoError(t, err, "one matching signature among several is enough")

	cases := []struct {
		name    string
		cb      func() recognition.CallbackRequest
		wantErr error
	}{
		{"wrong key", func() recognition.CallbackRequest {
			b := videoBody(t, nil)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			return recognition.CallbackRequest{Timestamp: ts, Signature: recognition.SignCallback(recognition.Secret("another key of at least 32 bytes!!"), ts, b), Body: b}
		}, recognition.ErrUnauthenticated},
		{"body changed", func() recognition.CallbackRequest {
			cb := signedCallback(videoBody(t, nil), time.Now())
			cb.Body = bytes.Replace(cb.Body, []byte("approved"), []byte("rejected"), 1)
			return cb
		}, recognition.ErrUnauthenticated},
		{"timestamp changed", func() recognition.CallbackRequest {
			cb := signedCallback(videoBody(t, nil), time.Now())
			cb.Timestamp = strconv.FormatInt(time.Now().Unix()+1, 10)
			return cb
		}, recognition.ErrUnauthenticated},
		{"too old", func() recognition.CallbackRequest {
			return signedCallback(videoBody(t, nil), time.Now().Add(-6*time.Minute))
		}, recognition.ErrUnauthenticated},
		{"from the future", func() recognition.CallbackRequest {
			return signedCallback(videoBody(t, nil), time.Now().Add(6*time.Minute))
		}, recognition.ErrUnauthenticated},
		{"no signature", func() recognition.CallbackRequest {
			cb := signedCallback(videoBody(t, nil), time.Now())
			cb.Signature = ""
			return cb
		}, recognition.ErrUnauthenticated},
		{"other provider", func() recognition.CallbackRequest {
			return signedCallback(videoBody(t, func(p map[string]any) { p["provider"] = "other" }), time.Now())
		}, recognition.ErrUnauthenticated},
		{"not json", func() recognition.CallbackRequest { return signedCallback([]byte("<xml/>"), time.Now()) }, recognition.ErrInvalidInput},
		{"bad outcome", func() recognition.CallbackRequest {
			return signedCallback(videoBody(t, func(p map[string]any) { p["outcome"] = "maybe" }), time.Now())
		}, recognition.ErrInvalidInput},
		{"unknown artefact kind", func() recognition.CallbackRequest {
			return signedCallback(videoBody(t, func(p map[string]any) {
				p["artefacts"] = []map[string]any{{"kind": "signed_form", "data": []byte("x")}}
			}), time.Now())
		}, recognition.ErrInvalidInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := w.v.Callback(ctx, tc.cb())
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
	t.Run("an unauthenticated replay does not burn the session", func(t *testing.T) {
		t.Parallel()
		b := videoBody(t, nil)
		bad := signedCallback(b, time.Now())
		bad.Signature = "v1=00"
		_, err := w.v.Callback(ctx, bad)
		require.ErrorIs(t, err, recognition.ErrUnauthenticated)
		_, err = w.v.Callback(ctx, signedCallback(b, time.Now()))
		assert.NoError(t, err)
	})
}

func TestVideoIDVerify(t *testing.T) {
	t.Parallel()
	w := newVideoWorld(t, nil)
	ctx := context.Background()
	fs := w.formSignature(t)
	accept := func(t *testing.T, body []byte) *recognition.VideoSession {
		t.Helper()
		s, err := w.v.Callback(ctx, signedCallback(body, time.Now()))
		require.NoError(t, err)
		return s
	}

	t.Run("accepted and sealed", func(t *testing.T) {
		t.Parallel()
		ev, err := w.v.Verify(ctx, w.submission(t, accept(t, videoBody(t, nil)), fs))
		require.NoError(t, err)
		m := ev.Manifest
		for _, k := range m.Method.Requirements().Artefacts {
			_, ok := m.Artefact(k)
			assert.True(t, ok, "artefact %s", k)
		}
		assert.Equal(t, "video-op-9", m.Attributes["video_operator"])
		sealed, err := w.sealer.Seal(ctx, &ev)
		require.NoError(t, err)
		_, err = recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: w.root.Pool()})
		require.NoError(t, err)
	})

	forged := accept(t, videoBody(t, nil))
	forged.Payload = bytes.Replace(forged.Payload, []byte("video-op-9"), []byte("video-op-1"), 1)
	cases := []struct {
		name    string
		session func() *recognition.VideoSession
		checks  []recognition.CheckName
		kinds   []error
	}{
		{"rejected by the operator", func() *recognition.VideoSession {
			return accept(t, videoBody(t, func(p map[string]any) { p["outcome"] = "rejected" }))
		}, []recognition.CheckName{recognition.CheckOutcome}, []error{recognition.ErrOutcome}},
		{"session of another order", func() *recognition.VideoSession {
			return accept(t, videoBody(t, func(p map[string]any) { p["order_id"] = "ord-other" }))
		}, []recognition.CheckName{recognition.CheckCallback}, []error{recognition.ErrIdentityMismatch}},
		{"no selfie", func() *recognition.VideoSession {
			return accept(t, videoBody(t, func(p map[string]any) { p["artefacts"] = p["artefacts"].([]map[string]any)[:3] }))
		}, []recognition.CheckName{recognition.CheckContent}, []error{recognition.ErrFormat}},
		{"image of the wrong type", func() *recognition.VideoSession {
			return accept(t, videoBody(t, func(p map[string]any) {
				a := p["artefacts"].([]map[string]any)
				a[3]["data"] = recognitiontest.PDF("selfie as pdf")
			}))
		}, []recognition.CheckName{recognition.CheckContent}, []error{recognition.ErrFormat}},
		{"payload changed after the callback", func() *recognition.VideoSession { return forged },
			[]recognition.CheckName{recognition.CheckCallback}, []error{recognition.ErrUnauthenticated}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := w.v.Verify(ctx, w.submission(t, tc.session(), fs))
			require.Error(t, err)
			assert.Zero(t, ev)
			for _, k := range tc.kinds {
				assert.ErrorIs(t, err, k)
			}
			ve, ok := errorsAs[*recognition.VerificationError](err)
			require.True(t, ok)
			assert.ElementsMatch(t, tc.checks, ve.Checks())
		})
	}
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		s := w.submission(t, nil, fs)
		_, err := w.v.Verify(ctx, s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
		s = w.submission(t, accept(t, videoBody(t, nil)), nil)
		_, err = w.v.Verify(ctx, s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
		s = w.submission(t, accept(t, videoBody(t, nil)), fs)
		s.Uploads = documentUploads()
		_, err = w.v.Verify(ctx, s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput, "uploads come from the provider")
	})
}

func TestVideoIDConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := recognition.NewVideoID(recognition.VideoIDConfig{CallbackKey: recognition.Secret("short")})
	assert.EqualError(t, err, "recognition: invalid input: provider: is required; callback_key: must be at least 32 bytes; one_shot_roots: is required")
}

func TestMemoryReplayGuard(t *testing.T) {
	t.Parallel()
	var g recognition.MemoryReplayGuard
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok, err := g.Claim(ctx, "a", t0, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, _ = g.Claim(ctx, "a", t0.Add(time.Minute), t0.Add(2*time.Minute))
	assert.False(t, ok, "until is inclusive")
	ok, _ = g.Claim(ctx, "b", t0, t0.Add(time.Minute))
	assert.True(t, ok)
	ok, _ = g.Claim(ctx, "a", t0.Add(time.Minute+time.Second), t0.Add(2*time.Minute))
	assert.True(t, ok, "expired keys are forgotten")
}
