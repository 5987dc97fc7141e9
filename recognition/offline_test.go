package recognition_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

func offlineSubmission(t *testing.T, role recognition.Role) recognition.Submission {
	t.Helper()
	s := recognition.Submission{
		OrderID:   "ord-1",
		ProductID: "prd-1",
		Applicant: applicant(t),
		Operator:  operator(role),
		Consents:  consents(),
		Uploads: append(documentUploads(),
			recognition.Upload{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: recognitiontest.PDF("request form signed by hand")},
			recognition.Upload{Kind: recognition.KindReport, Name: "report.jpg", Data: recognitiontest.JPEG("report")},
		),
	}
	if role == recognition.RoleOperator {
		s.Officer = officer(t)
	}
	return s
}

func TestOfflineVerify(t *testing.T) {
	t.Parallel()
	v, err := recognition.NewOffline(recognition.OfflineConfig{Now: clock(fixedNow), MaxUploadSize: 4096})
	require.NoError(t, err)
	assert.Equal(t, recognition.MethodOffline, v.Method())

	t.Run("rao uploads", func(t *testing.T) {
		t.Parallel()
		ev, err := v.Verify(context.Background(), offlineSubmission(t, recognition.RoleRAO))
		require.NoError(t, err)
		m := ev.Manifest
		assert.Equal(t, recognition.MethodOffline, m.Method)
		assert.Equal(t, "op-1", m.Attributes["recognised_by"])
		assert.Nil(t, m.Officer)
		assert.Len(t, m.Artefacts, 4)
		assert.Len(t, ev.Artefacts, 4)
		assert.True(t, m.Passed())
		assert.Equal(t, fixedNow, m.StartedAt)
		form, ok := ev.Artefact(recognition.KindSignedPaperForm)
		require.True(t, ok)
		assert.Equal(t, recognitiontest.PDF("request form signed by hand"), form)
		ref, _ := m.Artefact(recognition.KindReport)
		assert.Equal(t, recognition.MediaJPEG, ref.MediaType)
		assert.False(t, m.UsageLimited)
	})
	t.Run("operator uploads with officer details", func(t *testing.T) {
		t.Parallel()
		ev, err := v.Verify(context.Background(), offlineSubmission(t, recognition.RoleOperator))
		require.NoError(t, err)
		require.NotNil(t, ev.Manifest.Officer)
		assert.Equal(t, "rao-7", ev.Manifest.Attributes["recognised_by"])
		assert.Equal(t, "Bianchi", ev.Manifest.Officer.Surname)
	})
	t.Run("one image with both sides", func(t *testing.T) {
		t.Parallel()
		s := offlineSubmission(t, recognition.RoleIR)
		s.Uploads = append(s.Uploads[2:], recognition.Upload{Kind: recognition.KindDocumentBoth, Data: recognitiontest.PDF("both sides")})
		_, err := v.Verify(context.Background(), s)
		require.NoError(t, err)
	})

	cases := []struct {
		name   string
		edit   func(*recognition.Submission)
		fields []string
	}{
		{"no order", func(s *recognition.Submission) { s.OrderID = "" }, []string{"order_id"}},
		{"bad tax code", func(s *recognition.Submission) { s.Applicant.TaxCode = "RSSMRA85T10A562X" }, []string{"applicant.tax_code"}},
		{"lower-case tax code", func(s *recognition.Submission) {
			s.Applicant.TaxCode = "rss" + s.Applicant.TaxCode[3:]
		}, []string{"applicant.tax_code"}},
		{"no names", func(s *recognition.Submission) { s.Applicant.GivenName, s.Applicant.Surname = " ", "" },
			[]string{"applicant.given_name", "applicant.surname"}},
		{"no privacy consent", func(s *recognition.Submission) { s.Consents = s.Consents[1:] }, []string{"consents"}},
		{"unknown role", func(s *recognition.Submission) { s.Operator.Role = "boss" }, []string{"operator.role"}},
		{"operator without officer", func(s *recognition.Submission) { s.Officer = nil }, []string{"officer"}},
		{"officer is not a recogniser", func(s *recognition.Submission) { s.Officer.Role = recognition.RoleOperator }, []string{"officer.role"}},
		{"officer with bad tax code", func(s *recognition.Submission) { s.Officer.TaxCode = "X" }, []string{"officer.tax_code"}},
		{"missing report", func(s *recognition.Submission) { s.Uploads = s.Uploads[:3] }, []string{"uploads"}},
		{"missing back", func(s *recognition.Submission) {
			s.Uploads = append([]recognition.Upload{s.Uploads[0]}, s.Uploads[2:]...)
		}, []string{"uploads"}},
		{"front, back and both", func(s *recognition.Submission) {
			s.Uploads = append(s.Uploads, recognition.Upload{Kind: recognition.KindDocumentBoth, Data: recognitiontest.PNG("x")})
		}, []string{"uploads"}},
		{"text file", func(s *recognition.Submission) { s.Uploads[3].Data = []byte("plain text") }, []string{"uploads[3].data"}},
		{"p7m as report", func(s *recognition.Submission) {
			s.Uploads[3].Data = []byte{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
		}, []string{"uploads[3].data"}},
		{"too large", func(s *recognition.Submission) {
			s.Uploads[2].Data = append(recognitiontest.PDF("x"), make([]byte, 5000)...)
		}, []string{"uploads[2].data"}},
		{"empty", func(s *recognition.Submission) { s.Uploads[0].Data = nil }, []string{"uploads[0].data"}},
		{"kind not taken", func(s *recognition.Submission) { s.Uploads[0].Kind = recognition.KindSelfie }, []string{"uploads[0].kind", "uploads"}},
		{"twice", func(s *recognition.Submission) { s.Uploads = append(s.Uploads, s.Uploads[3]) }, []string{"uploads"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := offlineSubmission(t, recognition.RoleOperator)
			tc.edit(&s)
			ev, err := v.Verify(context.Background(), s)
			require.Error(t, err)
			assert.ErrorIs(t, err, recognition.ErrInvalidInput)
			assert.NotErrorIs(t, err, recognition.ErrVerification)
			assert.Zero(t, ev)
			var got []string
			for _, e := range fieldErrorsOf(err) {
				got = append(got, e.Field)
			}
			assert.Subset(t, got, tc.fields)
		})
	}

	t.Run("message", func(t *testing.T) {
		t.Parallel()
		s := offlineSubmission(t, recognition.RoleOperator)
		s.OrderID = ""
		_, err := v.Verify(context.Background(), s)
		assert.EqualError(t, err, "recognition: order_id: is required")
	})
	t.Run("does not modify the submission", func(t *testing.T) {
		t.Parallel()
		s := offlineSubmission(t, recognition.RoleOperator)
		want := offlineSubmission(t, recognition.RoleOperator)
		_, err := v.Verify(context.Background(), s)
		require.NoError(t, err)
		assert.Equal(t, want, s)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := v.Verify(ctx, offlineSubmission(t, recognition.RoleRAO))
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestOfflineConfigValidate(t *testing.T) {
	t.Parallel()
	_, err := recognition.NewOffline(recognition.OfflineConfig{MaxUploadSize: -1})
	assert.EqualError(t, err, "recognition: max_upload_size: must not be negative")
}

func fieldErrorsOf(err error) []*recognition.FieldError {
	if ie, ok := errors.AsType[*recognition.InputError](err); ok {
		return ie.Fields
	}
	if fe, ok := errors.AsType[*recognition.FieldError](err); ok {
		return []*recognition.FieldError{fe}
	}
	return nil
}

func TestOfflineSignedReport(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	now := time.Now()
	o := officer(t)
	officerCert, officerKey := p.issuing.Issue(t, recognitiontest.Person{GivenName: o.GivenName, Surname: o.Surname, TaxCode: o.TaxCode,
		Qualified: true, NonRepudiation: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	otherCert, otherKey := p.issuing.Issue(t, recognitiontest.Person{GivenName: "Luca", Surname: "Neri",
		TaxCode:   taxCodeOf(t, "Neri", "Luca", time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), 1),
		Qualified: true, NonRepudiation: true, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	crl := p.issuing.CRL(t, now.Add(-time.Minute), now.Add(time.Hour), now)
	v, err := recognition.NewOffline(recognition.OfflineConfig{Roots: p.root.Pool(), CRLs: recognition.StaticCRLs{crl}})
	require.NoError(t, err)
	report := recognitiontest.PDF("recognition report signed by the RAO")
	byOfficer := recognitiontest.SignP7M(t, report, officerCert, officerKey, p.issuing.Chain(), recognitiontest.SignOptions{})
	byOther := recognitiontest.SignP7M(t, report, otherCert, otherKey, p.issuing.Chain(), recognitiontest.SignOptions{})
	submission := func(role recognition.Role, p7m []byte) recognition.Submission {
		s := offlineSubmission(t, role)
		s.Uploads[3] = recognition.Upload{Kind: recognition.KindSignedReport, Name: "report.pdf.p7m", Data: p7m}
		return s
	}

	t.Run("signed by the named officer", func(t *testing.T) {
		t.Parallel()
		ev, err := v.Verify(context.Background(), submission(recognition.RoleOperator, byOfficer))
		require.NoError(t, err)
		_, ok := ev.Manifest.Artefact(recognition.KindSignedReport)
		assert.True(t, ok)
		_, ok = ev.Artefact(recognition.KindRevocationList)
		assert.True(t, ok)
	})
	t.Run("signed by the acting RAO", func(t *testing.T) {
		t.Parallel()
		s := submission(recognition.RoleRAO, byOfficer)
		s.Officer = nil
		s.Operator.TaxCode = o.TaxCode
		ev, err := v.Verify(context.Background(), s)
		require.NoError(t, err)
		assert.Equal(t, o.TaxCode, ev.Manifest.Operator.TaxCode)
		s.Uploads[3].Data = byOther
		_, err = v.Verify(context.Background(), s)
		require.ErrorIs(t, err, recognition.ErrIdentityMismatch)
		// Without a registered tax code the signer cannot be matched.
		s.Operator.TaxCode = ""
		_, err = v.Verify(context.Background(), s)
		require.ErrorIs(t, err, recognition.ErrInvalidInput)
		assert.ErrorContains(t, err, "operator.tax_code")
	})
	t.Run("signed by someone else", func(t *testing.T) {
		t.Parallel()
		_, err := v.Verify(context.Background(), submission(recognition.RoleOperator, byOther))
		ve, ok := errorsAs[*recognition.VerificationError](err)
		require.True(t, ok)
		assert.Equal(t, []recognition.CheckName{recognition.CheckSigner}, ve.Checks())
	})
	t.Run("refused without trust anchors", func(t *testing.T) {
		t.Parallel()
		plain, err := recognition.NewOffline(recognition.OfflineConfig{})
		require.NoError(t, err)
		_, err = plain.Verify(context.Background(), submission(recognition.RoleOperator, byOfficer))
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
	})
	t.Run("both report kinds", func(t *testing.T) {
		t.Parallel()
		s := submission(recognition.RoleOperator, byOfficer)
		s.Uploads = append(s.Uploads, recognition.Upload{Kind: recognition.KindReport, Data: report})
		_, err := v.Verify(context.Background(), s)
		assert.ErrorIs(t, err, recognition.ErrInvalidInput)
	})
	t.Run("config", func(t *testing.T) {
		t.Parallel()
		_, err := recognition.NewOffline(recognition.OfflineConfig{Roots: p.root.Pool()})
		assert.EqualError(t, err, "recognition: crls: is required with roots")
	})
}
