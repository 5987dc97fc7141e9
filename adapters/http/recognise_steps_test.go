package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// resetClock puts the platform's clock back on the wall clock once the
// logins are done: the one-shot certificate is issued at the platform's
// time and the form signed at the wall clock's, which must fall inside it.
func (c *clock) resetClock() { c.offset.Store(0) }

// stepsEnv is a platform with the OTP form signature configured (codes go
// to outbox) and edit applied to its configuration, a RAO of DEMO and a
// RAO of another organisation.
type stepsEnv struct {
	*env
	outbox  *recognitiontest.Outbox
	rao     string // DEMO's RAO token
	foreign string // OTHER's RAO token
	actor   registra.Actor
}

func newStepsEnv(t *testing.T, edit func(*registra.Config)) *stepsEnv {
	t.Helper()
	return newStepsEnvLogged(t, nil, edit)
}

// newStepsEnvLogged is newStepsEnv with the logs going to log.
func newStepsEnvLogged(t *testing.T, log *slog.Logger, edit func(*registra.Config)) *stepsEnv {
	t.Helper()
	outbox := &recognitiontest.Outbox{}
	e := newEnvWith(t, log, func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: outbox}
		edit(c)
	})
	e.org("OTHER")
	s := &stepsEnv{env: e, outbox: outbox, rao: e.operator(demoOrg, demoUnit, "rao1", "rao"),
		foreign: e.operator("OTHER", demoUnit, "rao2", "rao")}
	var err error
	s.actor, err = e.p.Authenticate(context.Background(), s.rao)
	require.NoError(t, err)
	e.clock.resetClock()
	return s
}

// order makes an order of product pt and method m waiting for recognition
// (to_identify) for applicant i.
func (s *stepsEnv) order(t *testing.T, i int, pt string, m recognition.Method) (string, registra.Applicant) {
	t.Helper()
	ctx := context.Background()
	a := benchApplicant(t, i, s.clock.Now())
	o, err := s.p.CreateDraft(ctx, s.actor, registra.OrderInput{ProductType: pt, Method: m, Applicant: a})
	require.NoError(t, err)
	_, err = s.p.Submit(ctx, s.actor, o.ID)
	require.NoError(t, err)
	return o.ID, a
}

func (s *stepsEnv) status(t *testing.T, id string) any {
	t.Helper()
	return s.do(http.MethodGet, "/v1/orders/"+id, s.rao, nil).body["status"]
}

// startForm starts the form signature of order id as token.
func (s *stepsEnv) startForm(t *testing.T, token, id string, pdf []byte) response {
	t.Helper()
	ct, body := form(t, map[string][]byte{"form": pdf}, nil)
	return s.send(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature", token, ct, body, nil)
}

func (s *stepsEnv) completeForm(t *testing.T, token, id, challenge, code string) response {
	t.Helper()
	return s.do(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature/"+challenge, token, map[string]string{"otp": code})
}

// signForm runs the applicant's form signature of order id to the end.
func (s *stepsEnv) signForm(t *testing.T, id string, a registra.Applicant) {
	t.Helper()
	r := s.startForm(t, s.rao, id, recognitiontest.PDF("request form "+id))
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	code, err := s.outbox.Last(a.Mobile)
	require.NoError(t, err)
	r = s.completeForm(t, s.rao, id, r.body["challenge_id"].(string), code)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
}

// assertField checks that a 400 problem names field.
func assertField(t *testing.T, r response, slug, field string) {
	t.Helper()
	assertProblem(t, r, http.StatusBadRequest, slug)
	var locs []string
	errs, _ := r.body["errors"].([]any)
	for _, e := range errs {
		locs = append(locs, e.(map[string]any)["location"].(string))
	}
	assert.Containsf(t, locs, field, "%s", r.raw)
}

func TestFormSignature(t *testing.T) {
	t.Parallel()
	s := newStepsEnv(t, func(c *registra.Config) {
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: recognition.Secret(bytes.Repeat([]byte("k"), 32))}
	})
	id, a := s.order(t, 1, registra.ProductRemoteSignature, recognition.MethodVideoID)
	pdf := recognitiontest.PDF("request form")

	// Refusals send nothing and change nothing.
	assertProblem(t, s.startForm(t, "", id, pdf), http.StatusUnauthorized, "unauthenticated")
	assertProblem(t, s.startForm(t, s.foreign, id, pdf), http.StatusNotFound, "not-found")
	assertField(t, s.startForm(t, s.rao, id, []byte("not a PDF")), "invalid-input", "form")
	ct, body := form(t, nil, map[string]string{"other": "x"})
	assertField(t, s.send(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature", s.rao, ct, body, nil), "invalid-request", "form")
	offline, _ := s.order(t, 2, registra.ProductRemoteSignature, recognition.MethodOffline)
	assertField(t, s.startForm(t, s.rao, offline, pdf), "invalid-input", "method")
	// A plain operator relays the steps of Video ID and SPID only: Live ID
	// is the RAO's, in person.
	clerk := s.operator(demoOrg, demoUnit, "clerk1", "operator")
	live, _ := s.order(t, 3, registra.ProductRemoteSignature, recognition.MethodLiveID)
	assertProblem(t, s.startForm(t, clerk, live, pdf), http.StatusForbidden, "permission-denied")
	assert.Zero(t, s.outbox.Sent(a.Mobile))

	r := s.startForm(t, clerk, id, pdf)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, 1, s.outbox.Sent(a.Mobile), "a plain operator starts a Video ID form signature")
	r = s.startForm(t, s.rao, id, pdf)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	ch := r.body["challenge_id"].(string)
	assert.Equal(t, "+39*******001", r.body["destination"])
	assert.Equal(t, 2, s.outbox.Sent(a.Mobile), "a new start replaces the challenge")
	code, err := s.outbox.Last(a.Mobile)
	require.NoError(t, err)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	assertProblem(t, s.completeForm(t, "", id, ch, code), http.StatusUnauthorized, "unauthenticated")
	assertProblem(t, s.completeForm(t, s.foreign, id, ch, code), http.StatusNotFound, "not-found")
	assertField(t, s.completeForm(t, s.rao, id, "unknown", code), "invalid-input", "challenge_id")
	assertProblem(t, s.completeForm(t, s.rao, id, ch, "12ab"), http.StatusBadRequest, "invalid-request")
	assertProblem(t, s.completeForm(t, s.rao, id, ch, wrong), http.StatusBadRequest, "otp-invalid")
	r = s.completeForm(t, s.rao, id, ch, code)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_identify", r.body["status"], "the form signature alone records nothing")
	// A signature was made: the challenge is closed.
	assertProblem(t, s.completeForm(t, s.rao, id, ch, code), http.StatusBadRequest, "invalid-input")

	// Three wrong codes close a challenge.
	r = s.startForm(t, s.rao, id, pdf)
	require.Equal(t, http.StatusOK, r.status)
	ch = r.body["challenge_id"].(string)
	code, err = s.outbox.Last(a.Mobile)
	require.NoError(t, err)
	if code == wrong {
		wrong = "111111"
	}
	assertProblem(t, s.completeForm(t, s.rao, id, ch, wrong), http.StatusBadRequest, "otp-invalid")
	assertProblem(t, s.completeForm(t, s.rao, id, ch, wrong), http.StatusBadRequest, "otp-invalid")
	assertProblem(t, s.completeForm(t, s.rao, id, ch, wrong), http.StatusConflict, "otp-closed")
	assertProblem(t, s.completeForm(t, s.rao, id, ch, code), http.StatusConflict, "otp-closed")
}

func TestStepsUnavailable(t *testing.T) {
	t.Parallel()
	// No Config.OTP, no method configurations.
	e := newEnv(t)
	rao := e.operator(demoOrg, demoUnit, "rao1", "rao")
	actor, err := e.p.Authenticate(context.Background(), rao)
	require.NoError(t, err)
	for i, m := range []recognition.Method{recognition.MethodLiveID, recognition.MethodVideoID, recognition.MethodSPID} {
		pt := registra.ProductRemoteSignature
		if m == recognition.MethodSPID {
			pt = registra.ProductRemoteSignatureSPID
		}
		o, err := e.p.CreateDraft(context.Background(), actor, registra.OrderInput{ProductType: pt, Method: m,
			Applicant: benchApplicant(t, 10+i, e.clock.Now())})
		require.NoError(t, err)
		_, err = e.p.Submit(context.Background(), actor, o.ID)
		require.NoError(t, err)
		id := o.ID
		ct, body := form(t, map[string][]byte{"form": recognitiontest.PDF("form")}, nil)
		r := e.send(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature", rao, ct, body, nil)
		assertProblem(t, r, http.StatusBadRequest, "invalid-input")
		assert.Contains(t, r.body["detail"], "unavailable")
	}
	r := e.do(http.MethodGet, "/v1/recognition/spid/metadata", "", nil)
	assertProblem(t, r, http.StatusBadRequest, "invalid-input")
	assert.Contains(t, r.body["detail"], "unavailable")
}

func TestRecogniseLiveID(t *testing.T) {
	t.Parallel()
	start := time.Now()
	qroot := recognitiontest.NewRoot(t, "Qualified Test Root", start.AddDate(-2, 0, 0), start.AddDate(10, 0, 0))
	qca := qroot.NewIntermediate(t, "Qualified Test CA")
	crl := qca.CRL(t, start.Add(-time.Hour), start.Add(48*time.Hour), start.Add(-time.Hour))
	s := newStepsEnv(t, func(c *registra.Config) {
		c.LiveID = &recognition.LiveIDConfig{Roots: qroot.Pool(), CRLs: recognition.StaticCRLs{crl}}
	})
	id, a := s.order(t, 3, registra.ProductRemoteSignature, recognition.MethodLiveID)
	raoCert, raoKey := qca.Issue(t, recognitiontest.Person{GivenName: "Anna", Surname: "Bianchi", TaxCode: "BNCNNA80A41H501R",
		Qualified: true, NonRepudiation: true, NotBefore: start.AddDate(-1, 0, 0), NotAfter: start.AddDate(1, 0, 0)})
	otherCert, otherKey := qca.Issue(t, recognitiontest.Person{GivenName: "Luca", Surname: "Verdi", TaxCode: "VRDLCU80A01H501Y",
		Qualified: true, NonRepudiation: true, NotBefore: start.AddDate(-1, 0, 0), NotAfter: start.AddDate(1, 0, 0)})
	report := recognitiontest.SignP7M(t, recognitiontest.PDF("recognition report "+id), raoCert, raoKey, qca.Chain(), recognitiontest.SignOptions{})
	files := func() map[string][]byte {
		return map[string][]byte{"signed_report": report,
			"document_front": recognitiontest.JPEG("front " + id), "document_back": recognitiontest.PNG("back " + id)}
	}
	post := func(token, id string, f map[string][]byte) response {
		ct, body := form(t, f, nil)
		return s.send(http.MethodPost, "/v1/orders/"+id+"/recognition/live-id", token, ct, body, nil)
	}

	// Before the applicant signed the form.
	assertField(t, post(s.rao, id, files()), "invalid-input", "form_signature")
	s.signForm(t, id, a)

	assertProblem(t, post("", id, files()), http.StatusUnauthorized, "unauthenticated")
	assertProblem(t, post(s.foreign, id, files()), http.StatusNotFound, "not-found")
	noReport := files()
	delete(noReport, "signed_report")
	assertField(t, post(s.rao, id, noReport), "invalid-request", "signed_report")
	// The RAO's tax code is the platform's register: without one the
	// report's signer cannot be matched.
	assertField(t, post(s.rao, id, files()), "invalid-input", "operator.tax_code")
	bad := s.do(http.MethodPatch, "/v1/operators/rao1", s.admin, map[string]any{"tax_code": "BNCNNA80A41H501X"})
	assertField(t, bad, "invalid-input", "tax_code")
	reg := s.do(http.MethodPatch, "/v1/operators/rao1", s.admin, map[string]any{"tax_code": "bncnna80a41h501r"})
	require.Equalf(t, http.StatusOK, reg.status, "%s", reg.raw)
	assert.Equal(t, "BNCNNA80A41H501R", reg.body["tax_code"])
	noDocs := files()
	delete(noDocs, "document_back")
	assertField(t, post(s.rao, id, noDocs), "invalid-input", "uploads")
	// The report must be signed in the acting RAO's name.
	other := files()
	other["signed_report"] = recognitiontest.SignP7M(t, recognitiontest.PDF("report"), otherCert, otherKey, qca.Chain(), recognitiontest.SignOptions{})
	assertProblem(t, post(s.rao, id, other), http.StatusBadRequest, "identity-mismatch")
	// Over the upload limit (1 MiB here): 413, nothing read.
	large := files()
	large["document_back"] = bytes.Repeat([]byte{0xff}, 1<<20)
	assertProblem(t, post(s.rao, id, large), http.StatusRequestEntityTooLarge, "body-too-large")
	assert.Equal(t, "to_identify", s.status(t, id))

	r := post(s.rao, id, files())
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])
	assertProblem(t, post(s.rao, id, files()), http.StatusConflict, "transition-not-allowed")
}

// videoRecord is a provider's session record for order id, with its
// timestamp and signature.
func videoRecord(t *testing.T, key recognition.Secret, session, id string, now time.Time) (body []byte, ts, sig string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"provider": "videoprov", "session_id": session, "order_id": id, "operator": "video-op-7",
		"outcome": recognition.OutcomeApproved, "started_at": now.Add(-10 * time.Minute), "ended_at": now.Add(-time.Minute),
		"artefacts": []map[string]any{{"kind": recognition.KindDocumentBoth, "name": "document.jpg", "data": recognitiontest.JPEG("document")},
			{"kind": recognition.KindSelfie, "name": "selfie.jpg", "data": recognitiontest.JPEG("selfie")}}})
	require.NoError(t, err)
	ts = strconv.FormatInt(now.Unix(), 10)
	return body, ts, recognition.SignCallback(key, ts, body)
}

func TestRecogniseVideoID(t *testing.T) {
	t.Parallel()
	key := recognition.Secret(bytes.Repeat([]byte("v"), 32))
	s := newStepsEnv(t, func(c *registra.Config) {
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	})
	id, a := s.order(t, 5, registra.ProductRemoteSignature, recognition.MethodVideoID)
	id2, a2 := s.order(t, 6, registra.ProductRemoteSignature, recognition.MethodVideoID)
	body, ts, sig := videoRecord(t, key, "sess-1", id, s.clock.Now())
	post := func(token, id string, body []byte, ts, sig string) response {
		ct, b := form(t, map[string][]byte{"session": body}, map[string]string{"timestamp": ts, "signature": sig})
		return s.send(http.MethodPost, "/v1/orders/"+id+"/recognition/video-id", token, ct, b, nil)
	}

	// Before the form signature: refused, and the record is not used up.
	assertField(t, post(s.rao, id, body, ts, sig), "invalid-input", "form_signature")
	s.signForm(t, id, a)

	assertProblem(t, post("", id, body, ts, sig), http.StatusUnauthorized, "unauthenticated")
	assertProblem(t, post(s.foreign, id, body, ts, sig), http.StatusNotFound, "not-found")
	ct, b := form(t, map[string][]byte{"session": body}, map[string]string{"signature": sig})
	assertField(t, s.send(http.MethodPost, "/v1/orders/"+id+"/recognition/video-id", s.rao, ct, b, nil), "invalid-request", "form.timestamp")
	tampered := bytes.Replace(body, []byte("video-op-7"), []byte("video-op-8"), 1)
	assertProblem(t, post(s.rao, id, tampered, ts, sig), http.StatusUnauthorized, "callback-unauthenticated")
	old := strconv.FormatInt(s.clock.Now().Add(-time.Hour).Unix(), 10)
	assertProblem(t, post(s.rao, id, body, old, recognition.SignCallback(key, old, body)), http.StatusUnauthorized, "callback-unauthenticated")
	assert.Equal(t, "to_identify", s.status(t, id))

	r := post(s.rao, id, body, ts, sig)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])

	// The same session again, for another order: a replay.
	s.signForm(t, id2, a2)
	assertProblem(t, post(s.rao, id2, body, ts, sig), http.StatusConflict, "replay")
	// A session record of another order.
	body, ts, sig = videoRecord(t, key, "sess-2", id, s.clock.Now())
	assertProblem(t, post(s.rao, id2, body, ts, sig), http.StatusBadRequest, "identity-mismatch")
	assert.Equal(t, "to_identify", s.status(t, id2))
}

func TestRecogniseSPID(t *testing.T) {
	t.Parallel()
	idp := recognitiontest.NewIdP(t)
	spKey, spCert := recognitiontest.SelfSignedRSA(t, "registra SPID service provider")
	s := newStepsEnv(t, func(c *registra.Config) {
		// The response is posted to this test's server; the ACS URL is
		// what the response names as its destination.
		c.SPID = &recognition.SPIDConfig{EntityID: "https://registra.test/spid", ACSURL: "https://registra.test/v1/recognition/spid/acs",
			IdPMetadata: idp.Metadata(t), Key: spKey, Certificate: spCert}
	})
	md := s.do(http.MethodGet, "/v1/recognition/spid/metadata", "", nil)
	require.Equal(t, http.StatusOK, md.status)
	assert.Equal(t, "application/samlmetadata+xml", md.header.Get("Content-Type"))
	idp.RegisterSP(t, "registra", md.raw)

	id, a := s.order(t, 7, registra.ProductRemoteSignatureSPID, recognition.MethodSPID)
	id2, a2 := s.order(t, 8, registra.ProductRemoteSignatureSPID, recognition.MethodSPID)
	attrs := func(a registra.Applicant) map[string]string {
		return map[string]string{recognition.SPIDFiscalNumber: "TINIT-" + a.TaxCode, recognition.SPIDName: strings.ToUpper(a.FirstName),
			recognition.SPIDFamilyName: strings.ToUpper(a.Surname), recognition.SPIDDateOfBirth: a.BirthDate.Format(time.DateOnly),
			recognition.SPIDEmail: a.Email, recognition.SPIDMobilePhone: a.Mobile}
	}
	idp.AddUser(t, "holder7", "correct horse", attrs(a))
	idp.AddUser(t, "holder8", "correct horse", attrs(a2))
	login := func(token, id string) response {
		return s.do(http.MethodPost, "/v1/orders/"+id+"/recognition/spid/login", token, nil)
	}
	acs := func(resp, relay string) response {
		v := url.Values{}
		if resp != "" {
			v.Set("SAMLResponse", resp)
		}
		if relay != "" {
			v.Set("RelayState", relay)
		}
		return s.send(http.MethodPost, "/v1/recognition/spid/acs", "", "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), nil)
	}

	assertProblem(t, login("", id), http.StatusUnauthorized, "unauthenticated")
	assertProblem(t, login(s.foreign, id), http.StatusNotFound, "not-found")
	offline, _ := s.order(t, 9, registra.ProductRemoteSignature, recognition.MethodOffline)
	assertField(t, login(s.rao, offline), "invalid-input", "method")

	// Without the form signature the response is refused; the RelayState
	// is used up and the order unchanged.
	r := login(s.rao, id2)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	resp2 := idp.Login(t, r.body["url"].(string), "holder8", "correct horse")
	assertField(t, acs(resp2, r.body["relay_state"].(string)), "invalid-input", "form_signature")
	assertProblem(t, acs(resp2, r.body["relay_state"].(string)), http.StatusUnauthorized, "authentication-failed")
	assert.Equal(t, "to_identify", s.status(t, id2))

	s.signForm(t, id, a)
	r = login(s.rao, id)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	loginURL, relay := r.body["url"].(string), r.body["relay_state"].(string)
	require.True(t, strings.HasPrefix(loginURL, idp.HTTP.URL+"/sso?SAMLRequest="), loginURL)
	resp := idp.Login(t, loginURL, "holder7", "correct horse")

	assertField(t, acs("", relay), "invalid-request", "SAMLResponse")
	assertField(t, acs(resp, ""), "invalid-request", "RelayState")
	assertProblem(t, acs(resp, "0123456789abcdef0123456789abcdef"), http.StatusUnauthorized, "authentication-failed")
	assertProblem(t, s.send(http.MethodPost, "/v1/recognition/spid/acs", "", "application/x-www-form-urlencoded",
		bytes.NewReader(bytes.Repeat([]byte("a"), 1<<20+1)), nil), http.StatusRequestEntityTooLarge, "body-too-large")
	assert.Equal(t, "to_identify", s.status(t, id))

	r = acs(resp, relay)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])
	// The RelayState is single use.
	assertProblem(t, acs(resp, relay), http.StatusUnauthorized, "authentication-failed")

	// Another holder's login does not recognise this applicant.
	s.signForm(t, id2, a2)
	r = login(s.rao, id2)
	require.Equal(t, http.StatusOK, r.status)
	resp = idp.Login(t, r.body["url"].(string), "holder7", "correct horse")
	assertProblem(t, acs(resp, r.body["relay_state"].(string)), http.StatusBadRequest, "identity-mismatch")
	assert.Equal(t, "to_identify", s.status(t, id2))
}

func TestVideoIDCallback(t *testing.T) {
	t.Parallel()
	key := recognition.Secret(bytes.Repeat([]byte("w"), 32))
	s := newStepsEnv(t, func(c *registra.Config) {
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	})
	callback := func(body []byte, ts, sig string) response {
		h := http.Header{}
		if ts != "" {
			h.Set("X-Registra-Timestamp", ts)
		}
		if sig != "" {
			h.Set("X-Registra-Signature", sig)
		}
		return s.send(http.MethodPost, "/v1/recognition/video-id/callback", "", "application/json", bytes.NewReader(body), h)
	}

	// The record first, as in the manual: it waits for the form signature,
	// whose completion records the recognition.
	id, a := s.order(t, 11, registra.ProductRemoteSignature, recognition.MethodVideoID)
	body, ts, sig := videoRecord(t, key, "sess-a", id, s.clock.Now())
	r := callback(body, ts, sig)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.JSONEq(t, `{"recorded":false}`, string(r.raw), "the provider learns nothing of the order")
	assert.Equal(t, "to_identify", s.status(t, id))
	s.signForm(t, id, a)
	assert.Equal(t, "to_issue", s.status(t, id))

	// The signature first: the record completes the recognition.
	id2, a2 := s.order(t, 12, registra.ProductRemoteSignature, recognition.MethodVideoID)
	s.signForm(t, id2, a2)
	body, ts, sig = videoRecord(t, key, "sess-b", id2, s.clock.Now())
	r = callback(body, ts, sig)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.JSONEq(t, `{"recorded":true}`, string(r.raw))
	assert.Equal(t, "to_issue", s.status(t, id2))

	// Refusals: nothing changes.
	id3, _ := s.order(t, 13, registra.ProductRemoteSignature, recognition.MethodVideoID)
	body, ts, sig = videoRecord(t, key, "sess-c", id3, s.clock.Now())
	assertProblem(t, callback(body, ts, ""), http.StatusBadRequest, "invalid-request")
	assertProblem(t, callback(body, ts, recognition.SignCallback(recognition.Secret(bytes.Repeat([]byte("x"), 32)), ts, body)),
		http.StatusUnauthorized, "callback-unauthenticated")
	assertProblem(t, callback(bytes.Replace(body, []byte("approved"), []byte("rejected"), 1), ts, sig),
		http.StatusUnauthorized, "callback-unauthenticated")
	replayed, rts, rsig := videoRecord(t, key, "sess-b", id3, s.clock.Now())
	assertProblem(t, callback(replayed, rts, rsig), http.StatusConflict, "replay")
	gone, gts, gsig := videoRecord(t, key, "sess-d", "o-does-not-exist", s.clock.Now())
	assertProblem(t, callback(gone, gts, gsig), http.StatusNotFound, "not-found")
	assertProblem(t, callback(bytes.Repeat([]byte(" "), 1<<20+1), ts, sig), http.StatusRequestEntityTooLarge, "body-too-large")
	assert.Equal(t, "to_identify", s.status(t, id3))
	r = callback(body, ts, sig)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.JSONEq(t, `{"recorded":false}`, string(r.raw))
}

// TestFormSignatureNotLogged runs the form signature with every log at
// debug level, a wrong code included, and checks that neither code
// reaches the log.
func TestFormSignatureNotLogged(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	s := newStepsEnvLogged(t, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), func(c *registra.Config) {
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: recognition.Secret(bytes.Repeat([]byte("k"), 32))}
	})
	id, a := s.order(t, 14, registra.ProductRemoteSignature, recognition.MethodVideoID)
	r := s.startForm(t, s.rao, id, recognitiontest.PDF("request form"))
	require.Equal(t, http.StatusOK, r.status)
	ch, link := r.body["challenge_id"].(string), r.body["link"].(string)
	code, err := s.outbox.Last(a.Mobile)
	require.NoError(t, err)
	wrong := "918273"
	if code == wrong {
		wrong = "192837"
	}
	assertProblem(t, s.completeForm(t, s.rao, id, ch, wrong), http.StatusBadRequest, "otp-invalid")
	require.Equal(t, http.StatusOK, s.completeForm(t, s.rao, id, ch, code).status)
	logs := buf.String()
	require.Contains(t, logs, ch, "the steps are logged by challenge")
	assert.NotContains(t, logs, "="+code)
	assert.NotContains(t, logs, "="+wrong)
	assert.NotContains(t, logs, `"`+code+`"`)
	assert.NotContains(t, logs, `"`+wrong+`"`)
	assert.NotContains(t, logs, link)
}

// TestApplicantFormSignature has the applicant enter the code from their
// link, without an operator's session; the token is single use.
func TestApplicantFormSignature(t *testing.T) {
	t.Parallel()
	key := recognition.Secret(bytes.Repeat([]byte("w"), 32))
	s := newStepsEnv(t, func(c *registra.Config) {
		c.VideoID = &recognition.VideoIDConfig{Provider: "videoprov", CallbackKey: key}
	})
	enter := func(link, code string) response {
		return s.do(http.MethodPost, "/v1/applicant/form-signature", "", map[string]string{"link": link, "otp": code})
	}
	id, a := s.order(t, 15, registra.ProductRemoteSignature, recognition.MethodVideoID)
	// The provider's record came first: the applicant's signature records
	// the recognition.
	body, ts, sig := videoRecord(t, key, "sess-l", id, s.clock.Now())
	h := http.Header{"X-Registra-Timestamp": {ts}, "X-Registra-Signature": {sig}}
	require.Equal(t, http.StatusOK, s.send(http.MethodPost, "/v1/recognition/video-id/callback", "", "application/json", bytes.NewReader(body), h).status)

	r := s.startForm(t, s.rao, id, recognitiontest.PDF("request form"))
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	first := r.body["link"].(string)
	require.Len(t, first, 43)
	// A new start replaces the link.
	r = s.startForm(t, s.rao, id, recognitiontest.PDF("request form"))
	require.Equal(t, http.StatusOK, r.status)
	link := r.body["link"].(string)
	code, err := s.outbox.Last(a.Mobile)
	require.NoError(t, err)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}

	// The applicant reads the form first.
	pdf := s.do(http.MethodPost, "/v1/applicant/form", "", map[string]string{"link": link})
	require.Equalf(t, http.StatusOK, pdf.status, "%s", pdf.raw)
	assert.Equal(t, "application/pdf", pdf.header.Get("Content-Type"))
	assert.Equal(t, recognitiontest.PDF("request form"), pdf.raw)
	assertProblem(t, s.do(http.MethodPost, "/v1/applicant/form", "", map[string]string{"link": first}), http.StatusUnauthorized, "authentication-failed")

	assertProblem(t, enter(first, code), http.StatusUnauthorized, "authentication-failed")
	assertProblem(t, enter(strings.Repeat("A", 43), code), http.StatusUnauthorized, "authentication-failed")
	assertField(t, enter("short", code), "invalid-request", "body.link")
	assertProblem(t, enter(link, wrong), http.StatusBadRequest, "otp-invalid")
	assert.Equal(t, "to_identify", s.status(t, id))

	r = enter(link, code)
	require.Equalf(t, http.StatusNoContent, r.status, "%s", r.raw)
	assert.Empty(t, r.raw, "the applicant learns nothing of the order")
	assert.Equal(t, "to_issue", s.status(t, id))
	assertProblem(t, enter(link, code), http.StatusUnauthorized, "authentication-failed")
	assertProblem(t, s.do(http.MethodPost, "/v1/applicant/form", "", map[string]string{"link": link}), http.StatusUnauthorized, "authentication-failed")
}
