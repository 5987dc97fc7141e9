package registra

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"time"

	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// The results of the applicant's steps that cannot be had again for the
// asking are kept in the store (store.StepRecord), sealed under the vault's
// KEK since they carry the applicant's personal data: the signed request
// form, and a video provider's session record that came before it. They
// survive a restart and are seen by every node; they go with the
// recognition's record, in the same batch, or with their expiry
// (stepTTL), by the scheduler. What is secret or lives for minutes (the
// OTP challenge, the applicant's link, a SPID login's RelayState) stays in
// the memory of the node that started it.

// Kinds of the stored steps.
const (
	stepFormSignature = "form_signature"
	stepVideoSession  = "video_session"
)

// storedFormSignature is a recognition.FormSignature as it is stored.
type storedFormSignature struct {
	Form        []byte                `json:"form"`
	P7M         []byte                `json:"p7m"`
	Certificate []byte                `json:"certificate"`
	Chain       [][]byte              `json:"chain,omitempty"`
	OTP         recognition.OTPRecord `json:"otp"`
}

func storeFormSignature(fs *recognition.FormSignature) storedFormSignature {
	s := storedFormSignature{Form: fs.Form, P7M: fs.P7M, Certificate: fs.Certificate.Raw, OTP: fs.OTP}
	for _, c := range fs.Chain {
		s.Chain = append(s.Chain, c.Raw)
	}
	return s
}

func (s *storedFormSignature) formSignature() (*recognition.FormSignature, error) {
	cert, err := x509.ParseCertificate(s.Certificate)
	if err != nil {
		return nil, fmt.Errorf("one-shot certificate: %w", err)
	}
	fs := &recognition.FormSignature{Form: s.Form, P7M: s.P7M, Certificate: cert, OTP: s.OTP}
	for _, der := range s.Chain {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("one-shot chain: %w", err)
		}
		fs.Chain = append(fs.Chain, c)
	}
	return fs, nil
}

// storedVideoSession is a provider's session record as it is stored: the
// callback as received, which is all a recognition trusts of it (the
// verifier authenticates and parses the body again), without the decoded
// artefacts that the body already holds.
type storedVideoSession struct {
	Provider   string    `json:"provider"`
	SessionID  string    `json:"session_id"`
	Body       []byte    `json:"body"`
	Timestamp  string    `json:"timestamp"`
	Signature  string    `json:"signature"`
	ReceivedAt time.Time `json:"received_at"`
}

func storeVideoSession(vs *recognition.VideoSession) storedVideoSession {
	return storedVideoSession{Provider: vs.Provider, SessionID: vs.SessionID, Body: vs.Payload, Timestamp: vs.Timestamp,
		Signature: vs.Signature, ReceivedAt: vs.ReceivedAt}
}

// stepAD binds a sealed step to its order and kind.
func stepAD(orderID, kind string) []byte {
	return []byte("registra recognition step v1 " + orderID + " " + kind)
}

// stepCommands seals v (as JSON) under the KEK and returns the commands
// that store it as a blob and record it as the step of orderID in org,
// taken by operatorID (empty for a provider).
func (p *Platform) stepCommands(ctx context.Context, orderID, org, operatorID, kind string, v any) ([]store.Command, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, &Error{Op: "order.recognition_step", Err: err}
	}
	sealed, err := p.kek.Seal(ctx, plain, stepAD(orderID, kind))
	if err != nil {
		return nil, wrap("order.recognition_step", err)
	}
	h, cmds, err := p.putBlob(ctx, "order.recognition_step", sealed)
	if err != nil {
		return nil, err
	}
	now := p.clock()
	return append(cmds, store.PutStep{Step: store.StepRecord{OrderID: orderID, Kind: kind, OrgID: org, OperatorID: operatorID,
		Blob: h, CreatedAt: now, ExpiresAt: now.Add(stepTTL)}}), nil
}

// loadStep reads orderID's step of kind into v. It returns the record, or
// false when the order has no such step or it expired.
func (p *Platform) loadStep(ctx context.Context, snap store.Snapshot, orderID, kind string, v any) (store.StepRecord, bool, error) {
	steps, err := snap.Steps(orderID)
	if err != nil {
		return store.StepRecord{}, false, wrap("order.recognition_step", err)
	}
	now := p.clock()
	for _, s := range steps {
		if s.Kind != kind || !now.Before(s.ExpiresAt) {
			continue
		}
		sealed, err := p.store.Blobs().Get(ctx, s.Blob)
		if err != nil {
			return store.StepRecord{}, false, wrap("order.recognition_step", err)
		}
		plain, err := p.kek.Open(ctx, sealed, stepAD(orderID, kind))
		if err != nil {
			return store.StepRecord{}, false, wrap("order.recognition_step", err)
		}
		if err := json.Unmarshal(plain, v); err != nil {
			return store.StepRecord{}, false, &Error{Op: "order.recognition_step", Err: fmt.Errorf("%s of order %s: %w", kind, orderID, err)}
		}
		return s, true, nil
	}
	return store.StepRecord{}, false, nil
}

// formSignature returns orderID's form signature and the actor who
// completed it, or nil when the applicant has not signed (or the signature
// expired).
func (p *Platform) formSignature(ctx context.Context, snap store.Snapshot, orderID string) (*recognition.FormSignature, Actor, error) {
	var s storedFormSignature
	rec, ok, err := p.loadStep(ctx, snap, orderID, stepFormSignature, &s)
	if err != nil || !ok {
		return nil, Actor{}, err
	}
	fs, err := s.formSignature()
	if err != nil {
		return nil, Actor{}, &Error{Op: "order.recognition_step", Err: fmt.Errorf("form signature of order %s: %w", orderID, err)}
	}
	return fs, Actor{OperatorID: rec.OperatorID, Org: rec.OrgID}, nil
}

// videoSession returns the provider's session record waiting for orderID's
// form signature, or nil.
func (p *Platform) videoSession(ctx context.Context, snap store.Snapshot, orderID string) (*recognition.VideoSession, error) {
	var s storedVideoSession
	_, ok, err := p.loadStep(ctx, snap, orderID, stepVideoSession, &s)
	if err != nil || !ok {
		return nil, err
	}
	return &recognition.VideoSession{Provider: s.Provider, SessionID: s.SessionID, OrderID: orderID, Payload: s.Body,
		Timestamp: s.Timestamp, Signature: s.Signature, ReceivedAt: s.ReceivedAt}, nil
}

// dropExpiredSteps deletes the recognition steps whose time has passed.
func (p *Platform) dropExpiredSteps(ctx context.Context, tok *store.LeaseToken, now time.Time) error {
	return p.dropExpired(ctx, tok, func(snap store.Snapshot) ([]store.Command, error) {
		old, err := snap.ExpiredSteps(now, cleanupPage)
		cmds := make([]store.Command, len(old))
		for i, s := range old {
			cmds[i] = store.DeleteSteps{OrderID: s.OrderID, Kind: s.Kind}
		}
		return cmds, err
	})
}
