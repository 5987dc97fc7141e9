package registra

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
)

// The recognitions made with the applicant (Live ID, Video ID, SPID) take
// steps, each its own call (Manuale operatore, "Live ID Recognition
// Process", "Video ID Identification Process", "SPID Identification
// Process"):
//
//  1. [Platform.StartFormSignature] sends the applicant an OTP for the
//     one-shot signature of the request form;
//     [Platform.CompleteFormSignature] checks the code, has the one-shot
//     certificate issued and the form signed (recognition.OTPSigner).
//  2. The method's own step then verifies everything together, seals the
//     evidence and records it (to_identify → to_issue): Live ID, the
//     upload of the report the RAO signed ([Platform.Recognise]); Video
//     ID, the provider's session record, relayed by an operator
//     ([Platform.RecogniseVideo]) or sent by the provider itself
//     ([Platform.VideoCallback]); SPID, the identity provider's response
//     posted to the assertion consumer service ([Platform.SPIDAssertion])
//     after [Platform.StartSPIDLogin].
//
// The form is signed first because the library's verifiers check the form
// signature together with the method's evidence, and a SAML response is
// fresh for a minute or two only: it is verified when it arrives. A Video
// ID session record sent by the provider may come first, as in the manual
// (the video session, then the signature): it is kept, and the form
// signature's completion records the recognition.
//
// What the steps produce is kept in the store (recognise_steps_store.go):
// the signed form and a session record waiting for it survive a restart
// and are seen by every node. An OTP challenge holds its secret and is
// never stored (recognition.Challenge): it lives, with the applicant's
// link and a SPID login's RelayState, in the memory of the node that
// started it, and a restart asks for a new code or a new login. Each step
// is audited (order.form_signature_sent, order.one_shot_prepared,
// order.form_signed or refused, order.spid_login_started), with no code or
// secret.

// stepTTL bounds how long a step and its result are kept: the one-shot
// certificate's validity (ca.OneShot's default).
const stepTTL = time.Hour

// spidRelayTTL bounds the time between a SPID login's start and the
// identity provider's response.
const spidRelayTTL = 30 * time.Minute

// errNoFormSignature refuses a method's last step before the form
// signature.
var errNoFormSignature = fieldErr("form_signature",
	"the applicant has not signed the request form: start and complete the form signature first")

// recognitionSteps keeps, per order, the steps in progress on this node.
type recognitionSteps struct {
	mu sync.Mutex
	// pairing serialises the two steps that may each complete a Video ID
	// recognition (the form signature and the provider's record), so that
	// on one node exactly one of them records it.
	pairing sync.Mutex
	now     func() time.Time
	orders  map[string]*orderSteps // by order ID
	relays  map[string]spidRelay   // by SAML RelayState
	links   map[string]formLink    // by the SHA-256 of the applicant's link token
}

// formLink binds an applicant's link token to the challenge it answers.
type formLink struct {
	orderID, challengeID string
	actor                Actor  // the operator who started the form signature
	form                 []byte // the request form, for the applicant to read
	expires              time.Time
}

// orderSteps is one order's form signature in progress.
type orderSteps struct {
	at        time.Time // last step
	iut       string    // the holder's IUT, for the one-shot certificate
	starter   Actor     // the operator who started the form signature
	challenge *recognition.Challenge
}

// spidRelay binds a SAML RelayState to the login it started.
type spidRelay struct {
	orderID   string
	actor     Actor
	requestID string
	expires   time.Time
}

func newRecognitionSteps(now func() time.Time) *recognitionSteps {
	return &recognitionSteps{now: now, orders: map[string]*orderSteps{}, relays: map[string]spidRelay{}, links: map[string]formLink{}}
}

// order returns the steps of orderID, creating them, after dropping the
// stale ones. The caller holds mu.
func (rs *recognitionSteps) order(orderID string) *orderSteps {
	now := rs.now()
	for id, o := range rs.orders {
		if now.Sub(o.at) > stepTTL {
			delete(rs.orders, id)
		}
	}
	for k, r := range rs.relays {
		if now.After(r.expires) {
			delete(rs.relays, k)
		}
	}
	for k, l := range rs.links {
		if now.After(l.expires) {
			delete(rs.links, k)
		}
	}
	o := rs.orders[orderID]
	if o == nil {
		o = &orderSteps{}
		rs.orders[orderID] = o
	}
	o.at = now
	return o
}

// forget drops orderID's steps once its recognition is recorded.
func (rs *recognitionSteps) forget(orderID string) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	delete(rs.orders, orderID)
	for k, r := range rs.relays {
		if r.orderID == orderID {
			delete(rs.relays, k)
		}
	}
	rs.dropLinks(orderID)
}

// dropLinks drops the applicant links of orderID. The caller holds mu.
func (rs *recognitionSteps) dropLinks(orderID string) {
	for k, l := range rs.links {
		if l.orderID == orderID {
			delete(rs.links, k)
		}
	}
}

// linkKey is the map key of a link token: its SHA-256, so that lookups
// compare digests, never the secret.
func linkKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// started returns the holder's IUT and the operator recorded for orderID
// at the form signature's start.
func (rs *recognitionSteps) started(orderID string) (string, Actor) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if o := rs.orders[orderID]; o != nil {
		return o.iut, o.starter
	}
	return "", Actor{}
}

// openStepVerifiers builds the Live ID, Video ID and SPID verifiers and the
// OTP signer from the configuration.
func (p *Platform) openStepVerifiers(r *recognisers) error {
	r.steps = newRecognitionSteps(p.now)
	// The one-shot certificates are the platform's own: issued by its
	// issuing CA, under its root.
	pool := func() *x509.CertPool {
		cp := x509.NewCertPool()
		cp.AddCert(p.hierarchy.Root())
		return cp
	}
	var err error
	if c := p.cfg.LiveID; c != nil {
		lc := *c
		if lc.OneShotRoots == nil {
			lc.OneShotRoots = pool()
		}
		lc.Now, lc.Logger = p.nowOr(lc.Now), p.logOr(lc.Logger)
		if r.liveID, err = recognition.NewLiveID(lc); err != nil {
			return &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.LiveID: %w", err)}
		}
	}
	if c := p.cfg.VideoID; c != nil {
		vc := *c
		if vc.OneShotRoots == nil {
			vc.OneShotRoots = pool()
		}
		vc.Now, vc.Logger = p.nowOr(vc.Now), p.logOr(vc.Logger)
		if r.videoID, err = recognition.NewVideoID(vc); err != nil {
			return &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.VideoID: %w", err)}
		}
	}
	if c := p.cfg.SPID; c != nil {
		sc := *c
		if sc.OneShotRoots == nil {
			sc.OneShotRoots = pool()
		}
		sc.Now, sc.Logger = p.nowOr(sc.Now), p.logOr(sc.Logger)
		if r.spid, err = recognition.NewSPID(sc); err != nil {
			return &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.SPID: %w", err)}
		}
	}
	if c := p.cfg.OTP; c != nil {
		oc := *c
		if oc.Issuer == nil {
			oc.Issuer = oneShotIssuer{p: p, steps: r.steps}
		}
		oc.Now, oc.Logger = p.nowOr(oc.Now), p.logOr(oc.Logger)
		if r.otp, err = recognition.NewOTPSigner(oc); err != nil {
			return &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.OTP: %w", err)}
		}
	}
	return nil
}

func (p *Platform) nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return p.now
	}
	return now
}

func (p *Platform) logOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return p.log
	}
	return l
}

// stepVerifier returns the verifier of a method made in steps, or
// ErrInvalidInput naming what the platform lacks.
func (p *Platform) stepVerifier(m recognition.Method) (recognition.Verifier, error) {
	var v recognition.Verifier
	var cfg string
	switch m {
	case recognition.MethodLiveID:
		if p.rec.liveID != nil {
			v = p.rec.liveID
		}
		cfg = "Config.LiveID (RAO trust anchors, CRLs)"
	case recognition.MethodVideoID:
		if p.rec.videoID != nil {
			v = p.rec.videoID
		}
		cfg = "Config.VideoID (provider, callback key)"
	case recognition.MethodSPID:
		if p.rec.spid != nil {
			v = p.rec.spid
		}
		cfg = "Config.SPID (service provider, identity provider metadata)"
	default:
		return nil, fieldErr("method", "recognition "+m.String()+" has no applicant steps")
	}
	if v == nil {
		return nil, &Error{Op: "order.recognise", Kind: ErrInvalidInput,
			Err: fmt.Errorf("%s is unavailable: the platform has no %s", m, cfg)}
	}
	if p.rec.otp == nil {
		return nil, &Error{Op: "order.recognise", Kind: ErrInvalidInput,
			Err: fmt.Errorf("%s is unavailable: the platform has no Config.OTP (the applicant's form signature)", m)}
	}
	return v, nil
}

// stepOrder checks that actor a may take a recognition step of orderID:
// the order exists in the actor's organisation (ErrNotFound), the actor
// may record its recognition and it is to_identify (ErrPermission,
// ErrTransition; audited as refused), its method is one of methods (or any
// method made in steps when methods is empty) and the platform can
// recognise it (ErrInvalidInput).
func (p *Platform) stepOrder(ctx context.Context, a Actor, orderID string, methods ...recognition.Method) (*stepTarget, error) {
	oc, err := p.loadOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	in, _, err := p.application(ctx, oc.snap, orderID)
	if err != nil {
		return nil, err
	}
	if _, err := p.decideRecognition(ctx, oc, recognitionVia(oc.aop, in.Method), p.clock()); err != nil {
		return nil, err
	}
	if len(methods) > 0 && !slices.Contains(methods, in.Method) {
		return nil, fieldErr("method", "the order's recognition method is "+in.Method.String()+", not "+methods[0].String())
	}
	if _, err := p.stepVerifier(in.Method); err != nil {
		return nil, err
	}
	return &stepTarget{in: in, org: oc.order.OrgID, iut: oc.holder.IUT}, nil
}

// stepTarget is the order a recognition step is taken for: its
// application, organisation and holder IUT.
type stepTarget struct {
	in       OrderInput
	org, iut string
}

// FormSignatureChallenge is the OTP challenge of the applicant's one-shot
// signature of the request form. The code itself goes to the applicant
// only.
type FormSignatureChallenge struct {
	// ID names the challenge in [Platform.CompleteFormSignature].
	ID string
	// ExpiresAt is when the code expires.
	ExpiresAt time.Time
	// Destination is the applicant's mobile number, masked.
	Destination string
	// Link is a single-use token with which the applicant completes the
	// signature themselves ([Platform.CompleteFormSignatureByLink]),
	// without an operator's session: hand it to the applicant only, in the
	// link they are sent. It expires with the challenge; a new start
	// replaces it. It formats as a redaction marker.
	Link LinkToken
}

// LinkToken is an applicant's link token: a bearer secret that formats and
// logs as a redaction marker. Reveal returns the token.
type LinkToken string

// Reveal returns the token, for the link sent to the applicant.
func (t LinkToken) Reveal() string { return string(t) }

// String returns a redaction marker.
func (LinkToken) String() string { return "[redacted]" }

// LogValue logs a redaction marker.
func (LinkToken) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// StartFormSignature starts the applicant's one-shot signature of the
// request form (a PDF) for an order recognised by Live ID, Video ID or
// SPID: it sends an OTP to the applicant's mobile number through
// Config.OTP's Sender. A new start replaces a challenge not yet answered.
//
// Who may: an operator granted access.PermRecordRecognition (IR, RAO,
// master RAO); for Video ID and SPID, whose recognition is the provider's,
// also a plain operator, through access.PermRelayRemoteRecognition (the
// recognition is then recorded, when the provider's part arrives, for the
// operator who relayed it). Preconditions, in order: the order exists in the actor's
// organisation (ErrNotFound); the actor may record its recognition and it
// is to_identify (ErrPermission, ErrTransition); its method is one of the
// three and the platform has its configuration and Config.OTP
// (ErrInvalidInput); the form is a PDF (ErrInvalidInput naming "form").
// Nothing is sent on refusal.
func (p *Platform) StartFormSignature(ctx context.Context, a Actor, orderID string, form []byte) (*FormSignatureChallenge, error) {
	const op = "order.form_signature"
	tg, err := p.stepOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	ap := tg.in.Applicant
	ch, err := p.rec.otp.Start(ctx, recognition.OTPRequest{OrderID: orderID, Form: form,
		Applicant: recognition.Applicant{TaxCode: ap.TaxCode, GivenName: ap.FirstName, Surname: ap.Surname,
			DateOfBirth: ap.BirthDate.Format(time.DateOnly), Email: ap.Email, Mobile: ap.Mobile}})
	if err != nil {
		return nil, wrap(op, err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, wrap(op, err)
	}
	link := base64.RawURLEncoding.EncodeToString(b)
	rs := p.rec.steps
	rs.mu.Lock()
	o := rs.order(orderID)
	o.challenge, o.iut, o.starter = ch, tg.iut, a
	rs.dropLinks(orderID)
	rs.links[linkKey(link)] = formLink{orderID: orderID, challengeID: ch.ID(), actor: a, form: bytes.Clone(form), expires: ch.ExpiresAt()}
	rs.mu.Unlock()
	dest := maskMobile(ap.Mobile)
	if err := p.auditStep(ctx, a, "order.form_signature_sent", orderID, outcomeDone, "challenge "+ch.ID()+" to "+dest); err != nil {
		return nil, err
	}
	return &FormSignatureChallenge{ID: ch.ID(), ExpiresAt: ch.ExpiresAt(), Destination: dest, Link: LinkToken(link)}, nil
}

// FormByLink returns the request form (PDF) the link token's challenge
// signs, for the applicant to read before entering the code. An unknown,
// used or expired token wraps ErrUnauthenticated.
func (p *Platform) FormByLink(link LinkToken) ([]byte, error) {
	rs := p.rec.steps
	rs.mu.Lock()
	l, ok := rs.links[linkKey(link.Reveal())]
	rs.mu.Unlock()
	if !ok || rs.now().After(l.expires) {
		return nil, fmt.Errorf("%w: the link names no form signature in progress", ErrUnauthenticated)
	}
	return bytes.Clone(l.form), nil
}

// CompleteFormSignatureByLink is [Platform.CompleteFormSignature] for the
// applicant: the link token of [FormSignatureChallenge] names the order
// and the challenge, and takes the place of an operator's session (the
// operator who started the signature is checked again, and the steps and
// the audit trail record them). The token is single use: it ends with the
// signature, with the challenge's last attempt or its expiry. An unknown,
// used or expired token wraps ErrUnauthenticated; the other refusals are
// CompleteFormSignature's. Nothing of the order is returned.
func (p *Platform) CompleteFormSignatureByLink(ctx context.Context, link LinkToken, code string) error {
	rs := p.rec.steps
	key := linkKey(link.Reveal())
	rs.mu.Lock()
	l, ok := rs.links[key]
	rs.mu.Unlock()
	if !ok || rs.now().After(l.expires) {
		return fmt.Errorf("%w: the link names no form signature in progress", ErrUnauthenticated)
	}
	_, err := p.CompleteFormSignature(ctx, l.actor, l.orderID, l.challengeID, code)
	if err == nil || errors.Is(err, recognition.ErrOTPLocked) || errors.Is(err, recognition.ErrOTPExpired) ||
		errors.Is(err, ErrTransition) || errors.Is(err, ErrNotFound) {
		rs.mu.Lock()
		delete(rs.links, key)
		rs.mu.Unlock()
	}
	return err
}

// CompleteFormSignature checks the code the applicant received for
// challenge challengeID and, when it matches, has the one-shot certificate
// issued (profile ca.OneShot, by the issuing CA unless Config.OTP names
// another issuer) and the request form signed with it; the signature is
// kept for the method's last step. A wrong code uses one attempt
// (ErrInvalidInput wrapping recognition.ErrOTPInvalid); after the last,
// after expiry or after a signature was made the challenge is closed
// (recognition.ErrOTPLocked) and a new one must be started.
//
// For a Video ID order whose provider's session record came first
// ([Platform.VideoCallback]), the signature completes the recognition:
// it is verified, sealed and recorded as by [Platform.RecogniseVideo]. The
// order is returned in either case; its status tells which.
//
// Who may and preconditions: as [Platform.StartFormSignature]; an unknown
// or replaced challenge is ErrInvalidInput naming "challenge_id".
func (p *Platform) CompleteFormSignature(ctx context.Context, a Actor, orderID, challengeID, code string) (*Order, error) {
	const op = "order.form_signature"
	tg, err := p.stepOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	rs := p.rec.steps
	rs.mu.Lock()
	var ch *recognition.Challenge
	if o := rs.orders[orderID]; o != nil && o.challenge != nil && o.challenge.ID() == challengeID {
		ch = o.challenge
	}
	rs.mu.Unlock()
	if ch == nil {
		return nil, fieldErr("challenge_id", "is not the order's open challenge: start the form signature")
	}
	fs, err := p.rec.otp.Complete(ctx, ch, code)
	if err != nil {
		if aerr := p.auditStep(ctx, a, "order.form_signed", orderID, outcomeRefused, "challenge "+ch.ID()+": "+err.Error()); aerr != nil {
			p.log.ErrorContext(ctx, "audit of a refused form signature failed", "err", aerr)
		}
		return nil, wrap(op, err)
	}
	rs.mu.Lock()
	if o := rs.orders[orderID]; o != nil && o.challenge == ch {
		o.challenge = nil
	}
	rs.mu.Unlock()
	step, err := p.stepCommands(ctx, orderID, tg.org, a.OperatorID, stepFormSignature, storeFormSignature(fs))
	if err != nil {
		return nil, err
	}
	rs.pairing.Lock()
	defer rs.pairing.Unlock()
	ev := auditEvent(a.Org, a.OperatorID, "order.form_signed", orderID, p.clock(), auditDetails{Outcome: outcomeDone,
		Input: "challenge " + ch.ID() + ", one-shot certificate " + fs.Certificate.SerialNumber.Text(16)})
	if _, err := p.apply(ctx, op, append(step, ev)...); err != nil {
		return nil, err
	}
	if p.rec.videoID != nil {
		snap, err := p.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		video, err := p.videoSession(ctx, snap, orderID)
		snap.Close()
		if err != nil {
			return nil, err
		}
		if video != nil {
			return p.recognise(ctx, a, orderID, recognition.Submission{VideoSession: video})
		}
	}
	return p.GetOrder(ctx, a, orderID)
}

// RecogniseVideo records a Video ID recognition from the video provider's
// session record, relayed as the provider sent it (body and the two
// headers that authenticate it, see recognition.CallbackRequest): the
// record is authenticated (HMAC-SHA256 under Config.VideoID's key, within
// its tolerance), refused if its session was accepted before, and verified
// with the applicant's form signature (recognition.VideoID); the evidence
// is sealed and recorded as by [Platform.Recognise].
//
// Who may and preconditions: as [Platform.StartFormSignature], for a Video
// ID order whose form signature is complete (else ErrInvalidInput naming
// "form_signature", and the record is not consumed); a record that does
// not authenticate wraps recognition.ErrUnauthenticated, a replayed one
// recognition.ErrReplay. Nothing is stored on refusal.
func (p *Platform) RecogniseVideo(ctx context.Context, a Actor, orderID string, cb recognition.CallbackRequest) (*Order, error) {
	if _, err := p.stepOrder(ctx, a, orderID, recognition.MethodVideoID); err != nil {
		return nil, err
	}
	if err := p.requireFormSignature(ctx, orderID); err != nil {
		return nil, err
	}
	vs, err := p.rec.videoID.Callback(ctx, cb)
	if err != nil {
		return nil, wrap("order.recognise", err)
	}
	return p.recognise(ctx, a, orderID, recognition.Submission{VideoSession: vs})
}

// VideoCallback takes a session record the video provider sends itself
// (its webhook; recognition.CallbackRequest: the body and the two headers
// that authenticate it). The record is authenticated (HMAC-SHA256 under
// Config.VideoID's key, within its tolerance) and refused if its session
// was accepted before; it names the order. When the applicant's form
// signature is complete, the recognition is verified, sealed and recorded
// for the operator who completed it, as by [Platform.RecogniseVideo], and
// recorded is true; otherwise the record waits for the form signature
// ([Platform.CompleteFormSignature] records it), for as long as the steps
// are kept (one hour, in the store: a restart does not lose it).
//
// The caller needs no session: the provider's signature authenticates the
// request. Refusals: a record that does not authenticate wraps
// recognition.ErrUnauthenticated, a replayed one recognition.ErrReplay;
// an order that does not exist, ErrNotFound; an order not waiting for a
// Video ID recognition, ErrTransition or ErrInvalidInput naming
// "callback.order_id"; then the refusals of the recording. Nothing is
// stored on refusal.
func (p *Platform) VideoCallback(ctx context.Context, cb recognition.CallbackRequest) (recorded bool, err error) {
	const op = "order.video_callback"
	if p.rec.videoID == nil || p.rec.otp == nil {
		return false, &Error{Op: op, Kind: ErrInvalidInput,
			Err: errors.New("video id is unavailable: the platform has no Config.VideoID or Config.OTP")}
	}
	vs, err := p.rec.videoID.Callback(ctx, cb)
	if err != nil {
		return false, wrap(op, err)
	}
	org, err := p.waitingForVideo(ctx, vs.OrderID)
	if err != nil {
		return false, err
	}
	rs := p.rec.steps
	rs.pairing.Lock()
	defer rs.pairing.Unlock()
	signer, signed, err := p.formSigner(ctx, vs.OrderID)
	if err != nil {
		return false, err
	}
	if !signed {
		// The record waits, stored, for the form signature. Another node
		// may complete the signature meanwhile: look again once stored.
		step, err := p.stepCommands(ctx, vs.OrderID, org, "", stepVideoSession, storeVideoSession(vs))
		if err != nil {
			return false, err
		}
		if _, err := p.apply(ctx, op, step...); err != nil {
			return false, err
		}
		if signer, signed, err = p.formSigner(ctx, vs.OrderID); err != nil || !signed {
			if err == nil {
				p.log.InfoContext(ctx, "video session waiting for the form signature", "order", vs.OrderID, "session", vs.SessionID)
			}
			return false, err
		}
	}
	if _, err := p.recognise(ctx, signer, vs.OrderID, recognition.Submission{VideoSession: vs}); err != nil {
		return false, err
	}
	return true, nil
}

// formSigner returns the operator who completed orderID's form signature,
// and whether it is complete.
func (p *Platform) formSigner(ctx context.Context, orderID string) (Actor, bool, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return Actor{}, false, err
	}
	defer snap.Close()
	fs, signer, err := p.formSignature(ctx, snap, orderID)
	return signer, fs != nil, err
}

// requireFormSignature refuses a method's last step before the form
// signature (errNoFormSignature).
func (p *Platform) requireFormSignature(ctx context.Context, orderID string) error {
	_, signed, err := p.formSigner(ctx, orderID)
	if err == nil && !signed {
		err = errNoFormSignature
	}
	return err
}

// waitingForVideo checks that order id exists and waits for a Video ID
// recognition, and returns its organisation. The provider is the
// platform's, not an organisation's: the order is looked up in every
// organisation.
func (p *Platform) waitingForVideo(ctx context.Context, id string) (string, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return "", err
	}
	defer snap.Close()
	oc := &orderCtx{snap: snap}
	if err := p.readOrder(oc, id); err != nil {
		return "", err
	}
	in, _, err := p.application(ctx, snap, id)
	if err != nil {
		return "", err
	}
	if in.Method != recognition.MethodVideoID {
		return "", fieldErr("callback.order_id", "the order's recognition method is "+in.Method.String()+", not video_id")
	}
	if oc.state.Status != lifecycle.StatusToIdentify {
		return "", fmt.Errorf("%w: order %s is %s, not to_identify", ErrTransition, id, oc.state.Status)
	}
	return oc.order.OrgID, nil
}

// SPIDLogin is a started SPID login: where to send the applicant.
type SPIDLogin struct {
	// URL is the identity provider's address with the signed
	// AuthnRequest (HTTP-Redirect binding) and RelayState.
	URL string
	// RequestID is the AuthnRequest's ID; the response must answer it.
	RequestID string
	// RelayState binds the identity provider's response to this login; it
	// comes back with the response to the assertion consumer service.
	RelayState string
	// ExpiresAt is when the login may no longer be completed.
	ExpiresAt time.Time
}

// StartSPIDLogin starts the applicant's SPID login for a SPID order: a
// signed AuthnRequest for the identity provider of Config.SPID, bound to
// the order and the actor by a random RelayState, to be completed by
// [Platform.SPIDAssertion] within 30 minutes.
//
// Who may and preconditions: as [Platform.StartFormSignature], for a SPID
// order.
func (p *Platform) StartSPIDLogin(ctx context.Context, a Actor, orderID string) (*SPIDLogin, error) {
	if _, err := p.stepOrder(ctx, a, orderID, recognition.MethodSPID); err != nil {
		return nil, err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, wrap("order.spid_login", err)
	}
	relay := hex.EncodeToString(b)
	lr, err := p.rec.spid.NewLoginRequest(relay)
	if err != nil {
		return nil, wrap("order.spid_login", err)
	}
	rs := p.rec.steps
	rs.mu.Lock()
	o := rs.order(orderID)
	exp := o.at.Add(spidRelayTTL)
	rs.relays[relay] = spidRelay{orderID: orderID, actor: a, requestID: lr.ID, expires: exp}
	rs.mu.Unlock()
	if err := p.auditStep(ctx, a, "order.spid_login_started", orderID, outcomeDone, "authn request "+lr.ID); err != nil {
		return nil, err
	}
	return &SPIDLogin{URL: lr.URL, RequestID: lr.ID, RelayState: relay, ExpiresAt: exp}, nil
}

// SPIDAssertion is the assertion consumer service: it takes the SAML
// response the identity provider posted (base64, as received) with the
// RelayState of a login started by [Platform.StartSPIDLogin], verifies the
// response and the applicant's form signature (recognition.SPID: the
// signature against the identity provider's metadata, the request ID,
// the time window, the assertion never seen before, the attributes
// matching the applicant), and records the recognition for the operator
// who started the login, as [Platform.Recognise] does. The caller needs no
// session: the RelayState, single use, and the identity provider's
// signature authenticate the request.
//
// Refusals: an unknown, used or expired RelayState wraps
// ErrUnauthenticated; the operator who started the login is checked again
// as [Platform.StartFormSignature] says; without the form signature,
// ErrInvalidInput naming "form_signature". Nothing is stored on refusal.
func (p *Platform) SPIDAssertion(ctx context.Context, samlResponse, relayState string) (*Order, error) {
	rs := p.rec.steps
	rs.mu.Lock()
	r, ok := rs.relays[relayState]
	delete(rs.relays, relayState)
	rs.mu.Unlock()
	if !ok || rs.now().After(r.expires) {
		return nil, fmt.Errorf("%w: the RelayState names no SPID login in progress", ErrUnauthenticated)
	}
	if _, err := p.stepOrder(ctx, r.actor, r.orderID, recognition.MethodSPID); err != nil {
		return nil, err
	}
	if err := p.requireFormSignature(ctx, r.orderID); err != nil {
		return nil, err
	}
	return p.recognise(ctx, r.actor, r.orderID, recognition.Submission{SAMLResponse: samlResponse, SAMLRequestIDs: []string{r.requestID}})
}

// SPIDMetadata returns the SAML metadata of the platform's SPID service
// provider, to register with the identity provider; without Config.SPID,
// ErrInvalidInput naming SPID as unavailable, as the steps say it.
func (p *Platform) SPIDMetadata() ([]byte, error) {
	if p.rec.spid == nil {
		return nil, &Error{Op: "spid.metadata", Kind: ErrInvalidInput,
			Err: errors.New("spid is unavailable: the platform has no Config.SPID")}
	}
	return p.rec.spid.Metadata()
}

// auditStep records a recognition step of orderID by a in the audit trail,
// in its own batch.
func (p *Platform) auditStep(ctx context.Context, a Actor, action, orderID, outcome, detail string) error {
	d := auditDetails{Outcome: outcome, Input: detail}
	if outcome == outcomeRefused {
		d = auditDetails{Outcome: outcome, Rule: detail}
	}
	_, err := p.apply(ctx, action, auditEvent(a.Org, a.OperatorID, action, orderID, p.clock(), d))
	return err
}

// oneShotIssuer issues the one-shot certificates of the applicants' form
// signatures with the platform's issuing CA (profile ca.OneShot, one hour).
type oneShotIssuer struct {
	p     *Platform
	steps *recognitionSteps
}

// IssueOneShot issues a ca.OneShot certificate for req.PublicKey in two
// phases (DESIGN.md): the certificate is prepared and linted, its serial
// committed to the audit trail (order.one_shot_prepared), and only then
// signed, so that no signed certificate is unknown to the store even if
// the process stops in between.
func (o oneShotIssuer) IssueOneShot(ctx context.Context, req recognition.OneShotRequest) (*recognition.OneShotCertificate, error) {
	iut, starter := o.steps.started(req.OrderID)
	t, err := o.p.issuer.Prepare(ctx, ca.Request{Profile: ca.OneShot, PublicKey: req.PublicKey,
		Holder: ca.Holder{TaxCode: req.Applicant.TaxCode, GivenName: req.Applicant.GivenName,
			Surname: req.Applicant.Surname, IUT: iut}})
	if err != nil {
		return nil, err
	}
	if err := o.p.auditStep(ctx, starter, "order.one_shot_prepared", req.OrderID, outcomeDone,
		"serial "+t.SerialNumber.Text(16)+", profile "+t.Profile+", not after "+t.NotAfter.UTC().Format(time.RFC3339)); err != nil {
		return nil, err
	}
	is, err := o.p.issuer.Sign(ctx, t)
	if err != nil {
		return nil, err
	}
	return &recognition.OneShotCertificate{Certificate: is.Certificate, Chain: is.Chain}, nil
}

// maskMobile keeps the country prefix and the last three digits, as the
// OTP evidence records the destination.
func maskMobile(s string) string {
	if len(s) < 7 {
		return "***"
	}
	b := []byte(s)
	for i := 3; i < len(b)-3; i++ {
		b[i] = '*'
	}
	return string(b)
}
