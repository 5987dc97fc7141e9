package main

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// multipartBody encodes files and values as multipart/form-data.
func multipartBody(t *testing.T, files map[string][]byte, values map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, b := range files {
		fw, err := mw.CreateFormFile(name, name)
		require.NoError(t, err)
		_, err = fw.Write(b)
		require.NoError(t, err)
	}
	for k, v := range values {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

// TestRecognitionStepsServer runs a Video ID and a SPID recognition through
// the example server started with the recognition flags: the OTPs reach the
// outbox directory, the provider's session record is accepted, the identity
// provider's response is taken by the assertion consumer service at its
// default URL, and both orders are to be issued.
func TestRecognitionStepsServer(t *testing.T) {
	t.Parallel()
	f := recognitiontest.WriteConfigFiles(t)
	idp := f.IdP
	_, roots := evidenceCA(t)
	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, dir, api, pub, roots, "REGISTRA_OTP_OUTBOX="+f.Outbox, "REGISTRA_VIDEO_PROVIDER=videoprov",
		"REGISTRA_VIDEO_KEY_FILE="+f.VideoKey, "REGISTRA_SPID_IDP_METADATA="+f.Metadata,
		"REGISTRA_SPID_KEY="+f.SPIDKey, "REGISTRA_SPID_CERT="+f.SPIDCert)
	defer s.stop()

	r := s.do(http.MethodGet, "/v1/recognition/spid/metadata", "", nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Contains(t, string(r.raw), `entityID="https://localhost:`)
	idp.RegisterSP(t, "registra", r.raw)

	adminToken := s.login(s.admin())
	rao := s.operator(adminToken, demoOrg, "rao1", "rao")
	token := s.login(rao)
	a, snap := applicant(t, 21)
	r = s.do(http.MethodPost, "/v1/orders", token, map[string]any{"product_type": "remote_signature", "method": "video_id", "applicant": a})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	id := r.body["id"].(string)
	r = s.do(http.MethodPost, "/v1/orders/"+id+"/submit", token, nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)

	signForm := func(id, mobile string) {
		t.Helper()
		ct, body := multipartBody(t, map[string][]byte{"form": recognitiontest.PDF("request form " + id)}, nil)
		r, err := s.try(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature", token, ct, body)
		require.NoError(t, err)
		require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
		code, err := os.ReadFile(filepath.Join(f.Outbox, mobile+".otp"))
		require.NoError(t, err)
		r = s.do(http.MethodPost, "/v1/orders/"+id+"/recognition/form-signature/"+r.body["challenge_id"].(string), token,
			map[string]string{"otp": strings.TrimSpace(string(code))})
		require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	}
	signForm(id, snap.Mobile)

	now := time.Now()
	record, err := json.Marshal(map[string]any{"provider": "videoprov", "session_id": "s-" + id, "order_id": id, "operator": "video-op",
		"outcome": recognition.OutcomeApproved, "started_at": now.Add(-5 * time.Minute), "ended_at": now.Add(-time.Minute),
		"artefacts": []map[string]any{{"kind": recognition.KindDocumentBoth, "data": recognitiontest.JPEG("document")},
			{"kind": recognition.KindSelfie, "data": recognitiontest.JPEG("selfie")}}})
	require.NoError(t, err)
	key, err := os.ReadFile(f.VideoKey)
	require.NoError(t, err)
	ts := strconv.FormatInt(now.Unix(), 10)
	ct, body := multipartBody(t, map[string][]byte{"session": record},
		map[string]string{"timestamp": ts, "signature": recognition.SignCallback(recognition.Secret(key), ts, record)})
	r, err = s.try(http.MethodPost, "/v1/orders/"+id+"/recognition/video-id", token, ct, body)
	require.NoError(t, err)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])

	// SPID: the form signature, the login at the identity provider, its
	// response posted to the assertion consumer service.
	a, snap = applicant(t, 22)
	r = s.do(http.MethodPost, "/v1/orders", token, map[string]any{"product_type": "remote_signature_spid", "method": "spid", "applicant": a})
	require.Equalf(t, http.StatusCreated, r.status, "%s", r.raw)
	id = r.body["id"].(string)
	r = s.do(http.MethodPost, "/v1/orders/"+id+"/submit", token, nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	signForm(id, snap.Mobile)
	idp.AddUser(t, "holder22", "correct horse", map[string]string{recognition.SPIDFiscalNumber: "TINIT-" + snap.TaxCode,
		recognition.SPIDName: snap.GivenName, recognition.SPIDFamilyName: snap.Surname, recognition.SPIDDateOfBirth: snap.DateOfBirth})
	r = s.do(http.MethodPost, "/v1/orders/"+id+"/recognition/spid/login", token, nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	resp := idp.Login(t, r.body["url"].(string), "holder22", "correct horse")
	form := url.Values{"SAMLResponse": {resp}, "RelayState": {r.body["relay_state"].(string)}}
	r, err = s.try(http.MethodPost, "/v1/recognition/spid/acs", "", "application/x-www-form-urlencoded", []byte(form.Encode()))
	require.NoError(t, err)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])
}
