package recognition_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/internal/testutil"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

type otpWorld struct {
	*pki
	oneShotCA *recognitiontest.CA
	issuer    *recognitiontest.OneShotIssuer
	outbox    *recognitiontest.Outbox
	signer    *recognition.OTPSigner
	applicant recognition.Applicant
	form      []byte
}

func newOTPWorld(t *testing.T, edit func(*recognition.OTPSignerConfig)) *otpWorld {
	t.Helper()
	w := &otpWorld{pki: newPKI(t), applicant: applicant(t), outbox: &recognitiontest.Outbox{}}
	now := time.Now()
	w.oneShotCA = recognitiontest.NewRoot(t, "Test Platform Root", now.Add(-24*time.Hour), now.Add(365*24*time.Hour)).NewIntermediate(t, "Test One-Shot CA")
	w.issuer = &recognitiontest.OneShotIssuer{T: t, CA: w.oneShotCA}
	w.form = recognitiontest.PDF("Request form, to be signed by OTP")
	cfg := recognition.OTPSignerConfig{Issuer: w.issuer, Sender: w.outbox}
	if edit != nil {
		edit(&cfg)
	}
	var err error
	w.signer, err = recognition.NewOTPSigner(cfg)
	require.NoError(t, err)
	return w
}

func (w *otpWorld) start(t *testing.T) *recognition.Challenge {
	t.Helper()
	ch, err := w.signer.Start(context.Background(), recognition.OTPRequest{OrderID: "ord-otp", Applicant: w.applicant, Form: w.form})
	require.NoError(t, err)
	return ch
}

func (w *otpWorld) code(t *testing.T) string {
	t.Helper()
	c, err := w.outbox.Last(w.applicant.Mobile)
	require.NoError(t, err)
	return c
}

// wrong returns a code that differs from the right one.
func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestOTPSignerSigns(t *testing.T) {
	t.Parallel()
	w := newOTPWorld(t, nil)
	ch := w.start(t)
	code := w.code(t)
	require.Len(t, code, 6)
	fs, err := w.signer.Complete(context.Background(), ch, code)
	require.NoError(t, err)
	assert.Equal(t, w.form, fs.Form)
	assert.Equal(t, 1, fs.OTP.Attempts)
	assert.Equal(t, "sms", fs.OTP.Channel)
	assert.Equal(t, "+39*******567", fs.OTP.Destination)
	assert.Equal(t, ch.ID(), fs.OTP.ChallengeID)
	assert.Equal(t, "TINIT-"+w.applicant.TaxCode, fs.Certificate.Subject.SerialNumber)
	assert.Equal(t, 1, w.issuer.Calls())

	// The form verifies as CAdES with openssl, signed by the one-shot key.
	openssl := testutil.RequireTool(t, "openssl", "openssl")
	dir := t.TempDir()
	in := dir + "/form.p7m"
	require.NoError(t, writeFile(in, fs.P7M))
	rootPath, _ := recognitiontest.WritePEM(t, dir, "root", nil, w.oneShotCA.Root())
	out := testutil.Run(t, openssl, "cms", "-verify", "-inform", "DER", "-in", in, "-CAfile", rootPath, "-purpose", "any")
	assert.True(t, bytes.Contains(out, w.form))

	_, err = w.signer.Complete(context.Background(), ch, code)
	assert.ErrorIs(t, err, recognition.ErrOTPLocked, "a challenge signs once")
	assert.Equal(t, 1, w.issuer.Calls())
}

// TestOTPCodeIsHOTP pins the randomness and checks that the code sent is
// the RFC 4226 HOTP of the secret at counter 0, as pquerna/otp and oathtool
// compute it independently.
func TestOTPCodeIsHOTP(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{0x42}, 64)
	w := newOTPWorld(t, func(c *recognition.OTPSignerConfig) { c.Rand = bytes.NewReader(seed) })
	w.start(t)
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed[:20])
	want, err := hotp.GenerateCodeCustom(secret, 0, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	require.NoError(t, err)
	assert.Equal(t, want, w.code(t))
	oathtool := testutil.RequireTool(t, "oathtool", "oathtool")
	out := testutil.Run(t, oathtool, "--hotp", "--base32", secret, "--counter", "0")
	assert.Equal(t, want, strings.TrimSpace(string(out)))
}

func TestOTPSignerAttempts(t *testing.T) {
	t.Parallel()
	w := newOTPWorld(t, nil)

	t.Run("right code on the last attempt", func(t *testing.T) {
		ch := w.start(t)
		code := w.code(t)
		for remaining := 2; remaining >= 1; remaining-- {
			_, err := w.signer.Complete(context.Background(), ch, wrong(code))
			oe, ok := errorsAs[*recognition.OTPError](err)
			require.True(t, ok)
			assert.Equal(t, remaining, oe.Remaining)
			assert.ErrorIs(t, err, recognition.ErrOTPInvalid)
			assert.NotErrorIs(t, err, recognition.ErrOTPLocked)
		}
		fs, err := w.signer.Complete(context.Background(), ch, code)
		require.NoError(t, err)
		assert.Equal(t, 3, fs.OTP.Attempts)
	})
	t.Run("locked after the last wrong code", func(t *testing.T) {
		ch := w.start(t)
		code := w.code(t)
		calls := w.issuer.Calls()
		for range 3 {
			_, err := w.signer.Complete(context.Background(), ch, wrong(code))
			require.ErrorIs(t, err, recognition.ErrOTPInvalid)
		}
		_, err := w.signer.Complete(context.Background(), ch, code)
		assert.ErrorIs(t, err, recognition.ErrOTPLocked)
		assert.Equal(t, calls, w.issuer.Calls(), "no certificate is issued")
	})
	t.Run("malformed codes use attempts", func(t *testing.T) {
		ch := w.start(t)
		for _, c := range []string{"", "12", "abcdef"} {
			_, err := w.signer.Complete(context.Background(), ch, c)
			require.ErrorIs(t, err, recognition.ErrOTPInvalid, c)
		}
		_, err := w.signer.Complete(context.Background(), ch, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrOTPLocked)
	})
	t.Run("a code of another challenge", func(t *testing.T) {
		first := w.start(t)
		w.start(t)
		_, err := w.signer.Complete(context.Background(), first, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrOTPInvalid)
	})
	t.Run("message", func(t *testing.T) {
		assert.EqualError(t, &recognition.OTPError{Remaining: 2}, "recognition: otp: code does not match: 2 attempts left")
	})
}

func TestOTPSignerExpiry(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newOTPWorld(t, func(c *recognition.OTPSignerConfig) { c.Expiry = 2 * time.Minute })
		ch := w.start(t)
		assert.Equal(t, time.Now().Add(2*time.Minute), ch.ExpiresAt())
		time.Sleep(119 * time.Second)
		_, err := w.signer.Complete(context.Background(), ch, wrong(w.code(t)))
		require.ErrorIs(t, err, recognition.ErrOTPInvalid, "still within the expiry")
		time.Sleep(2 * time.Second)
		_, err = w.signer.Complete(context.Background(), ch, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrOTPExpired)
		_, err = w.signer.Complete(context.Background(), ch, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrOTPLocked)
	})
}

func TestOTPSignerFailures(t *testing.T) {
	t.Parallel()
	t.Run("issuer fails", func(t *testing.T) {
		t.Parallel()
		w := newOTPWorld(t, nil)
		w.issuer.Err = errors.New("hsm down")
		ch := w.start(t)
		_, err := w.signer.Complete(context.Background(), ch, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrIssuance)
		assert.ErrorContains(t, err, "hsm down")
	})
	t.Run("certificate for another key", func(t *testing.T) {
		t.Parallel()
		w := newOTPWorld(t, nil)
		other, _ := w.oneShotCA.Issue(t, recognitiontest.Person{GivenName: "X", Surname: "Y", NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)})
		bad := &swapIssuer{cert: other}
		s, err := recognition.NewOTPSigner(recognition.OTPSignerConfig{Issuer: bad, Sender: w.outbox})
		require.NoError(t, err)
		ch, err := s.Start(context.Background(), recognition.OTPRequest{OrderID: "o", Applicant: w.applicant, Form: w.form})
		require.NoError(t, err)
		_, err = s.Complete(context.Background(), ch, w.code(t))
		assert.ErrorIs(t, err, recognition.ErrIssuance)
	})
	t.Run("sender fails", func(t *testing.T) {
		t.Parallel()
		w := newOTPWorld(t, nil)
		w.outbox.Err = errors.New("sms gateway down")
		_, err := w.signer.Start(context.Background(), recognition.OTPRequest{OrderID: "o", Applicant: w.applicant, Form: w.form})
		assert.ErrorContains(t, err, "sms gateway down")
	})
	t.Run("bad input sends nothing", func(t *testing.T) {
		t.Parallel()
		w := newOTPWorld(t, nil)
		a := w.applicant
		a.Mobile = "3331234567"
		_, err := w.signer.Start(context.Background(), recognition.OTPRequest{OrderID: "", Applicant: a, Form: []byte("not a pdf")})
		require.ErrorIs(t, err, recognition.ErrInvalidInput)
		assert.EqualError(t, err, "recognition: invalid input: order_id: is required; applicant.mobile: must be in E.164 form, e.g. +393331234567; form: must be a PDF")
		assert.Zero(t, w.outbox.Sent("3331234567"))
	})
	t.Run("config", func(t *testing.T) {
		t.Parallel()
		_, err := recognition.NewOTPSigner(recognition.OTPSignerConfig{MaxAttempts: 11, Digits: 7})
		assert.EqualError(t, err, "recognition: invalid input: issuer: is required; sender: is required; max_attempts: must be between 0 and 10; digits: must be 6 or 8")
	})
}

type swapIssuer struct{ cert *x509.Certificate }

func (s *swapIssuer) IssueOneShot(context.Context, recognition.OneShotRequest) (*recognition.OneShotCertificate, error) {
	return &recognition.OneShotCertificate{Certificate: s.cert}, nil
}

// TestSecretsRedacted hands every secret-carrying type to fmt and slog and
// checks that the secret never appears.
func TestSecretsRedacted(t *testing.T) {
	t.Parallel()
	seed := bytes.Repeat([]byte{0x17}, 64)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := newOTPWorld(t, func(c *recognition.OTPSignerConfig) { c.Rand = bytes.NewReader(seed); c.Logger = logger })
	ch := w.start(t)
	code := w.code(t)
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed[:20])
	values := []any{ch, recognition.OTPCode(code), recognition.Secret(secret), recognition.Secret("hmac-key-material")}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, code, verb)
			assert.NotContains(t, out, secret, verb)
			assert.NotContains(t, out, "hmac-key-material", verb)
		}
		logger.Info("value", "v", v)
	}
	_, err := w.signer.Complete(context.Background(), ch, wrong(code))
	require.Error(t, err)
	_, err = w.signer.Complete(context.Background(), ch, code)
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), code)
	assert.NotContains(t, logs.String(), secret)
	assert.NotContains(t, logs.String(), "hmac-key-material")
	assert.Contains(t, logs.String(), "[REDACTED]")
}
