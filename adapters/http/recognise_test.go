package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// form encodes files (field → content) and values as multipart/form-data.
func form(t *testing.T, files map[string][]byte, values map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for name, b := range files {
		fw, err := mw.CreateFormFile(name, name+".bin")
		require.NoError(t, err)
		_, err = fw.Write(b)
		require.NoError(t, err)
	}
	for k, v := range values {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

// submittedOrder makes an Offline order waiting for recognition through the
// library.
func (e *env) submittedOrder(t *testing.T, a registra.Actor, i int, m recognition.Method) string {
	t.Helper()
	ctx := context.Background()
	o, err := e.p.CreateDraft(ctx, a, registra.OrderInput{ProductType: registra.ProductRemoteSignature, Method: m,
		Applicant: benchApplicant(t, i, e.clock.Now())})
	require.NoError(t, err)
	_, err = e.p.Submit(ctx, a, o.ID)
	require.NoError(t, err)
	return o.ID
}

func TestRecogniseOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rao := e.operator(demoOrg, demoUnit, "rao1", "rao")
	ir := e.operator(demoOrg, demoUnit, "ir1", "ir")
	op := e.operator(demoOrg, demoUnit, "op1", "operator")
	actor, err := e.p.Authenticate(context.Background(), rao)
	require.NoError(t, err)
	files := func(id string) map[string][]byte {
		return map[string][]byte{
			"signed_paper_form":  recognitiontest.PDF("form " + id),
			"recognition_report": recognitiontest.PDF("report " + id),
			"document_front":     recognitiontest.JPEG("front " + id),
			"document_back":      recognitiontest.PNG("back " + id),
		}
	}
	post := func(token, id string, f map[string][]byte, v map[string]string) response {
		ct, body := form(t, f, v)
		return e.send(http.MethodPost, "/v1/orders/"+id+"/recognition/offline", token, ct, body, nil)
	}

	// Refusals first: nothing changes.
	id := e.submittedOrder(t, actor, 1, recognition.MethodOffline)
	noForm := files(id)
	delete(noForm, "signed_paper_form")
	assertProblem(t, post(rao, id, noForm, nil), http.StatusBadRequest, "invalid-request")
	noReport := files(id)
	delete(noReport, "recognition_report")
	assertProblem(t, post(rao, id, noReport, nil), http.StatusBadRequest, "invalid-input")
	wrongType := files(id)
	wrongType["signed_paper_form"] = []byte("plain text is not a scan")
	assertProblem(t, post(rao, id, wrongType, nil), http.StatusBadRequest, "invalid-input")
	// A plain operator must name the recognising officer (Manuale
	// operatore, "Offline Recognition Product Request").
	assertProblem(t, post(op, id, files(id), nil), http.StatusBadRequest, "invalid-input")
	assertProblem(t, post(rao, "o-unknown", files(id), nil), http.StatusNotFound, "not-found")
	assertProblem(t, post(rao, id, files(id), map[string]string{"officer_role": "wizard"}), http.StatusBadRequest, "invalid-request")
	assert.Equal(t, "to_identify", e.do(http.MethodGet, "/v1/orders/"+id, rao, nil).body["status"])

	// A RAO recognises; an IR names the officer who saw the applicant.
	r := post(rao, id, files(id), nil)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])
	assertProblem(t, post(rao, id, files(id), nil), http.StatusConflict, "transition-not-allowed")

	id2 := e.submittedOrder(t, actor, 2, recognition.MethodOffline)
	r = post(ir, id2, files(id2), map[string]string{"officer_id": "rao1", "officer_given_name": "Anna",
		"officer_surname": "Bianchi", "officer_tax_code": "BNCNNA80A41H501R", "officer_role": "rao"})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])

	// A plain operator uploads the artefacts of a recognition made by a
	// registered RAO, naming them.
	officer := map[string]string{"officer_id": "rao1", "officer_given_name": "Anna",
		"officer_surname": "Bianchi", "officer_tax_code": "BNCNNA80A41H501R", "officer_role": "rao"}
	id4 := e.submittedOrder(t, actor, 4, recognition.MethodOffline)
	r = post(op, id4, files(id4), officer)
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])

	// Sign ID needs the platform's Sign ID configuration.
	id3 := e.submittedOrder(t, actor, 3, recognition.MethodSignID)
	ct, body := form(t, map[string][]byte{"signed_form": []byte("not a p7m")}, nil)
	assertProblem(t, e.send(http.MethodPost, "/v1/orders/"+id3+"/recognition/sign-id", rao, ct, body, nil),
		http.StatusBadRequest, "invalid-input")
	// The plain operator's upload right is for Offline only.
	ct, body = form(t, map[string][]byte{"signed_form": []byte("not a p7m")}, officer)
	assertProblem(t, e.send(http.MethodPost, "/v1/orders/"+id3+"/recognition/sign-id", op, ct, body, nil),
		http.StatusForbidden, "permission-denied")
}

// cleanScanner is a Scanner that finds nothing (the ClamAV scanner is
// tested against a real clamd in package recognition).
type cleanScanner struct{}

func (cleanScanner) Scan(_ context.Context, r io.Reader) (recognition.ScanResult, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return recognition.ScanResult{}, err
	}
	return recognition.ScanResult{Clean: true, Engine: "test"}, nil
}

func TestRecogniseSignID(t *testing.T) {
	t.Parallel()
	start := time.Now()
	qroot := recognitiontest.NewRoot(t, "Qualified Test Root", start.AddDate(-2, 0, 0), start.AddDate(10, 0, 0))
	qca := qroot.NewIntermediate(t, "Qualified Test CA")
	crl := qca.CRL(t, start.Add(-time.Hour), start.Add(48*time.Hour), start.Add(-time.Hour))
	e := newEnvWith(t, nil, func(c *registra.Config) {
		c.SignID = &recognition.SignIDConfig{Roots: qroot.Pool(), CRLs: recognition.StaticCRLs{crl}, Scanner: cleanScanner{}}
	})
	rao := e.operator(demoOrg, demoUnit, "rao1", "rao")
	actor, err := e.p.Authenticate(context.Background(), rao)
	require.NoError(t, err)
	id := e.submittedOrder(t, actor, 4, recognition.MethodSignID)
	a := benchApplicant(t, 4, e.clock.Now())
	cert, key := qca.Issue(t, recognitiontest.Person{GivenName: a.FirstName, Surname: a.Surname, TaxCode: a.TaxCode,
		Qualified: true, NonRepudiation: true, NotBefore: start.AddDate(-1, 0, 0), NotAfter: start.AddDate(1, 0, 0)})
	p7m := recognitiontest.SignP7M(t, recognitiontest.PDF("request form "+id), cert, key, qca.Chain(), recognitiontest.SignOptions{})
	post := func(f map[string][]byte) response {
		ct, body := form(t, f, nil)
		return e.send(http.MethodPost, "/v1/orders/"+id+"/recognition/sign-id", rao, ct, body, nil)
	}
	doc := recognitiontest.JPEG("document " + id)

	assertProblem(t, post(map[string][]byte{"document_both": doc}), http.StatusBadRequest, "invalid-request")
	tampered := append([]byte(nil), p7m...)
	tampered[bytes.Index(tampered, []byte("request form"))] ^= 1
	assertProblem(t, post(map[string][]byte{"signed_form": tampered, "document_both": doc}), http.StatusBadRequest, "signature-invalid")
	// Over the upload limit (1 MiB here): 413, nothing read.
	assertProblem(t, post(map[string][]byte{"signed_form": p7m, "document_both": bytes.Repeat([]byte{0xff}, 1<<20)}),
		http.StatusRequestEntityTooLarge, "body-too-large")
	assert.Equal(t, "to_identify", e.do(http.MethodGet, "/v1/orders/"+id, rao, nil).body["status"])

	r := post(map[string][]byte{"signed_form": p7m, "document_both": doc})
	require.Equalf(t, http.StatusOK, r.status, "%s", r.raw)
	assert.Equal(t, "to_issue", r.body["status"])
}
