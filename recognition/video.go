package recognition

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/registra-pki/registra/internal/logattr"
)

// VideoSession is the session record of the external video-identification
// provider, accepted through [VideoID.Callback]. Only the authenticated
// payload is trusted: [VideoID.Verify] authenticates and parses it again.
type VideoSession struct {
	Provider  string    // provider name, from the configuration
	SessionID string    // the provider's session ID
	OrderID   string    // the order the session was opened for
	Operator  string    // the provider's video operator
	Outcome   string    // "approved" or "rejected"
	StartedAt time.Time // session start
	EndedAt   time.Time // session end
	// Artefacts are the document photos, the tax card and the selfie.
	Artefacts []Upload
	// Payload, Timestamp and Signature are the callback as received.
	Payload   []byte
	Timestamp string
	Signature string
	// ReceivedAt is when the callback was accepted.
	ReceivedAt time.Time
}

// Video session outcomes.
const (
	OutcomeApproved = "approved"
	OutcomeRejected = "rejected"
)

// CallbackRequest is one provider callback: the body and the two headers
// that authenticate it. The signature is "v1=" followed by the hex
// HMAC-SHA256, under the shared key, of the timestamp (Unix seconds), a
// full stop and the body; several comma-separated values are allowed during
// a key change.
type CallbackRequest struct {
	Timestamp string // e.g. header X-Registra-Timestamp
	Signature string // e.g. header X-Registra-Signature
	Body      []byte
}

// SignCallback returns the signature header value for a body: what the
// provider computes. It is exported for providers' integration tests and
// for tests.
func SignCallback(key Secret, timestamp string, body []byte) string {
	return "v1=" + hex.EncodeToString(callbackMAC(key, timestamp, body))
}

func callbackMAC(key Secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// videoPayload is the JSON body of a callback.
type videoPayload struct {
	Provider  string          `json:"provider"`
	SessionID string          `json:"session_id"`
	OrderID   string          `json:"order_id"`
	Operator  string          `json:"operator"`
	Outcome   string          `json:"outcome"`
	StartedAt time.Time       `json:"started_at"`
	EndedAt   time.Time       `json:"ended_at"`
	Artefacts []videoArtefact `json:"artefacts"`
}

type videoArtefact struct {
	Kind ArtefactKind `json:"kind"`
	Name string       `json:"name"`
	Data []byte       `json:"data"` // base64
}

// videoKinds are the artefact kinds a provider may send.
var videoKinds = []ArtefactKind{KindDocumentFront, KindDocumentBack, KindDocumentBoth, KindTaxCard, KindSelfie}

// parseVideoPayload decodes and checks a callback body.
func parseVideoPayload(body []byte) (*videoPayload, error) {
	var p videoPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, &FieldError{Field: "callback.body", Rule: "not a session record: " + err.Error()}
	}
	if dec.More() {
		return nil, &FieldError{Field: "callback.body", Rule: "trailing data"}
	}
	var fe fieldErrors
	for name, v := range map[string]string{"provider": p.Provider, "session_id": p.SessionID, "order_id": p.OrderID, "operator": p.Operator} {
		if strings.TrimSpace(v) == "" {
			fe.add("callback."+name, "is required")
		}
	}
	if p.Outcome != OutcomeApproved && p.Outcome != OutcomeRejected {
		fe.add("callback.outcome", "must be approved or rejected")
	}
	if p.StartedAt.IsZero() || p.EndedAt.Before(p.StartedAt) {
		fe.add("callback.ended_at", "must not be before started_at")
	}
	for i, a := range p.Artefacts {
		ok := false
		for _, k := range videoKinds {
			ok = ok || a.Kind == k
		}
		if !ok {
			fe.add(fmt.Sprintf("callback.artefacts[%d].kind", i), fmt.Sprintf("%q is not a video artefact", a.Kind))
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Defaults of [VideoIDConfig].
const (
	DefaultCallbackTolerance = 5 * time.Minute
	DefaultMaxCallbackSize   = 64 << 20
)

// VideoIDConfig configures [VideoID].
type VideoIDConfig struct {
	// Provider names the video provider; callbacks must carry this name.
	// Required.
	Provider string
	// CallbackKey is the HMAC-SHA256 key shared with the provider, at least
	// 32 bytes. Required.
	CallbackKey Secret
	// CallbackTolerance is how far the callback timestamp may be from now.
	// Zero means [DefaultCallbackTolerance].
	CallbackTolerance time.Duration
	// Replay refuses a session accepted before. Nil means a
	// [MemoryReplayGuard] private to this VideoID.
	Replay ReplayGuard
	// MaxCallbackSize bounds the callback body in bytes. Zero means
	// [DefaultMaxCallbackSize].
	MaxCallbackSize int
	// OneShotRoots are the trust anchors of the one-shot certificates.
	// Required.
	OneShotRoots *x509.CertPool
	// MaxSignatureAge bounds the age of the form signature. Zero means one
	// day.
	MaxSignatureAge time.Duration
	// MaxUploadSize bounds each artefact in bytes. Zero means
	// [DefaultMaxUploadSize].
	MaxUploadSize int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives one line per callback and recognition. Nil discards.
	Logger *slog.Logger
}

// Validate checks the fields together and names each bad one.
func (c *VideoIDConfig) Validate() error {
	var fe fieldErrors
	if strings.TrimSpace(c.Provider) == "" {
		fe.add("provider", "is required")
	}
	if len(c.CallbackKey) < 32 {
		fe.add("callback_key", "must be at least 32 bytes")
	}
	if c.CallbackTolerance < 0 {
		fe.add("callback_tolerance", "must not be negative")
	}
	if c.MaxCallbackSize < 0 {
		fe.add("max_callback_size", "must not be negative")
	}
	if c.OneShotRoots == nil {
		fe.add("one_shot_roots", "is required")
	}
	if c.MaxSignatureAge < 0 {
		fe.add("max_signature_age", "must not be negative")
	}
	if c.MaxUploadSize < 0 {
		fe.add("max_upload_size", "must not be negative")
	}
	return fe.err()
}

// VideoID accepts the external video provider's session records and
// verifies Video ID recognitions (Manuale operatore, "Video ID
// Identification Process"): the applicant uploaded document photos and a
// selfie and was recognised by a video operator; then signed the request
// form with an OTP ([OTPSigner]).
type VideoID struct {
	cfg    VideoIDConfig
	replay ReplayGuard
	now    func() time.Time
	log    *slog.Logger
}

// NewVideoID returns a VideoID; it copies the config.
func NewVideoID(cfg VideoIDConfig) (*VideoID, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.CallbackKey = append(Secret(nil), cfg.CallbackKey...)
	if cfg.CallbackTolerance == 0 {
		cfg.CallbackTolerance = DefaultCallbackTolerance
	}
	if cfg.MaxCallbackSize == 0 {
		cfg.MaxCallbackSize = DefaultMaxCallbackSize
	}
	if cfg.MaxSignatureAge == 0 {
		cfg.MaxSignatureAge = 24 * time.Hour
	}
	if cfg.MaxUploadSize == 0 {
		cfg.MaxUploadSize = DefaultMaxUploadSize
	}
	replay := cfg.Replay
	if replay == nil {
		replay = &MemoryReplayGuard{}
	}
	return &VideoID{cfg: cfg, replay: replay, now: nowOr(cfg.Now), log: loggerOr(cfg.Logger)}, nil
}

// Method returns [MethodVideoID].
func (v *VideoID) Method() Method { return MethodVideoID }

// authenticate checks the timestamp window (when window is true) and the
// HMAC of a callback.
func (v *VideoID) authenticate(timestamp, signature string, body []byte, now time.Time, window bool) *CheckError {
	fail := func(detail string) *CheckError {
		return &CheckError{Check: CheckCallback, Kind: ErrUnauthenticated, Detail: detail}
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fail("timestamp is not Unix seconds")
	}
	ts := time.Unix(secs, 0)
	if window && (ts.Before(now.Add(-v.cfg.CallbackTolerance)) || ts.After(now.Add(v.cfg.CallbackTolerance))) {
		return fail(fmt.Sprintf("timestamp %s outside ±%s of now", stamp(ts), v.cfg.CallbackTolerance))
	}
	want := callbackMAC(v.cfg.CallbackKey, timestamp, body)
	for _, part := range strings.Split(signature, ",") {
		h, ok := strings.CutPrefix(strings.TrimSpace(part), "v1=")
		if !ok {
			continue
		}
		got, err := hex.DecodeString(h)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fail("hmac-sha256 signature does not match")
}

// Callback authenticates a provider callback (HMAC-SHA256 over timestamp and
// body, timestamp within the tolerance), parses the session record and
// refuses a session already accepted ([ErrReplay]). The replay check comes
// after authentication, so an unauthenticated request cannot burn a session
// ID.
func (v *VideoID) Callback(ctx context.Context, cb CallbackRequest) (*VideoSession, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(cb.Body) > v.cfg.MaxCallbackSize {
		return nil, &FieldError{Field: "callback.body", Rule: fmt.Sprintf("larger than %d bytes", v.cfg.MaxCallbackSize)}
	}
	now := v.now()
	if ce := v.authenticate(cb.Timestamp, cb.Signature, cb.Body, now, true); ce != nil {
		v.log.WarnContext(ctx, "video callback refused", slog.String("provider", v.cfg.Provider), slog.String("reason", ce.Detail))
		return nil, ce
	}
	p, err := parseVideoPayload(cb.Body)
	if err != nil {
		return nil, err
	}
	if p.Provider != v.cfg.Provider {
		return nil, &CheckError{Check: CheckCallback, Kind: ErrUnauthenticated, Detail: fmt.Sprintf("provider %q is not %q", p.Provider, v.cfg.Provider)}
	}
	fresh, err := v.replay.Claim(ctx, "video:"+p.Provider+":"+p.SessionID, now, now.Add(2*v.cfg.CallbackTolerance))
	if err != nil {
		return nil, fmt.Errorf("recognition: callback: replay guard: %w", err)
	}
	if !fresh {
		return nil, &CheckError{Check: CheckReplay, Kind: ErrReplay, Detail: "session " + p.SessionID + " already accepted"}
	}
	s := sessionOf(p)
	s.Payload = append([]byte(nil), cb.Body...)
	s.Timestamp, s.Signature, s.ReceivedAt = cb.Timestamp, cb.Signature, now
	v.log.InfoContext(ctx, "video session accepted", slog.String(logattr.OrderID, p.OrderID),
		slog.String("provider", p.Provider), slog.String("session", p.SessionID), slog.String("outcome", p.Outcome))
	return s, nil
}

func sessionOf(p *videoPayload) *VideoSession {
	s := &VideoSession{
		Provider: p.Provider, SessionID: p.SessionID, OrderID: p.OrderID, Operator: p.Operator,
		Outcome: p.Outcome, StartedAt: p.StartedAt.UTC(), EndedAt: p.EndedAt.UTC(),
	}
	for _, a := range p.Artefacts {
		s.Artefacts = append(s.Artefacts, Upload{Kind: a.Kind, Name: a.Name, Data: a.Data})
	}
	return s
}

// Verify checks a Video ID submission. Preconditions, in order: the common
// fields; the video session and the form signature are given. Then: the
// session payload is authenticated again and parsed (only its bytes are
// trusted), it is for this order, its outcome is approved, it carries the
// document images and a selfie of accepted types and sizes; and the form
// signature's checks (see [OTPSigner]).
func (v *VideoID) Verify(ctx context.Context, s Submission) (Evidence, error) {
	if err := ctx.Err(); err != nil {
		return Evidence{}, err
	}
	var fe fieldErrors
	// The provider's session brings the images; no uploads are taken.
	validateCommon(&fe, MethodVideoID, &s, v.cfg.MaxUploadSize, nil)
	if s.VideoSession == nil || len(s.VideoSession.Payload) == 0 {
		fe.add("video_session", "is required")
	}
	validateFormSignature(&fe, s.FormSignature)
	if err := fe.err(); err != nil {
		return Evidence{}, err
	}

	now := v.now()
	r := newRecorder(v.now, MethodVideoID, &s)
	vs := s.VideoSession
	d := r.add(KindVideoSession, "", MediaJSON, vs.Payload)
	subject := subjectOf(KindVideoSession, d)
	ce := v.authenticate(vs.Timestamp, vs.Signature, vs.Payload, now, false)
	r.record(CheckCallback, subject, v.cfg.Provider+" hmac-sha256", "timestamp "+vs.Timestamp+" received "+stamp(vs.ReceivedAt), ce)
	if ce == nil {
		v.checkSession(r, subject, &s)
	}
	r.verifyFormSignature(ctx, s.FormSignature, s.Applicant, trustPolicy{
		Roots: v.cfg.OneShotRoots, RequireQualified: true,
		MaxSignatureAge: v.cfg.MaxSignatureAge, MaxClockSkew: DefaultMaxClockSkew,
	}, now)
	if err := r.err(); err != nil {
		v.log.InfoContext(ctx, "recognition refused", slog.String(logattr.OrderID, s.OrderID),
			slog.String(logattr.Method, MethodVideoID.String()), slog.Any("checks", err.(*VerificationError).Checks()))
		return Evidence{}, err
	}
	ev := r.evidence()
	v.log.InfoContext(ctx, "recognition verified", slog.String(logattr.OrderID, s.OrderID),
		slog.String(logattr.Method, MethodVideoID.String()), slog.String(logattr.Actor, s.Operator.ID))
	return ev, nil
}

// checkSession checks the authenticated session record and stores its
// artefacts.
func (v *VideoID) checkSession(r *recorder, subject string, s *Submission) {
	p, err := parseVideoPayload(s.VideoSession.Payload)
	if err != nil {
		r.fail(&CheckError{Check: CheckFormat, Kind: ErrFormat, Detail: "session record", Err: err}, subject, "")
		return
	}
	var ce *CheckError
	if p.OrderID != s.OrderID || p.Provider != v.cfg.Provider {
		ce = &CheckError{Check: CheckCallback, Kind: ErrIdentityMismatch,
			Detail: fmt.Sprintf("session of %s for order %q, not %s for %q", p.Provider, p.OrderID, v.cfg.Provider, s.OrderID)}
	}
	r.record(CheckCallback, subject, "order "+s.OrderID, "session "+p.SessionID, ce)
	ce = nil
	if p.Outcome != OutcomeApproved {
		ce = &CheckError{Check: CheckOutcome, Kind: ErrOutcome, Detail: "video operator " + p.Operator + " reports " + p.Outcome}
	}
	r.record(CheckOutcome, subject, OutcomeApproved, "operator "+p.Operator, ce)

	count := map[ArtefactKind]int{}
	var problems []string
	for i, a := range p.Artefacts {
		mt, ok := SniffMediaType(a.Data)
		switch {
		case len(a.Data) == 0 || len(a.Data) > v.cfg.MaxUploadSize:
			problems = append(problems, fmt.Sprintf("artefact %d (%s) size %d", i, a.Kind, len(a.Data)))
		case !ok || !slices.Contains(allowedMedia[a.Kind], mt):
			problems = append(problems, fmt.Sprintf("artefact %d (%s) type not accepted", i, a.Kind))
		default:
			count[a.Kind]++
			r.add(a.Kind, a.Name, mt, a.Data)
		}
	}
	front, back, both := count[KindDocumentFront] > 0, count[KindDocumentBack] > 0, count[KindDocumentBoth] > 0
	if !(both || front && back) {
		problems = append(problems, "document images missing (front and back, or both sides)")
	}
	if count[KindSelfie] == 0 {
		problems = append(problems, "selfie missing")
	}
	ce = nil
	if len(problems) > 0 {
		ce = &CheckError{Check: CheckContent, Kind: ErrFormat, Detail: strings.Join(problems, "; ")}
	}
	r.record(CheckContent, subject, "document images and selfie", "", ce)
	r.manifest.Attributes["video_provider"] = p.Provider
	r.manifest.Attributes["video_session"] = p.SessionID
	r.manifest.Attributes["video_operator"] = p.Operator
	r.manifest.Attributes["video_started_at"] = stamp(p.StartedAt)
	r.manifest.Attributes["video_ended_at"] = stamp(p.EndedAt)
}
