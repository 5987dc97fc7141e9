package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
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

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// recognitionFiles writes what the recognition flags read and returns the
// paths by name, and the identity provider whose metadata it wrote.
func recognitionFiles(t *testing.T) (map[string]string, *recognitiontest.IdP) {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o600))
		return p
	}
	now := time.Now()
	qroot := recognitiontest.NewRoot(t, "Qualified Test Root", now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0))
	qca := qroot.NewIntermediate(t, "Qualified Test CA")
	idp := recognitiontest.NewIdP(t)
	key, cert := recognitiontest.SelfSignedRSA(t, "registra SPID service provider")
	return map[string]string{
		"roots":     write("roots.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: qroot.Root().Raw})),
		"crl":       write("ca.crl", qca.CRL(t, now.Add(-time.Hour), now.Add(24*time.Hour), now)),
		"crl-pem":   write("ca-crl.pem", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: qca.CRL(t, now.Add(-time.Hour), now.Add(24*time.Hour), now)})),
		"video-key": write("video.key", bytes.Repeat([]byte("k"), 32)),
		"short-key": write("short.key", []byte("too short")),
		"metadata":  write("idp.xml", idp.Metadata(t)),
		"spid-key":  write("sp.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
		"spid-cert": write("sp.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		"outbox":    filepath.Join(dir, "outbox"),
		"missing":   filepath.Join(dir, "missing"),
	}, idp
}

// applyFlags parses args and applies the recognition flags to a config.
func applyFlags(t *testing.T, args ...string) (registra.Config, error) {
	t.Helper()
	var o recognitionOptions
	fl := flag.NewFlagSet("test", flag.ContinueOnError)
	o.flags(fl, func(_, def string) string { return def })
	require.NoError(t, fl.Parse(args))
	var cfg registra.Config
	err := o.apply(&cfg, "https://localhost:8443")
	return cfg, err
}

func TestRecognitionFlags(t *testing.T) {
	t.Parallel()
	f, _ := recognitionFiles(t)

	cfg, err := applyFlags(t)
	require.NoError(t, err)
	assert.Nil(t, cfg.SignID)
	assert.Nil(t, cfg.LiveID)
	assert.Nil(t, cfg.VideoID)
	assert.Nil(t, cfg.SPID)
	assert.Nil(t, cfg.OTP)

	cfg, err = applyFlags(t, "-qualified-roots", f["roots"], "-crls", f["crl"]+","+f["crl-pem"], "-clamd", "127.0.0.1:3310",
		"-otp-outbox", f["outbox"], "-video-provider", "videoprov", "-video-key-file", f["video-key"],
		"-spid-idp-metadata", f["metadata"], "-spid-key", f["spid-key"], "-spid-cert", f["spid-cert"])
	require.NoError(t, err)
	require.NotNil(t, cfg.SignID)
	assert.IsType(t, &recognition.ClamAV{}, cfg.SignID.Scanner)
	assert.Len(t, cfg.SignID.CRLs, 2)
	require.NotNil(t, cfg.LiveID)
	assert.Equal(t, cfg.SignID.Roots, cfg.LiveID.Roots)
	require.NotNil(t, cfg.OTP)
	fi, err := os.Stat(f["outbox"])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	require.NotNil(t, cfg.VideoID)
	assert.Equal(t, "videoprov", cfg.VideoID.Provider)
	require.NotNil(t, cfg.SPID)
	assert.Equal(t, "https://localhost:8443/v1/recognition/spid/metadata", cfg.SPID.EntityID)
	assert.Equal(t, "https://localhost:8443/v1/recognition/spid/acs", cfg.SPID.ACSURL)

	// Without -crls, CRLs are downloaded; without -clamd, Sign ID has no
	// scanner and says it is unavailable.
	cfg, err = applyFlags(t, "-qualified-roots", f["roots"])
	require.NoError(t, err)
	assert.Equal(t, recognition.HTTPCRLs{}, cfg.SignID.CRLs)
	assert.Nil(t, cfg.SignID.Scanner)

	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"roots missing", []string{"-qualified-roots", f["missing"]}, "-qualified-roots"},
		{"roots not PEM", []string{"-qualified-roots", f["video-key"]}, "-qualified-roots"},
		{"CRL of another PEM type", []string{"-qualified-roots", f["roots"], "-crls", f["roots"]}, "-crls"},
		{"clamd without roots", []string{"-clamd", "127.0.0.1:3310"}, "-clamd"},
		{"clamd not an address", []string{"-qualified-roots", f["roots"], "-clamd", "clamd"}, "-clamd"},
		{"video key alone", []string{"-video-key-file", f["video-key"]}, "-video-provider"},
		{"video key too short", []string{"-video-provider", "v", "-video-key-file", f["short-key"]}, "-video-key-file"},
		{"spid without key", []string{"-spid-idp-metadata", f["metadata"]}, "-spid-key"},
		{"spid key without metadata", []string{"-spid-key", f["spid-key"], "-spid-cert", f["spid-cert"]}, "-spid-idp-metadata"},
		{"spid key not RSA PEM", []string{"-spid-idp-metadata", f["metadata"], "-spid-key", f["spid-cert"], "-spid-cert", f["spid-cert"]}, "-spid-key"},
		{"spid metadata not SAML", []string{"-spid-idp-metadata", f["roots"], "-spid-key", f["spid-key"], "-spid-cert", f["spid-cert"]}, "idp_metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := applyFlags(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.flag)
		})
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := outbox{dir: dir}
	ch, err := o.SendOTP(context.Background(), "+393401234567", recognition.OTPCode("123456"))
	require.NoError(t, err)
	assert.Equal(t, "file", ch)
	p := filepath.Join(dir, "+393401234567.otp")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "123456\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = o.SendOTP(context.Background(), "../escape", recognition.OTPCode("123456"))
	require.Error(t, err)
	_, err = os.Stat(filepath.Join(filepath.Dir(dir), "escape.otp"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

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
	f, idp := recognitionFiles(t)
	_, roots := evidenceCA(t)
	dir, api, pub := t.TempDir(), freeAddr(t), freeAddr(t)
	s := startServer(t, dir, api, pub, roots, "REGISTRA_OTP_OUTBOX="+f["outbox"], "REGISTRA_VIDEO_PROVIDER=videoprov",
		"REGISTRA_VIDEO_KEY_FILE="+f["video-key"], "REGISTRA_SPID_IDP_METADATA="+f["metadata"],
		"REGISTRA_SPID_KEY="+f["spid-key"], "REGISTRA_SPID_CERT="+f["spid-cert"])
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
		code, err := os.ReadFile(filepath.Join(f["outbox"], mobile+".otp"))
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
	key, err := os.ReadFile(f["video-key"])
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
