package recognition_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/recognition"
)

// TestErrorMessages pins one message per error type and what each unwraps
// to.
func TestErrorMessages(t *testing.T) {
	t.Parallel()
	cause := errors.New("x509: certificate signed by unknown authority")
	chain := &recognition.CheckError{Check: recognition.CheckChain, Kind: recognition.ErrChain, Detail: "signer CN=Mario Rossi", Err: cause}
	name := &recognition.CheckError{Check: recognition.CheckPersonName, Kind: recognition.ErrIdentityMismatch, Detail: `signer "MARIO" "RUSSO" is not applicant "Mario" "Rossi"`}
	infected := &recognition.InfectedError{Threat: "Eicar-Test-Signature", Engine: "clamd"}
	cases := []struct {
		err  error
		msg  string
		is   []error
		isnt []error
	}{
		{&recognition.FieldError{Field: "applicant.tax_code", Rule: "is required"}, "recognition: applicant.tax_code: is required",
			[]error{recognition.ErrInvalidInput}, []error{recognition.ErrVerification}},
		{&recognition.InputError{Fields: []*recognition.FieldError{{Field: "a", Rule: "is required"}, {Field: "b", Rule: "must be a PDF"}}},
			"recognition: invalid input: a: is required; b: must be a PDF", []error{recognition.ErrInvalidInput}, nil},
		{chain, "recognition: chain: signer CN=Mario Rossi: x509: certificate signed by unknown authority",
			[]error{recognition.ErrVerification, recognition.ErrChain, cause}, []error{recognition.ErrRevoked}},
		{&recognition.VerificationError{Failed: []*recognition.CheckError{chain, name}},
			`recognition: 2 checks failed: chain: signer CN=Mario Rossi: x509: certificate signed by unknown authority; name: signer "MARIO" "RUSSO" is not applicant "Mario" "Rossi"`,
			[]error{recognition.ErrVerification, recognition.ErrChain, recognition.ErrIdentityMismatch}, []error{recognition.ErrInfected}},
		{infected, "recognition: antivirus: Eicar-Test-Signature found by clamd", []error{recognition.ErrInfected}, nil},
		{&recognition.OTPError{Remaining: 0}, "recognition: otp: code does not match: no attempts left",
			[]error{recognition.ErrOTPInvalid, recognition.ErrOTPLocked}, nil},
	}
	for _, tc := range cases {
		assert.EqualError(t, tc.err, tc.msg)
		for _, e := range tc.is {
			assert.ErrorIs(t, tc.err, e, tc.msg)
		}
		for _, e := range tc.isnt {
			assert.NotErrorIs(t, tc.err, e, tc.msg)
		}
	}
	ve := &recognition.VerificationError{Failed: []*recognition.CheckError{chain, name}}
	assert.Equal(t, []recognition.CheckName{recognition.CheckChain, recognition.CheckPersonName}, ve.Checks())
	got, ok := errors.AsType[*recognition.CheckError](ve)
	assert.True(t, ok)
	assert.Equal(t, recognition.CheckChain, got.Check)
}

func TestMethodNames(t *testing.T) {
	t.Parallel()
	for _, m := range recognition.Methods() {
		b, err := m.MarshalText()
		assert.NoError(t, err)
		var back recognition.Method
		assert.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, m, back)
	}
	_, err := recognition.ParseMethod("fax")
	assert.ErrorIs(t, err, recognition.ErrInvalidInput)
	assert.Equal(t, "Method(9)", recognition.Method(9).String())
	_, err = recognition.Method(0).MarshalText()
	assert.ErrorIs(t, err, recognition.ErrInvalidInput)
}
