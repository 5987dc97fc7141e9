package registra

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	kmsapi "go.step.sm/crypto/kms/apiv1"

	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/logattr"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// PassphraseChoice is the RAO's choice of the envelope passphrase (Manuale
// operatore, "Remote signature issuance": "Use the owner's tax code as
// Passphrase or decide to indicate a different one").
type PassphraseChoice struct {
	// UseTaxCode seals the envelope with the holder's tax code.
	UseTaxCode bool
	// Custom and Confirm are a passphrase the RAO chose, typed twice.
	Custom  envelope.Passphrase `json:"-"`
	Confirm envelope.Passphrase `json:"-"`
}

// IssueInput is what the RAO gives at issuance.
type IssueInput struct {
	// CSR is the PKCS #10 request made on the holder's device (on-device
	// products; DER or PEM). Remote signature products take none: their
	// key is generated through the key manager.
	CSR []byte
	// Passphrase seals the activation-code envelope.
	Passphrase PassphraseChoice
}

// Product is an issued product as the platform shows it.
type Product struct {
	ID       string
	OrderID  string
	Org      string
	HolderID string
	Type     string
	Status   lifecycle.Status
	IssuedAt time.Time
	// Certificates are the signature certificate and, for on-device
	// products, the authentication certificate.
	Certificates []Certificate
	// Suspension is set while suspended; Revocation once revoked.
	Suspension *lifecycle.Suspension
	Revocation *lifecycle.Revocation
	// Envelopes are the envelope references, oldest first.
	Envelopes []EnvelopeRef
}

// Certificate is one certificate of a product.
type Certificate struct {
	SerialNumber *big.Int
	NotBefore    time.Time
	NotAfter     time.Time
	// DER is the certificate.
	DER []byte
}

// EnvelopeRef names a stored activation-code envelope.
type EnvelopeRef struct {
	ID        string
	Format    string
	Blob      string
	CreatedAt time.Time
}

// Envelope formats and reference kinds kept with a product.
const (
	formatCMS       = "cms"
	formatPDF       = "pdf"
	formatVault     = "vault"
	formatHolderKey = "holder-key"
)

func vaultID(orderID string) string           { return orderID + ".v" }
func holderKeyID(orderID string) string       { return orderID + ".k" }
func envelopeID(orderID string, n int) string { return orderID + ".n" + strconv.Itoa(n) }

// sentEnvelopes returns the envelopes made for an order's holder (not the
// vault record nor the holder key), in the order they were made.
func sentEnvelopes(snap store.Snapshot, orderID string) ([]store.EnvelopeRef, error) {
	refs, err := snap.OrderEnvelopes(orderID)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(refs, func(e store.EnvelopeRef) bool { return refNumber(e.ID, orderID, ".n") == 0 })
	slices.SortFunc(out, func(a, b store.EnvelopeRef) int {
		return cmp.Compare(refNumber(a.ID, orderID, ".n"), refNumber(b.ID, orderID, ".n"))
	})
	return out, nil
}

// holderKeyRecord is the blob behind a holder-key reference: the key
// manager's name of the key, or the software key sealed under the vault
// key.
type holderKeyRecord struct {
	KeyName string `json:"key_name,omitempty"`
	Sealed  []byte `json:"sealed,omitempty"`
}

// holderKey generates the holder's remote signature key through the key
// manager, or in software (kept sealed under the vault's KEK) when none is
// configured.
func (p *Platform) holderKey(ctx context.Context, productID string) (crypto.PublicKey, holderKeyRecord, error) {
	if km := p.cfg.KeyManager; km != nil {
		resp, err := km.CreateKey(&kmsapi.CreateKeyRequest{Name: p.cfg.HolderKeyName(productID),
			SignatureAlgorithm: kmsapi.ECDSAWithSHA256})
		if err != nil {
			return nil, holderKeyRecord{}, &Error{Op: "product.issue", Err: err}
		}
		return resp.PublicKey, holderKeyRecord{KeyName: resp.Name}, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, holderKeyRecord{}, &Error{Op: "product.issue", Err: err}
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, holderKeyRecord{}, &Error{Op: "product.issue", Err: err}
	}
	sealed, err := p.kek.Seal(ctx, der, []byte("registra holder key v1 "+productID))
	if err != nil {
		clear(der)
		return nil, holderKeyRecord{}, &Error{Op: "product.issue", Err: err}
	}
	clear(der)
	return key.Public(), holderKeyRecord{Sealed: sealed}, nil
}

// passphrase turns the RAO's choice into the envelope passphrase.
func (p *Platform) passphrase(c PassphraseChoice, taxCode string) (envelope.Passphrase, error) {
	req := envelope.PassphraseRequest{Custom: c.Custom, Confirm: c.Confirm}
	if c.UseTaxCode {
		req.TaxCode = taxCode
	}
	pp, err := p.cfg.Passphrase.Choose(req)
	if err != nil {
		return "", wrap("passphrase", err)
	}
	return pp, nil
}

// blobRef is a blob about to be stored and the envelope reference that
// will name it.
type blobRef struct {
	data []byte
	ref  store.EnvelopeRef
}

// seal seals codes in the envelope formats and returns the files and their
// references (numbered from n), not yet stored.
func (p *Platform) seal(ctx context.Context, orderID, productID, org string, n int, codes envelope.Codes,
	pp envelope.Passphrase, now time.Time) ([]*envelope.Envelope, []blobRef, error) {
	sealers := []struct {
		format string
		s      envelope.Sealer
	}{{formatCMS, p.cms}}
	if p.cfg.PDFEnvelope {
		sealers = append(sealers, struct {
			format string
			s      envelope.Sealer
		}{formatPDF, p.pdf})
	}
	var envs []*envelope.Envelope
	var refs []blobRef
	for i, s := range sealers {
		e, err := s.s.Seal(ctx, codes, pp)
		if err != nil {
			return nil, nil, wrap("envelope", err)
		}
		envs = append(envs, e)
		refs = append(refs, blobRef{data: e.Data, ref: store.EnvelopeRef{ID: envelopeID(orderID, n+i), OrgID: org,
			OrderID: orderID, ProductID: productID, Format: s.format, CreatedAt: now}})
	}
	return envs, refs, nil
}

// putRefs names the blobs of refs by their hash (setting it in refs) and
// returns the commands that store them with the batch committing their
// references: one store.PutBlobs for those small enough to travel in the
// batch, then the PutEnvelope commands of those that name an envelope
// reference. A blob too large for the batch is made durable on its own
// first (store.BlobStore's PutAll): a reference is never committed before
// its blob is durable.
func (p *Platform) putRefs(ctx context.Context, op string, refs []blobRef) ([]store.Command, error) {
	var inline, large [][]byte
	var largeAt []int
	total := 0
	for i, r := range refs {
		if n := len(r.data); n == 0 || n > store.MaxBatchBlob || total+n > store.MaxBatchBlobs {
			large, largeAt = append(large, r.data), append(largeAt, i)
			continue
		}
		total += len(r.data)
		inline = append(inline, r.data)
		refs[i].ref.Blob = store.BlobHash(r.data)
	}
	if len(large) > 0 {
		hs, err := p.store.Blobs().PutAll(ctx, large...)
		if err != nil {
			return nil, wrap(op, err)
		}
		for k, i := range largeAt {
			refs[i].ref.Blob = hs[k]
		}
	}
	cmds := make([]store.Command, 0, len(refs)+1)
	if len(inline) > 0 {
		cmds = append(cmds, store.PutBlobs{Blobs: inline})
	}
	for _, r := range refs {
		if r.ref.ID != "" {
			cmds = append(cmds, store.PutEnvelope{Envelope: r.ref})
		}
	}
	return cmds, nil
}

// putBlob names data by its hash and returns it with the commands that
// store data with the batch referring to it (see putRefs).
func (p *Platform) putBlob(ctx context.Context, op string, data []byte) (string, []store.Command, error) {
	refs := []blobRef{{data: data}}
	cmds, err := p.putRefs(ctx, op, refs)
	if err != nil {
		return "", nil, err
	}
	return refs[0].ref.Blob, cmds, nil
}

// sealedCodes are a product's activation codes, sealed: the vault record
// first, then the envelopes for the holder.
type sealedCodes struct {
	refs []blobRef
	envs []*envelope.Envelope
}

// sealError is a failure to seal codes and the reason recorded when the
// issuance intents are given up for it.
type sealError struct {
	reason string
	err    error
}

// sealCodes generates the activation codes of a product of type pt, seals
// them in the vault and in the envelopes for the holder, and returns the
// blobs to store (none when the product has no codes).
func (p *Platform) sealCodes(ctx context.Context, pt ProductType, orderID, productID, org string, pp envelope.Passphrase,
	now time.Time) (sealedCodes, *sealError) {
	if pt.Codes == nil {
		return sealedCodes{}, nil
	}
	codes, err := pt.Codes.Generate(nil)
	if err != nil {
		return sealedCodes{}, &sealError{"codes not generated", wrap("product.issue", err)}
	}
	rec, err := p.vault.Seal(ctx, productID, codes, pt.Codes.Verifiable())
	if err != nil {
		return sealedCodes{}, &sealError{"codes not sealed", wrap("product.issue", err)}
	}
	recBytes, err := rec.MarshalBinary()
	if err != nil {
		return sealedCodes{}, &sealError{"codes not sealed", wrap("product.issue", err)}
	}
	envs, sent, err := p.seal(ctx, orderID, productID, org, 1, codes, pp, now)
	if err != nil {
		return sealedCodes{}, &sealError{"envelope not sealed", err}
	}
	refs := append([]blobRef{{data: recBytes, ref: store.EnvelopeRef{ID: vaultID(orderID), OrgID: org,
		OrderID: orderID, ProductID: productID, Format: formatVault, CreatedAt: now}}}, sent...)
	return sealedCodes{refs: refs, envs: envs}, nil
}

// deliver hands the envelopes to the mailer, if any. A failure is logged:
// the envelope is stored and can be resent.
func (p *Platform) deliver(ctx context.Context, id, productID string, h store.HolderIdentity, envs []*envelope.Envelope) {
	if p.cfg.Mailer == nil || len(envs) == 0 || h.Email == "" {
		return
	}
	d := &envelope.Delivery{ID: id, ProductID: productID, To: h.Email, HolderName: h.FirstName + " " + h.Surname, Envelopes: envs}
	if err := p.cfg.Mailer.Enqueue(ctx, d); err != nil {
		p.log.Error("envelope delivery not queued", logattr.ProductID, productID, "err", err)
	}
}

// Issue issues the product of a recognised order (to_issue → active; RAO
// only). Remote signature products get a key generated through the key
// manager; on-device products are issued from the device's CSR, with an
// authentication certificate next to the signature certificate. Issuance
// is two-phase: the certificates are prepared and linted (ca.Prepare),
// their intents committed to the store, then signed, then the product is
// stored with its activation codes (sealed in the vault) and the envelope
// (sealed with the holder's tax code or the RAO's passphrase), in the same
// batch as the status change and the audit event. Every blob that batch
// refers to (certificates, vault record, envelopes, holder key) is made
// durable first, in one write. The envelope is then handed to the Mailer.
func (p *Platform) Issue(ctx context.Context, a Actor, orderID string, in IssueInput) (*Product, error) {
	oc, err := p.loadOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	app, _, err := p.application(ctx, oc.snap, orderID)
	if err != nil {
		return nil, err
	}
	pt, ok := p.product(app.ProductType)
	if !ok {
		return nil, fieldErr("product_type", "is no longer in the catalogue")
	}
	validity := pt.validity(app.DurationMonths, now)
	if validity == 0 {
		validity = pt.Profile.DefaultValidity
	}
	// Authorise and check the transition before any key is made; the
	// transition is applied again below with the certificate's notAfter.
	if _, err := p.decide(ctx, oc, lifecycle.ActionIssue, lifecycle.Input{NotAfter: now.Add(validity)}, now); err != nil {
		return nil, err
	}
	var pp envelope.Passphrase
	if pt.Codes != nil {
		if pp, err = p.passphrase(in.Passphrase, oc.holder.TaxCode); err != nil {
			return nil, err
		}
	}
	productID := newID("p-")
	req := ca.Request{Profile: pt.Profile, Validity: validity, Holder: ca.Holder{TaxCode: oc.holder.TaxCode,
		GivenName: oc.holder.FirstName, Surname: oc.holder.Surname, IUT: oc.holder.IUT}}
	if pt.Role {
		req.Holder.Organization, req.Holder.OrganizationIdentifier, req.Holder.Title =
			app.RoleOrganization, app.RoleOrganizationID, app.RoleTitle
	}
	var keyRec *holderKeyRecord
	switch pt.KeyOrigin {
	case KeyDevice:
		if len(in.CSR) == 0 {
			return nil, fieldErr("csr", "is required for an on-device product")
		}
		req.CSR = in.CSR
	default:
		if len(in.CSR) != 0 {
			return nil, fieldErr("csr", "remote signature keys are generated by the platform")
		}
	}
	var tickets []*ca.Ticket
	if pt.Authentication {
		sig, auth, err := p.issuer.PreparePair(ctx, ca.PairRequest{Signature: req, Authentication: ca.Request{Profile: ca.Authentication, CSR: in.CSR}})
		if err != nil {
			return nil, wrap("product.issue", err)
		}
		tickets = []*ca.Ticket{sig, auth}
	} else {
		if pt.KeyOrigin == KeyRemote {
			pub, rec, err := p.holderKey(ctx, productID)
			if err != nil {
				return nil, err
			}
			req.PublicKey, keyRec = pub, &rec
		}
		t, err := p.issuer.Prepare(ctx, req)
		if err != nil {
			return nil, wrap("product.issue", err)
		}
		tickets = []*ca.Ticket{t}
	}

	// Phase one: the intents are durable before the key signs.
	intents := make([]store.Command, len(tickets))
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = newID("in-")
		intents[i] = store.PrepareIntent{Intent: store.IntentRecord{ID: ids[i], OrgID: oc.order.OrgID, OrderID: orderID,
			Issuer: p.issuerID, Serial: t.SerialNumber.Bytes(), Profile: t.Profile, CreatedAt: now}}
	}
	// The activation codes and their envelopes do not depend on the
	// certificate: they are sealed while the intents are being committed
	// (the commit waits on the Raft log's fsync, the sealing on the CPU).
	committed := make(chan error, 1)
	go func() {
		_, err := p.apply(ctx, "product.issue", intents...)
		committed <- err
	}()
	codes, codesErr := p.sealCodes(ctx, pt, orderID, productID, oc.order.OrgID, pp, now)
	if err := <-committed; err != nil {
		return nil, err
	}
	abandon := func(reason string) {
		cmds := make([]store.Command, len(ids))
		for i, id := range ids {
			cmds[i] = store.AbandonIntent{IntentID: id, Reason: reason}
		}
		if _, err := p.store.Apply(context.WithoutCancel(ctx), &store.Batch{Commands: cmds}); err != nil {
			p.log.Error("abandoning issuance intents failed", logattr.OrderID, orderID, "err", err)
		}
	}
	if codesErr != nil {
		abandon(codesErr.reason)
		return nil, codesErr.err
	}

	// Phase two: sign, then store the product with everything it carries.
	issued := make([]*x509.Certificate, len(tickets))
	for i, t := range tickets {
		is, err := p.issuer.Sign(ctx, t)
		if err != nil {
			abandon("signing failed")
			return nil, wrap("product.issue", err)
		}
		issued[i] = is.Certificate
	}
	tr, err := p.machine.Apply(oc.state, lifecycle.ActionIssue, operatorActor(oc.aop),
		lifecycle.Input{NotAfter: store.NormalizeTime(issued[0].NotAfter)}, now)
	if err != nil {
		abandon("transition refused")
		return nil, wrap("product.issue", err)
	}
	// Every blob of the product (certificates, vault record, envelopes,
	// holder key) is committed with the batch that refers to them.
	refs := make([]blobRef, 0, len(issued)+4)
	for _, c := range issued {
		refs = append(refs, blobRef{data: c.Raw})
	}
	sentAt := len(refs)
	if len(codes.refs) > 0 {
		sentAt++ // past the vault record
	}
	refs = append(refs, codes.refs...)
	if keyRec != nil {
		b, err := json.Marshal(keyRec)
		if err != nil {
			abandon("holder key not stored")
			return nil, &Error{Op: "product.issue", Err: err}
		}
		refs = append(refs, blobRef{data: b, ref: store.EnvelopeRef{ID: holderKeyID(orderID), OrgID: oc.order.OrgID,
			OrderID: orderID, ProductID: productID, Format: formatHolderKey, CreatedAt: now}})
	}
	envCmds, err := p.putRefs(ctx, "product.issue", refs)
	if err != nil {
		abandon("product blobs not stored")
		return nil, err
	}
	product := store.Product{ID: productID, OrgID: oc.order.OrgID, OrderID: orderID, HolderID: oc.holder.ID,
		ProductType: pt.ID, IssuedAt: now}
	for i, c := range issued {
		product.Certificates = append(product.Certificates, store.Certificate{Issuer: p.issuerID,
			Serial: c.SerialNumber.Bytes(), NotBefore: store.NormalizeTime(c.NotBefore),
			NotAfter: store.NormalizeTime(c.NotAfter), CertificateBlob: refs[i].ref.Blob})
	}
	cmds := append([]store.Command{store.CompleteIntent{Product: product}}, envCmds...)
	if err := p.commit(ctx, oc, tr, digest(in), cmds...); err != nil {
		abandon("product not stored")
		return nil, err
	}
	p.deliver(ctx, envelopeID(orderID, 1), productID, oc.holder, codes.envs)
	p.log.Info("product issued", logattr.OrderID, orderID, logattr.ProductID, productID, logattr.Actor, oc.aop.ID)
	// The answer is what was just committed, as GetProduct would read it
	// back: the certificates are at hand, not read again from the store.
	out := &Product{ID: productID, OrderID: orderID, Org: oc.order.OrgID, HolderID: oc.holder.ID, Type: pt.ID,
		Status: tr.To, IssuedAt: store.NormalizeTime(now)}
	for i, c := range issued {
		pc := product.Certificates[i]
		out.Certificates = append(out.Certificates, Certificate{SerialNumber: new(big.Int).SetBytes(pc.Serial),
			NotBefore: pc.NotBefore, NotAfter: pc.NotAfter, DER: c.Raw})
	}
	for _, r := range refs[sentAt : sentAt+len(codes.envs)] {
		out.Envelopes = append(out.Envelopes, EnvelopeRef{ID: r.ref.ID, Format: r.ref.Format, Blob: r.ref.Blob,
			CreatedAt: store.NormalizeTime(r.ref.CreatedAt)})
	}
	return out, nil
}

// loadProduct loads the order of product id for actor a. In v1 an order
// carries one product, so id may also be the order's ID: the product
// actions on an order that has no product yet are then refused by the
// transition table (ErrTransition) rather than not found.
func (p *Platform) loadProduct(ctx context.Context, a Actor, id string) (*orderCtx, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	orderID := id
	pr, err := snap.Product(id)
	switch {
	case err == nil:
		orderID = pr.OrderID
	case !isNotFound(err):
		snap.Close()
		return nil, wrap("product", err)
	}
	oc, err := p.loadOrderIn(snap, a, orderID)
	if err != nil {
		snap.Close()
		if errors.Is(err, ErrNotFound) {
			return nil, notFound("product", id)
		}
		return nil, err
	}
	return oc, nil
}

// GetProduct returns a product of the operator's organisation, with its
// certificates and envelope references; id is the product's ID or its
// order's.
func (p *Platform) GetProduct(ctx context.Context, a Actor, id string) (*Product, error) {
	oc, err := p.loadProduct(ctx, a, id)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	if err := p.authorizeRead(ctx, oc.aop, oc.order.OrgID, id); err != nil {
		return nil, err
	}
	if oc.product == nil {
		return nil, notFound("product", id)
	}
	return p.productView(ctx, oc)
}

func (p *Platform) productView(ctx context.Context, oc *orderCtx) (*Product, error) {
	pr := oc.product
	out := &Product{ID: pr.ID, OrderID: pr.OrderID, Org: pr.OrgID, HolderID: pr.HolderID, Type: pr.ProductType,
		Status: oc.state.Status, IssuedAt: pr.IssuedAt, Suspension: oc.state.Suspension, Revocation: oc.state.Revocation}
	for _, c := range pr.Certificates {
		der, err := p.store.Blobs().Get(ctx, c.CertificateBlob)
		if err != nil {
			return nil, wrap("product", err)
		}
		out.Certificates = append(out.Certificates, Certificate{SerialNumber: new(big.Int).SetBytes(c.Serial),
			NotBefore: c.NotBefore, NotAfter: c.NotAfter, DER: der})
	}
	envs, err := sentEnvelopes(oc.snap, pr.OrderID)
	if err != nil {
		return nil, wrap("product", err)
	}
	for _, e := range envs {
		out.Envelopes = append(out.Envelopes, EnvelopeRef{ID: e.ID, Format: e.Format, Blob: e.Blob, CreatedAt: e.CreatedAt})
	}
	return out, nil
}

// Envelope returns the bytes of a product's stored envelope (ciphertext,
// safe to hand out).
func (p *Platform) Envelope(ctx context.Context, a Actor, productID, envelopeRef string) ([]byte, error) {
	pr, err := p.GetProduct(ctx, a, productID)
	if err != nil {
		return nil, err
	}
	for _, e := range pr.Envelopes {
		if e.ID == envelopeRef {
			b, err := p.store.Blobs().Get(ctx, e.Blob)
			return b, wrap("envelope", err)
		}
	}
	return nil, notFound("envelope", envelopeRef)
}

// ResendEnvelope seals the product's activation codes again under a new
// passphrase and hands the new envelope to the mailer (Manuale operatore,
// "Encrypted enveloped resend"; RAO only, active products). The codes come
// from the vault: they are the same codes.
func (p *Platform) ResendEnvelope(ctx context.Context, a Actor, productID string, choice PassphraseChoice) (*Product, error) {
	oc, err := p.loadProduct(ctx, a, productID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	tr, err := p.decide(ctx, oc, lifecycle.ActionResendEnvelope, lifecycle.Input{}, now)
	if err != nil {
		return nil, err
	}
	ref, err := oc.snap.Envelope(vaultID(oc.order.ID))
	if isNotFound(err) {
		return nil, fmt.Errorf("%w: product %q has no activation codes", ErrTransition, productID)
	}
	if err != nil {
		return nil, wrap("product.resend_envelope", err)
	}
	pp, err := p.passphrase(choice, oc.holder.TaxCode)
	if err != nil {
		return nil, err
	}
	b, err := p.store.Blobs().Get(ctx, ref.Blob)
	if err != nil {
		return nil, wrap("product.resend_envelope", err)
	}
	rec, err := envelope.ParseRecord(b)
	if err != nil {
		return nil, wrap("product.resend_envelope", err)
	}
	codes, err := p.vault.Open(ctx, productID, rec)
	if err != nil {
		return nil, wrap("product.resend_envelope", err)
	}
	sent, err := sentEnvelopes(oc.snap, oc.order.ID)
	if err != nil {
		return nil, wrap("product.resend_envelope", err)
	}
	n := len(sent) + 1
	if len(sent) > 0 {
		n = refNumber(sent[len(sent)-1].ID, oc.order.ID, ".n") + 1
	}
	envs, refs, err := p.seal(ctx, oc.order.ID, productID, oc.order.OrgID, n, codes, pp, now)
	if err != nil {
		return nil, err
	}
	cmds, err := p.putRefs(ctx, "product.resend_envelope", refs)
	if err != nil {
		return nil, err
	}
	if err := p.commit(ctx, oc, tr, digest(productID), cmds...); err != nil {
		return nil, err
	}
	p.deliver(ctx, envelopeID(oc.order.ID, n), productID, oc.holder, envs)
	return p.GetProduct(ctx, a, productID)
}
