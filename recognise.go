package registra

import (
	"context"
	"slices"
	"strings"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/store"
)

// evidenceID is the ID of an order's recognition evidence reference.
func evidenceID(orderID string) string { return orderID + ".e" }

// RecordRecognition records the applicant's recognition (to_identify →
// to_issue) from a sealed evidence bundle made by package recognition's
// verifiers and Sealer. The bundle is verified offline against the evidence
// roots (Config.EvidenceRoots, and the platform's own evidence seal
// certificate); its manifest must name this order, the
// order's recognition method and applicant (tax code and names), the
// operator's organisation, pass every check and include the privacy
// consent; a usage-limited recognition (SPID) is accepted only for a
// usage-limited product. The manifest signature and every artefact are
// stored as blobs, by their SHA-256, with an evidence reference.
//
// Recording a bundle needs access.PermRecordRecognition (IR, RAO, master
// RAO): a plain operator's access.PermUploadOfflineRecognition covers only
// the Offline uploads of [Platform.Recognise].
func (p *Platform) RecordRecognition(ctx context.Context, a Actor, orderID string, sealed *recognition.Sealed) (*Order, error) {
	return p.recordRecognition(ctx, a, orderID, sealed, access.PermRecordRecognition)
}

// recordRecognition is RecordRecognition through permission via (see
// [Platform.decideRecognition]): access.PermUploadOfflineRecognition
// accepts Offline evidence only, access.PermRelayRemoteRecognition Video ID
// and SPID evidence only.
func (p *Platform) recordRecognition(ctx context.Context, a Actor, orderID string, sealed *recognition.Sealed, via access.Permission) (*Order, error) {
	oc, err := p.loadOrder(ctx, a, orderID)
	if err != nil {
		return nil, err
	}
	defer oc.snap.Close()
	now := p.clock()
	tr, err := p.decideRecognition(ctx, oc, via, now)
	if err != nil {
		return nil, err
	}
	if sealed == nil {
		return nil, fieldErr("evidence", "is required")
	}
	vb, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: p.evidence})
	if err != nil {
		return nil, wrap("order.record_recognition", err)
	}
	in, _, err := p.application(ctx, oc.snap, orderID)
	if err != nil {
		return nil, err
	}
	pt, _ := p.product(in.ProductType)
	if err := checkManifest(vb.Manifest, oc, in, pt); err != nil {
		return nil, err
	}
	switch m := vb.Manifest.Method; {
	case via == access.PermUploadOfflineRecognition && m != recognition.MethodOffline:
		return nil, fieldErr("evidence.method", "only an offline recognition may be uploaded without order.record_recognition")
	case via == access.PermRelayRemoteRecognition && m != recognition.MethodVideoID && m != recognition.MethodSPID:
		return nil, fieldErr("evidence.method", "only a video id or spid recognition may be relayed without order.record_recognition")
	}
	digests := make([]recognition.Digest, 0, len(sealed.Artefacts))
	for d := range sealed.Artefacts {
		digests = append(digests, d)
	}
	slices.SortFunc(digests, func(x, y recognition.Digest) int { return strings.Compare(x.String(), y.String()) })
	if len(digests) > 63 {
		return nil, fieldErr("evidence.artefacts", "at most 63 artefacts")
	}
	// The signature first, then the artefacts by digest: small ones are
	// committed with the record, larger ones made durable before it.
	refs := make([]blobRef, 0, 1+len(digests))
	refs = append(refs, blobRef{data: sealed.Signature})
	for _, d := range digests {
		refs = append(refs, blobRef{data: sealed.Artefacts[d]})
	}
	cmds, err := p.putRefs(ctx, "order.record_recognition", refs)
	if err != nil {
		return nil, err
	}
	blobs := make([]string, len(refs))
	for i, r := range refs {
		blobs[i] = r.ref.Blob
	}
	ref := store.EvidenceRef{ID: evidenceID(orderID), OrgID: oc.order.OrgID, OrderID: orderID,
		Method: vb.Manifest.Method.String(), Blobs: blobs, CreatedAt: now}
	// The applicant's steps, if any, go with the record they led to.
	cmds = append(cmds, store.PutEvidence{Evidence: ref}, store.DeleteSteps{OrderID: orderID})
	if err := p.commit(ctx, oc, tr, "sha256:"+recognition.DigestOf(sealed.Signature).String(), cmds...); err != nil {
		return nil, err
	}
	return p.GetOrder(ctx, a, orderID)
}

// checkManifest binds a verified manifest to the order it is recorded for.
func checkManifest(m *recognition.Manifest, oc *orderCtx, in OrderInput, pt ProductType) error {
	switch {
	case m.OrderID != oc.order.ID:
		return fieldErr("evidence.order_id", "names another order")
	case m.Method != in.Method:
		return fieldErr("evidence.method", "is not the order's recognition method "+in.Method.String())
	case !m.Passed():
		return fieldErr("evidence.checks", "a check did not pass")
	case !strings.EqualFold(m.Applicant.TaxCode, oc.holder.TaxCode):
		return fieldErr("evidence.applicant.tax_code", "is not the applicant's")
	case recognition.FoldName(m.Applicant.GivenName) != recognition.FoldName(oc.holder.FirstName) ||
		recognition.FoldName(m.Applicant.Surname) != recognition.FoldName(oc.holder.Surname):
		return fieldErr("evidence.applicant", "names another person")
	case m.Operator.Org != "" && m.Operator.Org != oc.order.OrgID:
		return fieldErr("evidence.operator.org", "is another organisation")
	case m.UsageLimited && pt.Profile.UsageLimitation == "":
		return fieldErr("evidence.usage_limited", "a usage-limited recognition needs a usage-limited product")
	}
	privacy := slices.ContainsFunc(m.Consents, func(c recognition.Consent) bool {
		return c.Name == recognition.ConsentPrivacy && c.Given
	})
	if !privacy {
		return fieldErr("evidence.consents", "the privacy consent is mandatory")
	}
	return nil
}
