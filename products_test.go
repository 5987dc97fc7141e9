package registra_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	kmsapi "go.step.sm/crypto/kms/apiv1"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
	"github.com/registra-pki/registra/store"
)

// recognised returns an order of org taken to to_issue for input in.
func recognised(t *testing.T, env *testEnv, org string, in registra.OrderInput) *registra.Order {
	t.Helper()
	ctx := context.Background()
	op, rao := env.User(org, access.RoleOperator), env.User(org, access.RoleRAO)
	o, err := env.P.CreateDraft(ctx, op.Actor, in)
	require.NoError(t, err)
	_, err = env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	o, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(t, rao, o))
	require.NoError(t, err)
	return o
}

// TestIssueOnDevice: an on-device product is issued from the device's CSR
// as two certificates in one operation (signature and authentication),
// both for the device's key; issuance needs the CSR and refuses a bad one
// without changing anything.
func TestIssueOnDevice(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	in := orderInput(1)
	in.ProductType = registra.ProductDeviceSignature
	in.DeviceSerial = "TOKEN-0042"
	o := recognised(t, env, orgA, in)

	choice := registra.PassphraseChoice{Custom: testPassphrase, Confirm: testPassphrase}
	_, err := env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{Passphrase: choice})
	assert.Equal(t, "csr", fieldOf(t, err))
	_, err = env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{CSR: []byte("not a CSR"), Passphrase: choice})
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	_, err = env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{CSR: catest.CSR(t, catest.Key(t)),
		Passphrase: registra.PassphraseChoice{Custom: "short", Confirm: "short"}})
	require.ErrorIs(t, err, registra.ErrInvalidInput, "custom passphrases have a minimum length")
	_, err = env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{CSR: catest.CSR(t, catest.Key(t)),
		Passphrase: registra.PassphraseChoice{Custom: testPassphrase, Confirm: testPassphrase + "x"}})
	require.ErrorIs(t, err, registra.ErrInvalidInput, "the confirmation differs")
	got, err := env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	require.Equal(t, lifecycle.StatusToIssue, got.Status)

	key := catest.Key(t)
	pr, err := env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{CSR: catest.CSR(t, key), Passphrase: choice})
	require.NoError(t, err)
	require.Len(t, pr.Certificates, 2)
	sig, err := x509.ParseCertificate(pr.Certificates[0].DER)
	require.NoError(t, err)
	auth, err := x509.ParseCertificate(pr.Certificates[1].DER)
	require.NoError(t, err)
	assert.True(t, sig.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()))
	assert.True(t, auth.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()))
	assert.Equal(t, x509.KeyUsageContentCommitment, sig.KeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, auth.ExtKeyUsage)
	assert.NotEqual(t, sig.SerialNumber, auth.SerialNumber)
	pool := x509.NewCertPool()
	pool.AddCert(env.P.Hierarchy().Root())
	inter := x509.NewCertPool()
	inter.AddCert(env.P.Hierarchy().Issuing())
	_, err = sig.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}, CurrentTime: env.Now()})
	require.NoError(t, err)

	// The device envelope holds the PIN, the PUK and the emergency code.
	p7m, err := env.P.Envelope(ctx, rao.Actor, pr.ID, pr.Envelopes[0].ID)
	require.NoError(t, err)
	cms, err := envelope.NewCMS(envelope.CMSConfig{})
	require.NoError(t, err)
	codes, err := cms.Open(ctx, &envelope.Envelope{Data: p7m}, testPassphrase)
	require.NoError(t, err)
	assert.Equal(t, []envelope.CodeName{envelope.SigningPIN, envelope.PUK, envelope.EmergencyCode}, codes.Names())

	// Both serials are listed while suspended: the store keeps one CRL
	// entry per certificate.
	_, err = env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: env.Now().AddDate(0, 0, 3), Contract: []byte("c")})
	require.NoError(t, err)
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	sp, err := snap.Product(pr.ID)
	require.NoError(t, err)
	n := 0
	require.NoError(t, snap.CRLEntries(sp.Certificates[0].Scope(), env.Now().Add(time.Hour),
		func(e store.CRLEntry) error {
			n++
			assert.Equal(t, int32(lifecycle.ReasonCertificateHold), e.ReasonCode)
			return nil
		}))
	assert.Equal(t, 2, n)
	require.NoError(t, snap.CheckInvariants())
}

// TestIssueRole: a role product carries the organisation, its identifier
// and the title in the subject (ETSI EN 319 412-1 §5.1.4).
func TestIssueRole(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	in := orderInput(2)
	in.ProductType = registra.ProductRemoteSignatureRole
	in.RoleOrganization, in.RoleOrganizationID, in.RoleTitle = "Acme S.p.A.", "VATIT-01234567890", "Direttore"
	_, pr := env.IssuedInput(t, orgA, in)
	cert, err := x509.ParseCertificate(pr.Certificates[0].DER)
	require.NoError(t, err)
	assert.Equal(t, []string{"Acme S.p.A."}, cert.Subject.Organization)
	var title, orgID string
	for _, n := range cert.Subject.Names {
		switch {
		case n.Type.Equal(ca.OIDTitle):
			title, _ = n.Value.(string)
		case n.Type.Equal(asn1.ObjectIdentifier(ca.OIDOrganizationIdentifier)):
			orgID, _ = n.Value.(string)
		}
	}
	assert.Equal(t, "Direttore", title)
	assert.Equal(t, "VATIT-01234567890", orgID)
}

// TestRecognitionChecks: a bundle is bound to its order, its method and
// its applicant, and must be sealed by a trusted key; a refused bundle
// changes nothing.
func TestRecognitionChecks(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	op, rao := env.User(orgA, access.RoleOperator), env.User(orgA, access.RoleRAO)
	submitted := func(i int, edit func(*registra.OrderInput)) *registra.Order {
		in := orderInput(i)
		if edit != nil {
			edit(&in)
		}
		o, err := env.P.CreateDraft(ctx, op.Actor, in)
		require.NoError(t, err)
		o, err = env.P.Submit(ctx, op.Actor, o.ID)
		require.NoError(t, err)
		return o
	}
	o1, o2 := submitted(1, nil), submitted(2, nil)
	liveID := submitted(3, func(in *registra.OrderInput) { in.Method = recognition.MethodLiveID })

	_, err := env.P.RecordRecognition(ctx, rao.Actor, o1.ID, env.Evidence(t, rao, o2))
	assert.Equal(t, "evidence.order_id", fieldOf(t, err))
	_, err = env.P.RecordRecognition(ctx, rao.Actor, liveID.ID, env.Evidence(t, rao, liveID))
	assert.Equal(t, "evidence.method", fieldOf(t, err))
	other := *o1
	other.Input.Applicant = applicant(9)
	_, err = env.P.RecordRecognition(ctx, rao.Actor, o1.ID, env.Evidence(t, rao, &other))
	assert.Equal(t, "evidence.applicant.tax_code", fieldOf(t, err))
	_, err = env.P.RecordRecognition(ctx, rao.Actor, o1.ID, nil)
	assert.Equal(t, "evidence", fieldOf(t, err))

	// A bundle sealed by an untrusted key, or altered, does not verify.
	stranger := openEnv(t)
	_, err = env.P.RecordRecognition(ctx, rao.Actor, o1.ID, stranger.Evidence(t, rao, o1))
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	require.ErrorIs(t, err, recognition.ErrVerification)
	sealed := env.Evidence(t, rao, o1)
	for d, b := range sealed.Artefacts {
		sealed.Artefacts[d] = append(b[:len(b):len(b)], '!')
		break
	}
	_, err = env.P.RecordRecognition(ctx, rao.Actor, o1.ID, sealed)
	require.ErrorIs(t, err, recognition.ErrVerification)

	got, err := env.P.GetOrder(ctx, rao.Actor, o1.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIdentify, got.Status)

	got, err = env.P.RecordRecognition(ctx, rao.Actor, o1.ID, env.Evidence(t, rao, o1))
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	ref, err := snap.Evidence(o1.ID + ".e")
	require.NoError(t, err)
	assert.Equal(t, "offline", ref.Method)
	assert.Len(t, ref.Blobs, 5, "the signed manifest and four artefacts")
	for _, h := range ref.Blobs {
		ok, err := env.P.Store().Blobs().Has(ctx, h)
		require.NoError(t, err)
		assert.True(t, ok)
	}
}

// TestRecognitionBlobs: the recorded evidence names the sealed signature
// and every artefact, each readable as it was uploaded, whether small
// enough to be committed with the record or stored before it (a scanned
// form larger than a batch takes).
func TestRecognitionBlobs(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	op, rao := env.User(orgA, access.RoleOperator), env.User(orgA, access.RoleRAO)
	for i, form := range map[int][]byte{
		1: recognitiontest.PDF("a short form"),
		2: recognitiontest.PDF("a scanned form " + strings.Repeat("0", store.MaxBatchBlob)),
	} {
		o, err := env.P.CreateDraft(ctx, op.Actor, orderInput(i))
		require.NoError(t, err)
		o, err = env.P.Submit(ctx, op.Actor, o.ID)
		require.NoError(t, err)
		sealed := env.EvidenceForm(t, rao, o, form)
		_, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, sealed)
		require.NoError(t, err)

		snap, err := env.P.Store().Snapshot(ctx)
		require.NoError(t, err)
		ref, err := snap.Evidence(o.ID + ".e")
		snap.Close()
		require.NoError(t, err)
		want := map[string][]byte{store.BlobHash(sealed.Signature): sealed.Signature}
		for d, b := range sealed.Artefacts {
			want[d.String()] = b
		}
		assert.ElementsMatch(t, slices.Collect(maps.Keys(want)), ref.Blobs)
		for _, h := range ref.Blobs {
			got, err := env.P.Store().Blobs().Get(ctx, h)
			require.NoError(t, err)
			assert.Equal(t, want[h], got)
		}
		assert.True(t, slices.ContainsFunc(ref.Blobs, func(h string) bool { return bytes.Equal(want[h], form) }))
	}
}

// TestSearch: every filter reaches the store's indexes within the
// operator's organisation; the search by personal data needs three
// parameters; the shortcut lists filter by status; results page.
func TestSearch(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	rao := env.User(orgA, access.RoleRAO)
	issued, pr := env.Issued(t, orgA, 1)
	env.Advance(time.Second)
	draft, err := env.P.CreateDraft(ctx, env.User(orgA, access.RoleOperator).Actor, orderInput(2))
	require.NoError(t, err)
	toIdentify := recognisedOrSubmitted(t, env, 3)
	_, err = env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterCertifier,
		Motivation: lifecycle.MotivationOfficeProcedure})
	require.NoError(t, err)
	a1 := issued.Input.Applicant

	one := func(q registra.SearchQuery) []string {
		page, err := env.P.Search(ctx, rao.Actor, q)
		require.NoError(t, err)
		var ids []string
		for _, h := range page.Hits {
			ids = append(ids, h.OrderID)
		}
		return ids
	}
	for name, q := range map[string]registra.SearchQuery{
		"order ID":      {OrderID: issued.ID},
		"user ID":       {UserID: issued.UserID},
		"external code": {ExternalCode: issued.Input.ExternalCode},
		"tax code":      {TaxCode: a1.TaxCode},
		"e-mail":        {Email: a1.Email},
		"mobile":        {Mobile: a1.Mobile},
		"IUT":           {IUT: issued.IUT},
		"surname+name":  {Surname: a1.Surname, FirstName: a1.FirstName},
		"activated":     {ActivatedFrom: testStart, ActivatedTo: env.Now().Add(time.Hour)},
		"status":        {Status: lifecycle.StatusRevoked},
		"personal data": {PersonalData: true, Surname: a1.Surname, FirstName: a1.FirstName, Email: a1.Email},
	} {
		assert.Equal(t, []string{issued.ID}, one(q), name)
	}
	assert.ElementsMatch(t, []string{issued.ID, draft.ID, toIdentify}, one(registra.SearchQuery{ProductType: registra.ProductRemoteSignature}))
	assert.ElementsMatch(t, []string{issued.ID, draft.ID, toIdentify},
		one(registra.SearchQuery{InputFrom: testStart, InputTo: env.Now(), OperatorID: env.User(orgA, access.RoleOperator).Username}))

	_, err = env.P.Search(ctx, rao.Actor, registra.SearchQuery{PersonalData: true, Surname: a1.Surname, FirstName: a1.FirstName})
	require.ErrorIs(t, err, registra.ErrInvalidInput, "personal data needs three parameters")

	for s, want := range map[registra.Shortcut][]string{
		registra.ShortcutToIdentify: {toIdentify}, registra.ShortcutToIssue: nil,
		registra.ShortcutActive: nil, registra.ShortcutRevoked: {issued.ID},
	} {
		page, err := env.P.List(ctx, rao.Actor, s, registra.SearchQuery{})
		require.NoError(t, err)
		var ids []string
		for _, h := range page.Hits {
			ids = append(ids, h.OrderID)
		}
		assert.Equal(t, want, ids, "shortcut %d", s)
	}

	// Paging: newest first, no row twice.
	var seen []string
	q := registra.SearchQuery{Limit: 1}
	for {
		page, err := env.P.Search(ctx, rao.Actor, q)
		require.NoError(t, err)
		for _, h := range page.Hits {
			seen = append(seen, h.OrderID)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	assert.Equal(t, []string{toIdentify, draft.ID, issued.ID}, seen)

	// An operator without the read permission does not exist here: every
	// role reads. An unknown shortcut is bad input.
	_, err = env.P.List(ctx, rao.Actor, registra.Shortcut(99), registra.SearchQuery{})
	require.ErrorIs(t, err, registra.ErrInvalidInput)
}

func recognisedOrSubmitted(t *testing.T, env *testEnv, i int) string {
	t.Helper()
	ctx := context.Background()
	op := env.User(orgA, access.RoleOperator)
	env.Advance(time.Second)
	o, err := env.P.CreateDraft(ctx, op.Actor, orderInput(i))
	require.NoError(t, err)
	_, err = env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	return o.ID
}

// outbox is a fake envelope.Mailer that records deliveries.
type outbox struct {
	mu         sync.Mutex
	deliveries []*envelope.Delivery
}

func (o *outbox) Enqueue(_ context.Context, d *envelope.Delivery) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deliveries = append(o.deliveries, d)
	return nil
}

// TestMailer: issuance and resend hand the sealed envelope and the
// holder's address to the Mailer, never a passphrase or a code.
func TestMailer(t *testing.T) {
	t.Parallel()
	box := &outbox{}
	env := openEnv(t, withConfig(func(c *registra.Config) { c.Mailer = box; c.PDFEnvelope = true }))
	ctx := context.Background()
	o, pr := env.Issued(t, orgA, 1)
	require.Len(t, box.deliveries, 1)
	d := box.deliveries[0]
	assert.Equal(t, o.Input.Applicant.Email, d.To)
	assert.Equal(t, pr.ID, d.ProductID)
	require.Len(t, d.Envelopes, 2, "the .p7m and the PDF")
	assert.Equal(t, envelope.FileNameCMS, d.Envelopes[0].FileName)
	assert.Equal(t, envelope.FileNamePDF, d.Envelopes[1].FileName)
	require.NoError(t, d.Validate())

	_, err := env.P.ResendEnvelope(ctx, env.User(orgA, access.RoleRAO).Actor, pr.ID,
		registra.PassphraseChoice{Custom: testPassphrase, Confirm: testPassphrase})
	require.NoError(t, err)
	require.Len(t, box.deliveries, 2)
	assert.NotEqual(t, d.ID, box.deliveries[1].ID)
	cms, err := envelope.NewCMS(envelope.CMSConfig{})
	require.NoError(t, err)
	_, err = cms.Open(ctx, box.deliveries[1].Envelopes[0], testPassphrase)
	require.NoError(t, err)
}

// TestIntentRecovery: an issuance intent left open by a crash is given up
// by the scheduler once it is old, and its serial stays reserved.
func TestIntentRecovery(t *testing.T) {
	t.Parallel()
	env := openEnv(t)
	ctx := context.Background()
	o := recognised(t, env, orgA, orderInput(1))
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	ord, err := snap.Order(o.ID)
	require.NoError(t, err)
	serial := []byte{0x42, 0x17}
	_, err = env.P.Store().Apply(ctx, &store.Batch{Commands: []store.Command{store.PrepareIntent{Intent: store.IntentRecord{
		ID: "in-crashed", OrgID: ord.OrgID, OrderID: o.ID, Issuer: "ca-test", Serial: serial, Profile: "qualified",
		CreatedAt: env.Now()}}}})
	require.NoError(t, err)

	rep, err := env.P.RunDue(ctx, env.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.Zero(t, rep.Abandoned, "too young")
	env.Advance(registra.IntentRecoveryAge + time.Second)
	rep, err = env.P.RunDue(ctx, env.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Abandoned)
	snap2, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap2.Close()
	in, err := snap2.Intent("in-crashed")
	require.NoError(t, err)
	assert.Equal(t, store.IntentAbandoned, in.State)
	_, err = env.P.Store().Apply(ctx, &store.Batch{Commands: []store.Command{store.PrepareIntent{Intent: store.IntentRecord{
		ID: "in-again", OrgID: ord.OrgID, OrderID: o.ID, Issuer: "ca-test", Serial: serial, CreatedAt: env.Now()}}}})
	require.ErrorIs(t, err, store.ErrConflict, "the serial stays reserved")

	// The order itself still issues.
	_, err = env.P.Issue(ctx, env.User(orgA, access.RoleRAO).Actor, o.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	require.NoError(t, err)
}

// TestKeyManager: with a key manager (an HSM), the CA keys and the holders'
// remote signature keys are made inside it under the configured names; the
// platform keeps only their names.
func TestKeyManager(t *testing.T) {
	t.Parallel()
	km := catest.NewKeyManager()
	env := openEnv(t, withConfig(func(c *registra.Config) {
		c.KeyManager = km
		c.CAKeyNames = ca.KeyNames{Root: "root", Issuing: "issuing", OCSP: "ocsp"}
		c.HolderKeyName = func(productID string) string { return "holder-" + productID }
	}))
	_, pr := env.Issued(t, orgA, 1)
	pub, err := km.GetPublicKey(&kmsapi.GetPublicKeyRequest{Name: "holder-" + pr.ID})
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(pr.Certificates[0].DER)
	require.NoError(t, err)
	assert.True(t, cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
	issuing, err := km.GetPublicKey(&kmsapi.GetPublicKeyRequest{Name: "issuing"})
	require.NoError(t, err)
	assert.True(t, env.P.Hierarchy().Issuing().PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(issuing))

	cfg := registra.Config{Dir: t.TempDir(), KeyManager: km, CAKeyNames: ca.KeyNames{Root: "r", Issuing: "i", OCSP: "o"}}
	err = cfg.Validate()
	assert.Equal(t, "Config.HolderKeyName", fieldOf(t, err))
}

// TestRevocationDating: revoking a suspended product dates the revocation
// back to the suspension's start (the Italian rule) unless
// Config.Lifecycle.DateRevocationAtRequest is set; the CRL entry carries
// that date.
func TestRevocationDating(t *testing.T) {
	t.Parallel()
	for _, atRequest := range []bool{false, true} {
		env := openEnv(t, withConfig(func(c *registra.Config) { c.Lifecycle.DateRevocationAtRequest = atRequest }))
		ctx := context.Background()
		rao := env.User(orgA, access.RoleRAO)
		_, pr := env.Issued(t, orgA, 1)
		suspended := env.Now()
		_, err := env.P.Suspend(ctx, rao.Actor, pr.ID, registra.SuspendInput{End: suspended.AddDate(0, 0, 10), Contract: []byte("c")})
		require.NoError(t, err)
		env.Advance(26 * time.Hour)
		pr, err = env.P.Revoke(ctx, rao.Actor, pr.ID, registra.RevokeInput{Requester: lifecycle.RequesterCertifier,
			Motivation: lifecycle.MotivationCertifiedDataChange})
		require.NoError(t, err)
		want := suspended
		if atRequest {
			want = env.Now()
		}
		require.NotNil(t, pr.Revocation)
		assert.Equal(t, want, pr.Revocation.RevocationTime, "at request: %v", atRequest)
		st, err := env.P.PublishCRLs(ctx, env.Now())
		require.NoError(t, err)
		require.NotEmpty(t, st.Published)
		e := entryOf(fetchCRL(t, env, registra.PathCRL), pr.Certificates[0].SerialNumber)
		require.NotNil(t, e)
		assert.Equal(t, want, e.RevocationTime.UTC())
		assert.Equal(t, int(lifecycle.ReasonAffiliationChanged), e.ReasonCode)
	}
}
