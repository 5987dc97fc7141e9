package recognitiontest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/registra-pki/registra/recognition"
)

// OneShotIssuer is a [recognition.OneShotIssuer] over a test CA: it issues
// qualified one-shot certificates (QcCompliance, nonRepudiation,
// TINIT-<tax code>) valid for one hour. Set Err to make issuance fail, or
// Edit to change the certificate issued (to test a wrong one).
type OneShotIssuer struct {
	T    testing.TB
	CA   *CA
	Err  error
	Edit func(*Person)

	mu    sync.Mutex
	calls int
}

var _ recognition.OneShotIssuer = (*OneShotIssuer)(nil)

// IssueOneShot issues a one-shot certificate for req.PublicKey.
func (o *OneShotIssuer) IssueOneShot(ctx context.Context, req recognition.OneShotRequest) (*recognition.OneShotCertificate, error) {
	o.mu.Lock()
	o.calls++
	o.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.Err != nil {
		return nil, o.Err
	}
	now := time.Now()
	p := Person{
		GivenName: req.Applicant.GivenName, Surname: req.Applicant.Surname, TaxCode: req.Applicant.TaxCode,
		Qualified: true, NonRepudiation: true, NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour),
	}
	pub := req.PublicKey
	if o.Edit != nil {
		o.Edit(&p)
	}
	cert := o.CA.IssueFor(o.T, p, pub)
	return &recognition.OneShotCertificate{Certificate: cert, Chain: o.CA.Chain()}, nil
}

// Calls returns how many certificates were requested.
func (o *OneShotIssuer) Calls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

// Outbox is a [recognition.Sender] that keeps the codes it was asked to
// send, by mobile number. Set Err to make sending fail.
type Outbox struct {
	Err error

	mu    sync.Mutex
	codes map[string][]recognition.OTPCode
}

var _ recognition.Sender = (*Outbox)(nil)

// SendOTP records the code and returns channel "sms".
func (o *Outbox) SendOTP(ctx context.Context, mobile string, code recognition.OTPCode) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if o.Err != nil {
		return "", o.Err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.codes == nil {
		o.codes = map[string][]recognition.OTPCode{}
	}
	o.codes[mobile] = append(o.codes[mobile], code)
	return "sms", nil
}

// Last returns the last code sent to mobile.
func (o *Outbox) Last(mobile string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.codes[mobile]
	if len(c) == 0 {
		return "", errors.New("no code sent to " + mobile)
	}
	return c[len(c)-1].Reveal(), nil
}

// Sent returns how many codes were sent to mobile.
func (o *Outbox) Sent(mobile string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.codes[mobile])
}
