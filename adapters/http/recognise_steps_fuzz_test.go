package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	httpapi "github.com/registra-pki/registra/adapters/http"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// FuzzSPIDAssertion posts arbitrary SAML responses to the assertion
// consumer service, each with the RelayState of a login just started for
// an order whose form is signed, so that the bytes reach the SAML
// verification: the answer is a problem of the caller's making (400, 401,
// 409, 413), never a server error, and the order stays to_identify.
func FuzzSPIDAssertion(f *testing.F) {
	ctx := context.Background()
	idp := recognitiontest.NewIdP(f)
	spKey, spCert := recognitiontest.SelfSignedRSA(f, "registra SPID service provider")
	outbox := &recognitiontest.Outbox{}
	e := newEnvWith(f, nil, func(c *registra.Config) {
		c.OTP = &recognition.OTPSignerConfig{Sender: outbox}
		c.SPID = &recognition.SPIDConfig{EntityID: "https://registra.test/spid", ACSURL: "https://registra.test/v1/recognition/spid/acs",
			IdPMetadata: idp.Metadata(f), Key: spKey, Certificate: spCert}
	})
	rao := e.operator(demoOrg, demoUnit, "rao1", "rao")
	actor, err := e.p.Authenticate(ctx, rao)
	require.NoError(f, err)
	e.clock.resetClock()
	a := benchApplicant(f, 1, e.clock.Now())
	o, err := e.p.CreateDraft(ctx, actor, registra.OrderInput{ProductType: registra.ProductRemoteSignatureSPID, Method: recognition.MethodSPID, Applicant: a})
	require.NoError(f, err)
	_, err = e.p.Submit(ctx, actor, o.ID)
	require.NoError(f, err)
	ch, err := e.p.StartFormSignature(ctx, actor, o.ID, recognitiontest.PDF("request form"))
	require.NoError(f, err)
	code, err := outbox.Last(a.Mobile)
	require.NoError(f, err)
	_, err = e.p.CompleteFormSignature(ctx, actor, o.ID, ch.ID, code)
	require.NoError(f, err)

	f.Add("PHNhbWxwOlJlc3BvbnNlLz4=") // <samlp:Response/>
	f.Add("PFJlc3BvbnNlIHhtbG5zPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiIElEPSJ4Ii8+")
	f.Add("not base64 at all")
	f.Add("")
	f.Add(strings.Repeat("QUFB", 1000))
	f.Fuzz(func(t *testing.T, resp string) {
		l := e.sendAs(t, http.MethodPost, "/v1/orders/"+o.ID+"/recognition/spid/login", rao, "application/json", nil, nil)
		require.Equalf(t, http.StatusOK, l.status, "%s", l.raw)
		body := url.Values{"SAMLResponse": {resp}, "RelayState": {l.body["relay_state"].(string)}}.Encode()
		r := e.sendAs(t, http.MethodPost, "/v1/recognition/spid/acs", "", "application/x-www-form-urlencoded", strings.NewReader(body), nil)
		assert.Containsf(t, []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusConflict, http.StatusRequestEntityTooLarge},
			r.status, "%q -> %s", resp, r.raw)
		assert.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
		typ, _ := r.body["type"].(string)
		assert.True(t, strings.HasPrefix(typ, httpapi.ProblemTypeBase), "problem type %q", typ)
		got, err := e.p.GetOrder(ctx, actor, o.ID)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusToIdentify, got.Status)
	})
}
