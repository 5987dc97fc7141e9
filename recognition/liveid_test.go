package recognition_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

type liveWorld struct {
	*otpWorld
	raoCert, otherRAOCert, revokedRAOCert *x509.Certificate
	raoKey, otherRAOKey, revokedRAOKey    crypto.Signer
	raoTaxCode                            string
	crl                                   []byte
	report                                []byte
	verifier                              *recognition.LiveID
}

func newLiveWorld(t *testing.T) *liveWorld {
	t.Helper()
	w := &liveWorld{otpWorld: newOTPWorld(t, nil), report: recognitiontest.PDF("Recognition report: applicant seen in person")}
	now := time.Now()
	o := officer(t)
	rao := recognitiontest.Person{GivenName: o.GivenName, Surname: o.Surname, TaxCode: o.TaxCode, Qualified: true, NonRepudiation: true,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	w.raoCert, w.raoKey = w.issuing.Issue(t, rao)
	w.raoTaxCode = o.TaxCode
	other := rao
	other.GivenName, other.Surname = "Luca", "Neri"
	other.TaxCode = taxCodeOf(t, "Neri", "Luca", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 1)
	w.otherRAOCert, w.otherRAOKey = w.issuing.Issue(t, other)
	w.revokedRAOCert, w.revokedRAOKey = w.issuing.Issue(t, rao)
	w.crl = w.issuing.CRL(t, now.Add(-time.Minute), now.Add(time.Hour), now.Add(-time.Minute), w.revokedRAOCert)
	oneShotRoots := w.oneShotCA.Pool()
	var err error
	w.verifier, err = recognition.NewLiveID(recognition.LiveIDConfig{
		Roots: w.root.Pool(), CRLs: recognition.StaticCRLs{w.crl}, OneShotRoots: oneShotRoots,
	})
	require.NoError(t, err)
	return w
}

func (w *liveWorld) signReport(t *testing.T, cert *x509.Certificate, key crypto.Signer, content []byte) []byte {
	t.Helper()
	return recognitiontest.SignP7M(t, content, cert, key, w.issuing.Chain(), recognitiontest.SignOptions{})
}

func (w *liveWorld) formSignature(t *testing.T) *recognition.FormSignature {
	t.Helper()
	ch := w.start(t)
	fs, err := w.signer.Complete(context.Background(), ch, w.code(t))
	require.NoError(t, err)
	return fs
}

func (w *liveWorld) submission(t *testing.T, report []byte, fs *recognition.FormSignature) recognition.Submission {
	t.Helper()
	op := operator(recognition.RoleRAO)
	op.TaxCode = w.raoTaxCode
	return recognition.Submission{
		OrderID:       "ord-live",
		Applicant:     w.applicant,
		Operator:      op,
		Consents:      consents(),
		Uploads:       append(documentUploads(), recognition.Upload{Kind: recognition.KindSignedReport, Name: "report.pdf.p7m", Data: report}),
		FormSignature: fs,
	}
}

func TestLiveID(t *testing.T) {
	t.Parallel()
	w := newLiveWorld(t)
	v := w.verifier
	assert.Equal(t, recognition.MethodLiveID, v.Method())
	report := w.signReport(t, w.raoCert, w.raoKey, w.report)
	fs := w.formSignature(t)

	t.Run("accepted and sealed", func(t *testing.T) {
		t.Parallel()
		ev, err := v.Verify(context.Background(), w.submission(t, report, fs))
		require.NoError(t, err)
		m := ev.Manifest
		assert.True(t, m.Passed())
		for _, k := range m.Method.Requirements().Artefacts {
			_, ok := m.Artefact(k)
			assert.True(t, ok, "artefact %s", k)
		}
		form, _ := ev.Artefact(recognition.KindRequestForm)
		assert.Equal(t, w.form, form)
		assert.Equal(t, fs.Certificate.SerialNumber.String(), m.Attributes["one_shot_serial"])
		assert.Equal(t, "sms", m.Attributes["otp_channel"])
		sealed, err := w.sealer.Seal(context.Background(), &ev)
		require.NoError(t, err)
		got, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: w.root.Pool()})
		require.NoError(t, err)
		assert.Equal(t, recognition.MethodLiveID, got.Manifest.Method)
	})

	tamperedReport := bytes.Clone(report)
	at := bytes.Index(tamperedReport, []byte("in person"))
	require.Positive(t, at)
	tamperedReport[at] = 'I'

	otherForm := *fs
	otherForm.Form = recognitiontest.PDF("a different form")
	otherCert := *fs
	otherCert.Certificate = w.otherRAOCert
	noOTP := *fs
	noOTP.OTP = recognition.OTPRecord{}
	wrongPerson := &recognitiontest.OneShotIssuer{T: t, CA: w.oneShotCA, Edit: func(p *recognitiontest.Person) { p.Surname = "Russo" }}
	signerForOther, err := recognition.NewOTPSigner(recognition.OTPSignerConfig{Issuer: wrongPerson, Sender: w.outbox})
	require.NoError(t, err)
	ch, err := signerForOther.Start(context.Background(), recognition.OTPRequest{OrderID: "ord-live", Applicant: w.applicant, Form: w.form})
	require.NoError(t, err)
	fsOther, err := signerForOther.Complete(context.Background(), ch, w.code(t))
	require.NoError(t, err)
	notOneShot := *fs
	notOneShot.P7M = w.signReport(t, w.raoCert, w.raoKey, w.form)

	cases := []struct {
		name   string
		report []byte
		fs     *recognition.FormSignature
		checks []recognition.CheckName
		kinds  []error
	}{
		{"report signed by another RAO", w.signReport(t, w.otherRAOCert, w.otherRAOKey, w.report), fs,
			[]recognition.CheckName{recognition.CheckSigner}, []error{recognition.ErrIdentityMismatch}},
		{"report tampered", tamperedReport, fs, []recognition.CheckName{recognition.CheckSignature}, []error{recognition.ErrSignature}},
		{"rao certificate revoked", w.signReport(t, w.revokedRAOCert, w.revokedRAOKey, w.report), fs,
			[]recognition.CheckName{recognition.CheckRevocation}, []error{recognition.ErrRevoked}},
		{"report is not a PDF", w.signReport(t, w.raoCert, w.raoKey, []byte("plain text report")), fs,
			[]recognition.CheckName{recognition.CheckContent}, []error{recognition.ErrFormat}},
		{"signed content is not the form", report, &otherForm, []recognition.CheckName{recognition.CheckContent}, []error{recognition.ErrSignature}},
		{"form certificate swapped", report, &otherCert, []recognition.CheckName{recognition.CheckSigner}, []error{recognition.ErrIdentityMismatch}},
		{"no otp authorisation", report, &noOTP, []recognition.CheckName{recognition.CheckOTP}, []error{recognition.ErrOTPInvalid}},
		{"one-shot certificate for another person", report, fsOther, []recognition.CheckName{recognition.CheckPersonName}, []error{recognition.ErrIdentityMismatch}},
		{"form not signed with the one-shot key", report, &notOneShot,
			[]recognition.CheckName{recognition.CheckChain, recognition.CheckSigner, recognition.CheckTaxCode, recognition.CheckPersonName},
			[]error{recognition.ErrChain, recognition.ErrIdentityMismatch}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := v.Verify(context.Background(), w.submission(t, tc.report, tc.fs))
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
		for name, edit := range map[string]func(*recognition.Submission){
			"no operator tax code": func(s *recognition.Submission) { s.Operator.TaxCode = "" },
			"no form signature":    func(s *recognition.Submission) { s.FormSignature = nil },
			"plain operator":       func(s *recognition.Submission) { s.Operator.Role = recognition.RoleOperator },
			"no report":            func(s *recognition.Submission) { s.Uploads = s.Uploads[:2] },
			"report not signed":    func(s *recognition.Submission) { s.Uploads[2].Data = w.report },
		} {
			s := w.submission(t, report, fs)
			edit(&s)
			_, err := v.Verify(context.Background(), s)
			assert.ErrorIs(t, err, recognition.ErrInvalidInput, name)
		}
	})
}

func TestLiveIDConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := recognition.NewLiveID(recognition.LiveIDConfig{})
	assert.EqualError(t, err, "recognition: invalid input: roots: is required; crls: is required; one_shot_roots: is required")
}
