package registra

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// recognisers are the verifiers [Platform.Recognise] runs and the
// platform's evidence seal.
type recognisers struct {
	seal    *evidenceSeal
	offline *recognition.Offline
	signID  *recognition.SignID    // nil without Config.SignID
	liveID  *recognition.LiveID    // nil without Config.LiveID
	videoID *recognition.VideoID   // nil without Config.VideoID
	spid    *recognition.SPID      // nil without Config.SPID
	otp     *recognition.OTPSigner // nil without Config.OTP
	steps   *recognitionSteps      // the steps taken so far (recognise_steps.go)
}

// openRecognisers opens the evidence seal and builds the verifiers, and
// makes the evidence pool trust the seal's certificate in addition to
// Config.EvidenceRoots (or the platform's root). The caller's pool is
// cloned, never modified.
func (p *Platform) openRecognisers(ctx context.Context) (*recognisers, error) {
	seal, err := p.openEvidenceSeal(ctx)
	if err != nil {
		return nil, err
	}
	r := &recognisers{seal: seal}
	oc := p.cfg.Offline
	if oc.Now == nil {
		oc.Now = p.now
	}
	if oc.Logger == nil {
		oc.Logger = p.log
	}
	if r.offline, err = recognition.NewOffline(oc); err != nil {
		return nil, &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.Offline: %w", err)}
	}
	if p.cfg.SignID != nil {
		sc := *p.cfg.SignID
		if sc.Now == nil {
			sc.Now = p.now
		}
		if sc.Logger == nil {
			sc.Logger = p.log
		}
		if r.signID, err = recognition.NewSignID(sc); err != nil {
			return nil, &Error{Op: "open", Kind: ErrInvalidInput, Err: fmt.Errorf("Config.SignID: %w", err)}
		}
	}
	if err := p.openStepVerifiers(r); err != nil {
		return nil, err
	}
	// The seal's certificate is an anchor of its own: trusting it alone,
	// rather than every certificate of the platform's root, keeps holder
	// certificates from counting as evidence seals when EvidenceRoots names
	// another CA.
	pool := p.evidence.Clone()
	pool.AddCert(seal.cert)
	p.evidence = pool
	return r, nil
}

// Recognise records the applicant's recognition (to_identify → to_issue)
// from the artefacts an operator uploads, instead of a bundle sealed
// elsewhere: it runs the verifier of the order's recognition method on s,
// seals the evidence with the platform's evidence key (ca.EvidenceSeal) and
// records it with [Platform.RecordRecognition], with the same
// authorisation, audit and status transition.
//
// The platform fills s.OrderID, s.Applicant (the order's applicant),
// s.Operator (the acting operator, in the highest role that recognises)
// and s.Consents (the applicant's consents) itself: values given there are
// replaced. The caller gives the uploads, the recognising officer when the
// uploader did not see the applicant, and the method's own fields.
//
// Methods: Offline (signed paper form, recognition report as a scan, PDF
// or signed .p7m, identity document images); Sign ID (the applicant's
// .p7m) only when Config.SignID is set, else ErrInvalidInput naming it as
// unavailable; Live ID (the report signed by the acting RAO, in the name
// of the tax code registered for them, and the document images) when
// Config.LiveID and Config.OTP are set, after the applicant's form
// signature ([Platform.StartFormSignature]; else ErrInvalidInput naming
// "form_signature"). Video ID and SPID have steps of their own
// ([Platform.RecogniseVideo], [Platform.SPIDAssertion]): their
// submission fields, and s.FormSignature, are filled by the platform only.
//
// Who may: an operator granted access.PermRecordRecognition (IR, RAO,
// master RAO) by either method; for the Offline method also a plain
// operator, through access.PermUploadOfflineRecognition, who must name the
// recognising officer in s.Officer: an enabled IR, RAO or master RAO of the
// order's organisation, in a role they hold (Manuale operatore, "Offline
// Recognition Product Request": "Operator (no RAO): enters the request,
// uploads the contract and the recognition report signed by the RAO/IR
// (appropriately registered) also indicating personal information";
// recognition.MethodOffline's Requirements list RoleOperator). An officer
// named by an IR or RAO is checked the same way. A plain operator records
// no other method and no sealed bundle ([Platform.RecordRecognition]).
//
// Preconditions, in the order checked: the order exists in the actor's
// organisation (else ErrNotFound); the actor may record recognitions of
// the order's method, as above, and the order is to_identify
// (ErrPermission, ErrTransition; audited as refused); the method is one of
// the above; the verifier passes (ErrInvalidInput, with the recognition
// package's *InputError or *VerificationError in the chain; a plain
// operator without s.Officer is refused naming the field "officer"); the
// named officer is registered as above (ErrInvalidInput naming "officer.id"
// or "officer.role"). Nothing is stored on refusal.
func (p *Platform) Recognise(ctx context.Context, a Actor, orderID string, s recognition.Submission) (*Order, error) {
	// What the applicant's own steps produced is the platform's to fill in
	// (recognise_steps.go), never the caller's.
	s.FormSignature, s.VideoSession, s.SAMLResponse, s.SAMLRequestIDs = nil, nil, "", nil
	return p.recognise(ctx, a, orderID, s)
}

// recognise is Recognise with the fields of the applicant's steps as the
// step methods set them.
func (p *Platform) recognise(ctx context.Context, a Actor, orderID string, s recognition.Submission) (*Order, error) {
	const op = "order.recognise"
	oc, err := p.loadOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	in, _, err := p.application(ctx, oc.snap, orderID)
	if err != nil {
		return nil, err
	}
	via := recognitionVia(oc.aop, in.Method)
	if _, err := p.decideRecognition(ctx, oc, via, p.clock()); err != nil {
		return nil, err
	}
	var v recognition.Verifier
	switch in.Method {
	case recognition.MethodOffline:
		v = p.rec.offline
	case recognition.MethodSignID:
		if p.rec.signID == nil {
			return nil, &Error{Op: op, Kind: ErrInvalidInput,
				Err: errors.New("sign id is unavailable: the platform has no Config.SignID (trust anchors, CRLs, antivirus scanner)")}
		}
		if err := p.rec.signID.Available(); err != nil {
			return nil, &Error{Op: op, Kind: ErrInvalidInput, Err: fmt.Errorf("sign id is unavailable: %w", err)}
		}
		v = p.rec.signID
	case recognition.MethodLiveID, recognition.MethodVideoID, recognition.MethodSPID:
		if v, err = p.stepVerifier(in.Method); err != nil {
			return nil, err
		}
		if s.FormSignature, _, err = p.formSignature(ctx, oc.snap, orderID); err != nil {
			return nil, err
		}
		if s.FormSignature == nil {
			return nil, errNoFormSignature
		}
	default:
		return nil, fieldErr("method", "recognition "+in.Method.String()+" is not made from uploads; record its sealed evidence instead")
	}
	ap := in.Applicant
	s.OrderID = orderID
	s.Applicant = recognition.Applicant{TaxCode: ap.TaxCode, GivenName: ap.FirstName, Surname: ap.Surname,
		DateOfBirth: ap.BirthDate.Format(time.DateOnly), Email: ap.Email, Mobile: ap.Mobile}
	s.Operator = recognition.Operator{ID: oc.aop.ID, Name: oc.aop.Username, Role: recognitionRole(oc.aop.Roles),
		Org: oc.order.OrgID, Unit: oc.order.UnitID, TaxCode: oc.sop.TaxCode}
	s.Consents = []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: ap.PrivacyConsent},
		{Name: "marketing", Given: ap.MarketingConsent}}
	ev, err := v.Verify(ctx, s)
	if err != nil {
		return nil, wrap(op, err)
	}
	if s.Officer != nil {
		signed := slices.ContainsFunc(s.Uploads, func(u recognition.Upload) bool { return u.Kind == recognition.KindSignedReport })
		if err := p.checkOfficer(oc.snap, oc.order.OrgID, s.Officer, signed); err != nil {
			return nil, err
		}
	}
	sealed, err := p.rec.seal.sealer.Seal(ctx, &ev)
	if err != nil {
		return nil, wrap(op, err)
	}
	o, err := p.recordRecognition(ctx, a, orderID, sealed, via)
	if err == nil {
		p.rec.steps.forget(orderID)
	}
	return o, err
}

// recognitionVia is the permission through which aop records a recognition
// by method m: access.PermRecordRecognition when they hold it; otherwise
// the narrower one a plain operator has for the method, if any (an Offline
// upload naming the officer, access.PermUploadOfflineRecognition; a Video
// ID or SPID recognition made by the provider, whose steps they relay,
// access.PermRelayRemoteRecognition), else access.PermRecordRecognition,
// which will be refused.
func recognitionVia(aop access.Operator, m recognition.Method) access.Permission {
	if slices.Contains(aop.Permissions(), access.PermRecordRecognition) {
		return access.PermRecordRecognition
	}
	switch m {
	case recognition.MethodOffline:
		return access.PermUploadOfflineRecognition
	case recognition.MethodVideoID, recognition.MethodSPID:
		return access.PermRelayRemoteRecognition
	}
	return access.PermRecordRecognition
}

// decideRecognition authorises the record_recognition action of oc through
// permission via (see recognitionVia). With access.PermRecordRecognition it
// is [Platform.decide]: the permission of lifecycle's row. With a narrower
// one, access authorises that permission in the order's organisation, and
// lifecycle's table, which knows only its own permission, is applied with
// record_recognition granted for this one action, so statuses are checked
// as for anyone else. Refusals are audited as refusals of
// order.record_recognition.
func (p *Platform) decideRecognition(ctx context.Context, oc *orderCtx, via access.Permission, now time.Time) (lifecycle.Transition, error) {
	const a = lifecycle.ActionRecordRecognition
	if via == access.PermRecordRecognition {
		return p.decide(ctx, oc, a, lifecycle.Input{}, now)
	}
	op := auditAction(a)
	if err := access.Authorize(oc.aop, via, oc.order.OrgID); err != nil {
		return lifecycle.Transition{}, p.refuse(ctx, op, oc.aop.Org, oc.aop.ID, oc.order.ID, err)
	}
	actor := operatorActor(oc.aop)
	actor.Grants = append(actor.Grants, lifecycle.PermRecordRecognition)
	tr, err := p.machine.Apply(oc.state, a, actor, lifecycle.Input{}, now)
	if errors.Is(err, lifecycle.ErrPermission) {
		return lifecycle.Transition{}, p.refuse(ctx, op, oc.aop.Org, oc.aop.ID, oc.order.ID, err)
	}
	if err != nil {
		return lifecycle.Transition{}, wrap(op, err)
	}
	return tr, nil
}

// checkOfficer checks that the recognising officer named by an Offline
// upload is "appropriately registered" (Manuale operatore, "Offline
// Recognition Product Request"): an enabled operator of org holding the
// recognising role o.Role (IR, RAO or master RAO).
func (p *Platform) checkOfficer(snap store.Snapshot, org string, o *recognition.Officer, signed bool) error {
	const unregistered = "is not a registered operator of the organisation"
	sop, err := snap.Operator(o.ID)
	if isNotFound(err) {
		return fieldErr("officer.id", unregistered)
	}
	if err != nil {
		return wrap("order.recognise", err)
	}
	if sop.OrgID != org || sop.Disabled {
		return fieldErr("officer.id", unregistered)
	}
	aop, err := p.accessOperator(sop)
	if err != nil {
		return err
	}
	role, err := access.ParseRole(string(o.Role))
	if err != nil || !slices.Contains(aop.Roles, role) ||
		(role != access.RoleIR && role != access.RoleRAO && role != access.RoleMasterRAO) {
		return fieldErr("officer.role", "is not a recognising role (ir, rao, master_rao) the officer holds")
	}
	// The officer's tax code is the register's, not the uploader's word:
	// a signed report's signer is matched against it.
	switch {
	case sop.TaxCode == "" && signed:
		return fieldErr("officer.tax_code", "the officer has no registered tax code to match the report's signer: register it first")
	case sop.TaxCode != "":
		if given, err := operatorTaxCode(o.TaxCode); err != nil || given != sop.TaxCode {
			return fieldErr("officer.tax_code", "is not the tax code registered for the officer")
		}
	}
	return nil
}

// recognitionRole is the role an operator recognises in: the highest of
// their roles, as the evidence records it.
func recognitionRole(rs []access.Role) recognition.Role {
	best := recognition.RoleOperator
	rank := map[recognition.Role]int{recognition.RoleOperator: 0, recognition.RoleIR: 1, recognition.RoleRAO: 2, recognition.RoleMasterRAO: 3}
	for _, r := range rs {
		var rr recognition.Role
		switch r {
		case access.RoleIR:
			rr = recognition.RoleIR
		case access.RoleRAO:
			rr = recognition.RoleRAO
		case access.RoleMasterRAO:
			rr = recognition.RoleMasterRAO
		default:
			continue
		}
		if rank[rr] > rank[best] {
			best = rr
		}
	}
	return best
}

// EvidenceSealCertificate returns the certificate of the platform's
// evidence-sealing key (profile ca.EvidenceSeal), issued by the issuing CA.
func (p *Platform) EvidenceSealCertificate() *x509.Certificate { return p.rec.seal.cert }
