package recognition_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

type spidWorld struct {
	*otpWorld
	idp   *recognitiontest.IdP
	cfg   recognition.SPIDConfig
	v     *recognition.SPID
	plain *recognition.SPID // a service provider without an encryption key
	fs    *recognition.FormSignature
}

func spidAttrs(a recognition.Applicant) map[string]string {
	return map[string]string{
		recognition.SPIDFiscalNumber: "TINIT-" + a.TaxCode,
		recognition.SPIDName:         "NICOLO'",
		recognition.SPIDFamilyName:   "ROSSI",
		recognition.SPIDDateOfBirth:  a.DateOfBirth,
		recognition.SPIDEmail:        strings.ToUpper(a.Email),
		recognition.SPIDMobilePhone:  "3331234567",
	}
}

func newSPIDWorld(t *testing.T) *spidWorld {
	t.Helper()
	w := &spidWorld{otpWorld: newOTPWorld(t, nil), idp: recognitiontest.NewIdP(t)}
	key, cert := recognitiontest.SelfSignedRSA(t, "registra SPID service provider")
	w.cfg = recognition.SPIDConfig{
		EntityID: "https://registra.test/spid", ACSURL: "https://registra.test/spid/acs",
		IdPMetadata: w.idp.Metadata(t), Key: key, Certificate: cert, OneShotRoots: w.oneShotCA.Pool(),
	}
	w.v = w.verifier(t, nil)
	md, err := w.v.Metadata()
	require.NoError(t, err)
	w.idp.RegisterSP(t, "registra", md)
	w.plain = w.verifier(t, func(c *recognition.SPIDConfig) { c.EntityID = "https://registra.test/spid-plain" })
	md, err = w.plain.Metadata()
	require.NoError(t, err)
	plainMD := recognitiontest.WithoutEncryption(md)
	require.NotEqual(t, md, plainMD)
	w.idp.RegisterSP(t, "registra-plain", plainMD)
	w.idp.AddUser(t, "nicolo", "correct horse", spidAttrs(w.applicant))
	ch := w.start(t)
	w.fs, err = w.signer.Complete(context.Background(), ch, w.code(t))
	require.NoError(t, err)
	return w
}

func (w *spidWorld) verifier(t *testing.T, edit func(*recognition.SPIDConfig)) *recognition.SPID {
	t.Helper()
	cfg := w.cfg
	if edit != nil {
		edit(&cfg)
	}
	v, err := recognition.NewSPID(cfg)
	require.NoError(t, err)
	return v
}

// login runs an SP-initiated SPID login for user and returns the response
// and the request ID.
func (w *spidWorld) login(t *testing.T, v *recognition.SPID, user string) (string, string) {
	t.Helper()
	return w.loginAt(t, w.idp, v, user)
}

func (w *spidWorld) loginAt(t *testing.T, idp *recognitiontest.IdP, v *recognition.SPID, user string) (string, string) {
	t.Helper()
	lr, err := v.NewLoginRequest("ord-spid")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(lr.URL, idp.HTTP.URL+"/sso?SAMLRequest="), lr.URL)
	return idp.Login(t, lr.URL, user, "correct horse"), lr.ID
}

func (w *spidWorld) submission(resp, requestID string) recognition.Submission {
	return recognition.Submission{
		OrderID: "ord-spid", Applicant: w.applicant, Operator: operator(recognition.RoleOperator), Consents: consents(),
		SAMLResponse: resp, SAMLRequestIDs: []string{requestID}, FormSignature: w.fs,
	}
}

func TestSPID(t *testing.T) {
	t.Parallel()
	w := newSPIDWorld(t)
	ctx := context.Background()
	assert.Equal(t, recognition.MethodSPID, w.v.Method())

	t.Run("accepted, usage-limited, sealed", func(t *testing.T) {
		t.Parallel()
		resp, id := w.login(t, w.v, "nicolo")
		ev, err := w.v.Verify(ctx, w.submission(resp, id))
		require.NoError(t, err)
		m := ev.Manifest
		assert.True(t, m.UsageLimited)
		assert.Equal(t, recognition.UsageLimitationSPID, m.Attributes["usage_limitation"])
		assert.Equal(t, "TINIT-"+w.applicant.TaxCode, m.Attributes["spid_fiscalNumber"])
		assert.Equal(t, "ROSSI", m.Attributes["spid_familyName"])
		assert.Equal(t, "3331234567", m.Attributes["spid_mobilePhone"])
		assert.NotEmpty(t, m.Attributes["spid_assertion_id"])
		assert.Equal(t, "https://www.spid.gov.it/SpidL2", m.Attributes["spid_level"])
		for _, k := range m.Method.Requirements().Artefacts {
			_, ok := m.Artefact(k)
			assert.True(t, ok, "artefact %s", k)
		}
		raw, ok := ev.Artefact(recognition.KindSAMLResponse)
		require.True(t, ok)
		decoded, err := base64.StdEncoding.DecodeString(resp)
		require.NoError(t, err)
		assert.Equal(t, decoded, raw)
		sealed, err := w.sealer.Seal(ctx, &ev)
		require.NoError(t, err)
		_, err = recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: w.root.Pool()})
		require.NoError(t, err)

		_, err = w.v.Verify(ctx, w.submission(resp, id))
		require.ErrorIs(t, err, recognition.ErrReplay, "the same assertion twice")
	})

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		other := recognitiontest.NewIdP(t)
		forgedMeta := bytes.ReplaceAll(w.cfg.IdPMetadata,
			[]byte(base64.StdEncoding.EncodeToString(w.idp.Cert.Raw)),
			[]byte(base64.StdEncoding.EncodeToString(other.Cert.Raw)))
		require.NotEqual(t, w.cfg.IdPMetadata, forgedMeta)

		w.idp.AddUser(t, "russo", "correct horse", func() map[string]string {
			a := spidAttrs(w.applicant)
			a[recognition.SPIDFamilyName] = "RUSSO"
			return a
		}())
		w.idp.AddUser(t, "othercf", "correct horse", func() map[string]string {
			a := spidAttrs(w.applicant)
			a[recognition.SPIDFiscalNumber] = "TINIT-" + taxCodeOf(t, "Rossi", "Nicola", time.Date(1985, 12, 11, 0, 0, 0, 0, time.UTC), 1)
			a[recognition.SPIDDateOfBirth] = "1985-12-11"
			return a
		}())

		tamper := func(resp string) string {
			raw, err := base64.StdEncoding.DecodeString(resp)
			require.NoError(t, err)
			changed := bytes.Replace(raw, []byte(">ROSSI<"), []byte(">RUSSO<"), 1)
			require.NotEqual(t, raw, changed)
			return base64.StdEncoding.EncodeToString(changed)
		}
		cases := []struct {
			name   string
			user   string
			edit   func(resp, id string) (string, string)
			v      *recognition.SPID
			checks []recognition.CheckName
			kinds  []error
		}{
			{"tampered attribute", "nicolo", func(r, id string) (string, string) { return tamper(r), id }, w.plain,
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
			{"tampered encrypted assertion", "nicolo", func(r, id string) (string, string) { return tamperCipher(t, r), id }, nil,
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
			{"signing certificate not the one in the metadata", "nicolo", nil,
				w.verifier(t, func(c *recognition.SPIDConfig) { c.IdPMetadata = forgedMeta }),
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
			{"another request", "nicolo", func(r, _ string) (string, string) { return r, "id-of-another-request" }, nil,
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
			{"another audience", "nicolo", nil,
				w.verifier(t, func(c *recognition.SPIDConfig) { c.EntityID = "https://other.test/spid" }),
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
			{"outside the time window", "nicolo", nil,
				w.verifier(t, func(c *recognition.SPIDConfig) { c.Now = func() time.Time { return time.Now().Add(10 * time.Minute) } }),
				[]recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrValidity}},
			{"surname mismatch", "russo", nil, nil,
				[]recognition.CheckName{recognition.CheckAttributes}, []error{recognition.ErrIdentityMismatch}},
			{"tax code mismatch", "othercf", nil, nil,
				[]recognition.CheckName{recognition.CheckAttributes}, []error{recognition.ErrIdentityMismatch}},
			{"not a SAML response", "nicolo", func(string, id string) (string, string) {
				return base64.StdEncoding.EncodeToString([]byte("<html>hello</html>")), id
			}, nil, []recognition.CheckName{recognition.CheckSAML}, []error{recognition.ErrSignature}},
		}
		for _, tc := range cases {
			v := tc.v
			if v == nil {
				v = w.v
			}
			login := v
			if v != w.plain {
				login = w.v
			}
			resp, id := w.login(t, login, tc.user)
			if tc.edit != nil {
				resp, id = tc.edit(resp, id)
			}
			ev, err := v.Verify(ctx, w.submission(resp, id))
			require.Error(t, err, tc.name)
			assert.Zero(t, ev, tc.name)
			for _, k := range tc.kinds {
				assert.ErrorIs(t, err, k, tc.name)
			}
			ve, ok := errorsAs[*recognition.VerificationError](err)
			require.True(t, ok, tc.name)
			assert.ElementsMatch(t, tc.checks, ve.Checks(), tc.name)
		}
	})

	t.Run("sha-1 signature", func(t *testing.T) {
		t.Parallel()
		old := recognitiontest.NewIdP(t)
		old.Server.IDP.SignatureMethod = dsig.RSASHA1SignatureMethod
		v := w.verifier(t, func(c *recognition.SPIDConfig) { c.IdPMetadata = old.Metadata(t) })
		md, err := v.Metadata()
		require.NoError(t, err)
		old.RegisterSP(t, "registra", md)
		old.AddUser(t, "nicolo", "correct horse", spidAttrs(w.applicant))
		resp, id := w.loginAt(t, old, v, "nicolo")
		_, err = v.Verify(ctx, w.submission(resp, id))
		require.ErrorIs(t, err, recognition.ErrSignature)
		assert.ErrorContains(t, err, "SHA-1")
	})

	t.Run("spid level too low", func(t *testing.T) {
		t.Parallel()
		l1 := recognitiontest.NewIdP(t)
		l1.Level = "https://www.spid.gov.it/SpidL1"
		v := w.verifier(t, func(c *recognition.SPIDConfig) { c.IdPMetadata = l1.Metadata(t) })
		md, err := v.Metadata()
		require.NoError(t, err)
		l1.RegisterSP(t, "registra", md)
		l1.AddUser(t, "nicolo", "correct horse", spidAttrs(w.applicant))
		resp, id := w.loginAt(t, l1, v, "nicolo")
		_, err = v.Verify(ctx, w.submission(resp, id))
		require.ErrorIs(t, err, recognition.ErrAssurance)
		assert.ErrorContains(t, err, "below SpidL2")

		lenient := w.verifier(t, func(c *recognition.SPIDConfig) { c.IdPMetadata = l1.Metadata(t); c.MinLevel = 1 })
		resp, id = w.loginAt(t, l1, lenient, "nicolo")
		_, err = lenient.Verify(ctx, w.submission(resp, id))
		require.NoError(t, err)
	})

	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		for name, s := range map[string]recognition.Submission{
			"not base64":    w.submission("***", "id"),
			"no response":   w.submission("", "id"),
			"no request id": func() recognition.Submission { s := w.submission("PHg+", "x"); s.SAMLRequestIDs = nil; return s }(),
			"no form":       func() recognition.Submission { s := w.submission("PHg+", "x"); s.FormSignature = nil; return s }(),
			"uploads":       func() recognition.Submission { s := w.submission("PHg+", "x"); s.Uploads = documentUploads(); return s }(),
		} {
			_, err := w.v.Verify(ctx, s)
			assert.ErrorIs(t, err, recognition.ErrInvalidInput, name)
		}
	})
}

func TestSPIDConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := recognition.NewSPID(recognition.SPIDConfig{ACSURL: "/relative", IdPMetadata: []byte("<x/>")})
	assert.EqualError(t, err, "recognition: invalid input: entity_id: is required; acs_url: must be an absolute URL; "+
		"idp_metadata: not SAML metadata: expected element type <EntityDescriptor> but have <x>; key: is required; certificate: is required; one_shot_roots: is required")
}

// tamperCipher changes one character of the encrypted assertion.
func tamperCipher(t *testing.T, resp string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(resp)
	require.NoError(t, err)
	i := bytes.LastIndex(raw, []byte("</xenc:CipherValue>"))
	require.Positive(t, i)
	c := raw[i-10]
	if c == 'A' {
		raw[i-10] = 'B'
	} else {
		raw[i-10] = 'A'
	}
	return base64.StdEncoding.EncodeToString(raw)
}
