package registra_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// offlineUploads are the uploads of an Offline recognition of order id.
func offlineUploads(id string) []recognition.Upload {
	return []recognition.Upload{
		{Kind: recognition.KindDocumentFront, Name: "front.jpg", Data: recognitiontest.JPEG("front " + id)},
		{Kind: recognition.KindDocumentBack, Name: "back.png", Data: recognitiontest.PNG("back " + id)},
		{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: recognitiontest.PDF("request form " + id)},
		{Kind: recognition.KindReport, Name: "report.pdf", Data: recognitiontest.PDF("report " + id)},
	}
}

// submittedOrder creates and submits Order(i) in org.
func submittedOrder(t *testing.T, env *testEnv, org string, i int, edit func(*registra.OrderInput)) *registra.Order {
	t.Helper()
	ctx := context.Background()
	op := env.User(org, access.RoleOperator)
	in := env.Order(i)
	if edit != nil {
		edit(&in)
	}
	o, err := env.P.CreateDraft(ctx, op.Actor, in)
	require.NoError(t, err)
	o, err = env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	return o
}

// evidenceRefs returns the number of evidence references of an order
// (application data included).
func evidenceRefs(t *testing.T, env *testEnv, orderID string) int {
	t.Helper()
	snap, err := env.P.Store().Snapshot(context.Background())
	require.NoError(t, err)
	defer snap.Close()
	refs, err := snap.OrderEvidence(orderID)
	require.NoError(t, err)
	return len(refs)
}

func TestRecogniseOffline(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := openEnv(t)
	officer := &recognition.Officer{ID: userName(orgA, access.RoleRAO), GivenName: "Anna", Surname: "Bianchi",
		TaxCode: "BNCNNA80A41H501R", Role: recognition.RoleRAO}

	tests := []struct {
		name    string
		role    access.Role
		officer *recognition.Officer
		by      string // recognised_by in the manifest
	}{
		{name: "rao", role: access.RoleRAO, by: userName(orgA, access.RoleRAO)},
		{name: "ir with officer", role: access.RoleIR, officer: officer, by: officer.ID},
		{name: "master rao", role: access.RoleMasterRAO, by: userName(orgA, access.RoleMasterRAO)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := submittedOrder(t, env, orgA, 10+i, nil)
			u := env.User(orgA, tc.role)
			got, err := env.P.Recognise(ctx, u.Actor, o.ID, recognition.Submission{
				Officer: tc.officer, Uploads: offlineUploads(o.ID)})
			require.NoError(t, err)
			assert.Equal(t, lifecycle.StatusToIssue, got.Status)

			// The stored bundle is sealed by the platform's evidence key and
			// verifies offline against the platform's root.
			snap, err := env.P.Store().Snapshot(ctx)
			require.NoError(t, err)
			defer snap.Close()
			ref, err := snap.Evidence(o.ID + ".e")
			require.NoError(t, err)
			assert.Equal(t, "offline", ref.Method)
			require.Len(t, ref.Blobs, 5) // signature + four artefacts
			sig, err := env.P.Store().Blobs().Get(ctx, ref.Blobs[0])
			require.NoError(t, err)
			sealed := &recognition.Sealed{Signature: sig, Artefacts: map[recognition.Digest][]byte{}}
			for _, h := range ref.Blobs[1:] {
				d, err := recognition.ParseDigest(h)
				require.NoError(t, err)
				sealed.Artefacts[d], err = env.P.Store().Blobs().Get(ctx, h)
				require.NoError(t, err)
			}
			roots := x509.NewCertPool()
			roots.AddCert(env.P.Hierarchy().Root())
			vb, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: roots})
			require.NoError(t, err)
			assert.True(t, vb.Sealer.Equal(env.P.EvidenceSealCertificate()))
			assert.Equal(t, o.ID, vb.Manifest.OrderID)
			assert.Equal(t, u.Username, vb.Manifest.Operator.ID)
			assert.Equal(t, recognition.Role(tc.role.String()), vb.Manifest.Operator.Role)
			assert.Equal(t, tc.by, vb.Manifest.Attributes["recognised_by"])
			assert.Equal(t, o.Input.Applicant.TaxCode, vb.Manifest.Applicant.TaxCode)
		})
	}
}

func TestRecogniseRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := openEnv(t)
	rao := env.User(orgA, access.RoleRAO)
	o := submittedOrder(t, env, orgA, 1, nil)
	signID := submittedOrder(t, env, orgA, 2, func(in *registra.OrderInput) { in.Method = recognition.MethodSignID })
	liveID := submittedOrder(t, env, orgA, 3, func(in *registra.OrderInput) { in.Method = recognition.MethodLiveID })
	refs := evidenceRefs(t, env, o.ID)

	without := func(kind recognition.ArtefactKind) []recognition.Upload {
		var out []recognition.Upload
		for _, u := range offlineUploads(o.ID) {
			if u.Kind != kind {
				out = append(out, u)
			}
		}
		return out
	}
	wrongType := offlineUploads(o.ID)
	wrongType[2].Data = []byte("plain text, not a PDF")

	tests := []struct {
		name    string
		actor   registra.Actor
		orderID string
		uploads []recognition.Upload
		wantErr error
	}{
		{name: "missing signed form", actor: rao.Actor, orderID: o.ID, uploads: without(recognition.KindSignedPaperForm), wantErr: recognition.ErrInvalidInput},
		{name: "missing report", actor: rao.Actor, orderID: o.ID, uploads: without(recognition.KindReport), wantErr: recognition.ErrInvalidInput},
		{name: "wrong type", actor: rao.Actor, orderID: o.ID, uploads: wrongType, wantErr: registra.ErrInvalidInput},
		{name: "plain operator without officer", actor: env.User(orgA, access.RoleOperator).Actor, orderID: o.ID, uploads: offlineUploads(o.ID), wantErr: recognition.ErrInvalidInput},
		{name: "other organisation", actor: env.User(orgB, access.RoleRAO).Actor, orderID: o.ID, uploads: offlineUploads(o.ID), wantErr: registra.ErrNotFound},
		{name: "sign id unavailable", actor: rao.Actor, orderID: signID.ID, uploads: offlineUploads(signID.ID), wantErr: registra.ErrInvalidInput},
		{name: "live id not from uploads", actor: rao.Actor, orderID: liveID.ID, uploads: offlineUploads(liveID.ID), wantErr: registra.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := env.P.Recognise(ctx, tc.actor, tc.orderID, recognition.Submission{Uploads: tc.uploads})
			require.ErrorIs(t, err, tc.wantErr)
			if errors.Is(tc.wantErr, recognition.ErrInvalidInput) {
				require.ErrorIs(t, err, registra.ErrInvalidInput)
			}
		})
	}
	// Nothing changed.
	for _, id := range []string{o.ID, signID.ID, liveID.ID} {
		got, err := env.P.GetOrder(ctx, rao.Actor, id)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusToIdentify, got.Status)
	}
	assert.Equal(t, refs, evidenceRefs(t, env, o.ID))

	// A recognised order cannot be recognised again.
	_, err := env.P.Recognise(ctx, rao.Actor, o.ID, recognition.Submission{Uploads: offlineUploads(o.ID)})
	require.NoError(t, err)
	_, err = env.P.Recognise(ctx, rao.Actor, o.ID, recognition.Submission{Uploads: offlineUploads(o.ID)})
	require.ErrorIs(t, err, registra.ErrTransition)
}

// TestRecogniseOfflineByOperator: a plain operator records an Offline
// recognition by uploading the signed form and the recognition report and
// naming the recognising officer, a registered IR or RAO of their
// organisation (Manuale operatore, "Offline Recognition Product Request":
// "Operator (no RAO): enters the request, uploads the contract and the
// recognition report signed by the RAO/IR (appropriately registered) also
// indicating personal information"). Nothing else is open to them.
func TestRecogniseOfflineByOperator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := openEnv(t)
	op := env.User(orgA, access.RoleOperator)
	rao := env.User(orgA, access.RoleRAO)
	officer := func(id string, role recognition.Role) *recognition.Officer {
		return &recognition.Officer{ID: id, GivenName: "Anna", Surname: "Bianchi", TaxCode: "BNCNNA80A41H501R", Role: role}
	}

	for i, tc := range []struct {
		name    string
		officer *recognition.Officer
	}{
		{name: "rao", officer: officer(userName(orgA, access.RoleRAO), recognition.RoleRAO)},
		{name: "ir", officer: officer(userName(orgA, access.RoleIR), recognition.RoleIR)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := submittedOrder(t, env, orgA, 20+i, nil)
			refs := evidenceRefs(t, env, o.ID)
			got, err := env.P.Recognise(ctx, op.Actor, o.ID, recognition.Submission{Officer: tc.officer, Uploads: offlineUploads(o.ID)})
			require.NoError(t, err)
			assert.Equal(t, lifecycle.StatusToIssue, got.Status)
			assert.Equal(t, refs+1, evidenceRefs(t, env, o.ID))
			_, events := fingerprintOf(t, env, o.ID)
			last := events[len(events)-1]
			assert.Equal(t, "order.record_recognition", last.Action)
			assert.Equal(t, op.Actor.OperatorID, last.ActorID)
			assert.Contains(t, last.Details, `"outcome":"done"`)
			// The evidence records the uploader as an operator and the
			// officer as the recogniser.
			m := storedManifest(t, env, o.ID)
			assert.Equal(t, op.Username, m.Operator.ID)
			assert.Equal(t, recognition.RoleOperator, m.Operator.Role)
			assert.Equal(t, tc.officer.ID, m.Attributes["recognised_by"])
		})
	}

	// Once the officer's tax code is registered, the officer is named with
	// it: the register decides, not the uploader.
	registered := "VRDLCU80A01H501G"
	_, err := env.P.UpdateOperator(ctx, env.User(orgA, access.RoleMasterRAO).Actor, userName(orgA, access.RoleRAO),
		registra.OperatorUpdate{TaxCode: &registered})
	require.NoError(t, err)
	o := submittedOrder(t, env, orgA, 30, nil)
	signID := submittedOrder(t, env, orgA, 31, func(in *registra.OrderInput) { in.Method = recognition.MethodSignID })
	liveID := submittedOrder(t, env, orgA, 32, func(in *registra.OrderInput) { in.Method = recognition.MethodLiveID })
	refs := evidenceRefs(t, env, o.ID)
	tests := []struct {
		name      string
		orderID   string
		do        func(id string) error
		wantErr   error
		wantField string // for ErrInvalidInput: the field named
	}{
		{name: "no officer", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer",
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{Uploads: offlineUploads(id)})
				return err
			}},
		{name: "officer without tax code", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer.tax_code",
			do: func(id string) error {
				of := officer(userName(orgA, access.RoleRAO), recognition.RoleRAO)
				of.TaxCode = ""
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{Officer: of, Uploads: offlineUploads(id)})
				return err
			}},
		{name: "officer named with another tax code than registered", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer.tax_code",
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer(userName(orgA, access.RoleRAO), recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
		{name: "unregistered officer", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer.id",
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer("nobody", recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
		{name: "officer of another organisation", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer.id",
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer(userName(orgB, access.RoleRAO), recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
		{name: "officer not in a recognising role", orderID: o.ID, wantErr: registra.ErrInvalidInput, wantField: "officer.role",
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer(userName(orgA, access.RoleOperator), recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
		{name: "sealed bundle", orderID: o.ID, wantErr: registra.ErrPermission,
			do: func(id string) error {
				got, err := env.P.GetOrder(ctx, rao.Actor, id)
				require.NoError(t, err)
				_, err = env.P.RecordRecognition(ctx, op.Actor, id, env.Evidence(t, rao, got))
				return err
			}},
		{name: "sign id", orderID: signID.ID, wantErr: registra.ErrPermission,
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer(userName(orgA, access.RoleRAO), recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
		{name: "live id", orderID: liveID.ID, wantErr: registra.ErrPermission,
			do: func(id string) error {
				_, err := env.P.Recognise(ctx, op.Actor, id, recognition.Submission{
					Officer: officer(userName(orgA, access.RoleRAO), recognition.RoleRAO), Uploads: offlineUploads(id)})
				return err
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := fingerprintOf(t, env, tc.orderID)
			err := tc.do(tc.orderID)
			require.ErrorIs(t, err, tc.wantErr)
			after, events := fingerprintOf(t, env, tc.orderID)
			if tc.wantField != "" {
				assert.Equal(t, tc.wantField, namedField(t, err))
			}
			if errors.Is(tc.wantErr, registra.ErrPermission) {
				// Only the refusal is recorded.
				require.Equal(t, before.events+1, after.events)
				last := events[len(events)-1]
				assert.Equal(t, "order.record_recognition", last.Action)
				assert.Contains(t, last.Details, `"outcome":"refused"`)
				after.events--
			}
			assert.Equal(t, before, after, "a refused recognition changed something")
		})
	}
	for _, id := range []string{o.ID, signID.ID, liveID.ID} {
		got, err := env.P.GetOrder(ctx, rao.Actor, id)
		require.NoError(t, err)
		assert.Equal(t, lifecycle.StatusToIdentify, got.Status)
	}
	assert.Equal(t, refs, evidenceRefs(t, env, o.ID))
}

// storedManifest returns the manifest of the sealed evidence stored for
// an order, verified against the platform's root.
func storedManifest(t *testing.T, env *testEnv, orderID string) *recognition.Manifest {
	t.Helper()
	ctx := context.Background()
	snap, err := env.P.Store().Snapshot(ctx)
	require.NoError(t, err)
	defer snap.Close()
	ref, err := snap.Evidence(orderID + ".e")
	require.NoError(t, err)
	require.NotEmpty(t, ref.Blobs)
	sig, err := env.P.Store().Blobs().Get(ctx, ref.Blobs[0])
	require.NoError(t, err)
	sealed := &recognition.Sealed{Signature: sig, Artefacts: map[recognition.Digest][]byte{}}
	for _, h := range ref.Blobs[1:] {
		d, err := recognition.ParseDigest(h)
		require.NoError(t, err)
		sealed.Artefacts[d], err = env.P.Store().Blobs().Get(ctx, h)
		require.NoError(t, err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(env.P.Hierarchy().Root())
	vb, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: roots})
	require.NoError(t, err)
	return vb.Manifest
}

// namedField returns the field an ErrInvalidInput names: the platform's
// own *FieldError, or the recognition package's.
func namedField(t *testing.T, err error) string {
	t.Helper()
	if fe, ok := errors.AsType[*registra.FieldError](err); ok {
		return fe.Field
	}
	fe, ok := errors.AsType[*recognition.FieldError](err)
	require.True(t, ok, "no field named in %v", err)
	return fe.Field
}

// TestEvidenceSealKey checks the platform's evidence key and certificate:
// the ca.EvidenceSeal profile, issued by the issuing CA, a software key of
// mode 0600 under the data directory, both reused on reopen.
func TestEvidenceSealKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newTestClock(testStart)
	dir := t.TempDir()
	p, err := registra.Open(ctx, envConfig(dir, clock, nil))
	require.NoError(t, err)
	c := p.EvidenceSealCertificate()
	require.NoError(t, c.CheckSignatureFrom(p.Hierarchy().Issuing()))
	assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, c.KeyUsage)
	assert.Empty(t, c.ExtKeyUsage)
	assert.Equal(t, "registra Evidence Seal", c.Subject.CommonName)
	assert.Equal(t, testStart.Add(ca.EvidenceSeal.DefaultValidity), c.NotAfter)
	fi, err := os.Stat(filepath.Join(dir, "evidence", "seal.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, p.Close())

	p, err = registra.Open(ctx, envConfig(dir, clock, nil))
	require.NoError(t, err)
	assert.True(t, c.Equal(p.EvidenceSealCertificate()), "the certificate is issued once")
	require.NoError(t, p.Close())

	// Once expired, the certificate is replaced for the same key.
	clock.Advance(ca.EvidenceSeal.DefaultValidity + time.Hour)
	p, err = registra.Open(ctx, envConfig(dir, clock, nil))
	require.NoError(t, err)
	renewed := p.EvidenceSealCertificate()
	assert.False(t, c.Equal(renewed))
	assert.True(t, renewed.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(c.PublicKey), "the key is kept")
	assert.Equal(t, clock.Now(), renewed.NotBefore)
	require.NoError(t, p.Close())

	// A readable key file is refused, and nothing is rewritten.
	require.NoError(t, os.Chmod(filepath.Join(dir, "evidence", "seal.key"), 0o644))
	_, err = registra.Open(ctx, envConfig(dir, clock, nil))
	require.ErrorContains(t, err, "group and others must have no access")
}

// scanVerdict is a Scanner with a fixed verdict (the ClamAV scanner is
// tested against a real clamd in package recognition).
type scanVerdict struct{ clean bool }

func (s scanVerdict) Scan(_ context.Context, r io.Reader) (recognition.ScanResult, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return recognition.ScanResult{}, err
	}
	if !s.clean {
		return recognition.ScanResult{Threat: "Test.Threat", Engine: "verdict"}, nil
	}
	return recognition.ScanResult{Clean: true, Engine: "verdict"}, nil
}

// TestRecogniseSignID recognises from the applicant's qualified signature
// when the platform has a Sign ID configuration; an infected file or another
// signer is refused and changes nothing.
func TestRecogniseSignID(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now()
	qroot := recognitiontest.NewRoot(t, "Qualified Test Root", start.AddDate(-2, 0, 0), start.AddDate(10, 0, 0))
	qca := qroot.NewIntermediate(t, "Qualified Test CA")
	crl := qca.CRL(t, start.Add(-time.Hour), start.Add(48*time.Hour), start.Add(-time.Hour))
	verdict := &scanVerdict{clean: true}
	var scanner recognition.Scanner = verdict
	// SignP7M stamps the real time as the signing time, so the Sign ID
	// verifier reads the real clock while the platform keeps its test clock.
	env := openEnv(t, withConfig(func(c *registra.Config) {
		c.SignID = &recognition.SignIDConfig{Roots: qroot.Pool(), CRLs: recognition.StaticCRLs{crl}, Scanner: scanner, Now: time.Now}
	}))
	rao := env.User(orgA, access.RoleRAO)
	o := submittedOrder(t, env, orgA, 1, func(in *registra.OrderInput) { in.Method = recognition.MethodSignID })
	a := o.Input.Applicant
	person := recognitiontest.Person{GivenName: a.FirstName, Surname: a.Surname, TaxCode: a.TaxCode, Qualified: true,
		NonRepudiation: true, NotBefore: start.AddDate(-1, 0, 0), NotAfter: start.AddDate(1, 0, 0)}
	cert, key := qca.Issue(t, person)
	form := recognitiontest.PDF("request form " + o.ID)
	p7m := recognitiontest.SignP7M(t, form, cert, key, qca.Chain(), recognitiontest.SignOptions{})
	other := person
	other.GivenName = "Someone"
	ocert, okey := qca.Issue(t, other)
	upload := func(b []byte) recognition.Submission {
		return recognition.Submission{Uploads: []recognition.Upload{{Kind: recognition.KindSignedForm, Name: "form.pdf.p7m", Data: b},
			{Kind: recognition.KindDocumentBoth, Name: "document.jpg", Data: recognitiontest.JPEG("document " + o.ID)}}}
	}

	_, err := env.P.Recognise(ctx, rao.Actor, o.ID, upload(recognitiontest.SignP7M(t, form, ocert, okey, qca.Chain(), recognitiontest.SignOptions{})))
	require.ErrorIs(t, err, recognition.ErrIdentityMismatch)
	require.ErrorIs(t, err, registra.ErrInvalidInput)
	tampered := append([]byte(nil), p7m...)
	i := bytes.Index(tampered, []byte("request form"))
	require.Positive(t, i)
	tampered[i] ^= 1
	_, err = env.P.Recognise(ctx, rao.Actor, o.ID, upload(tampered))
	require.ErrorIs(t, err, recognition.ErrVerification)
	verdict.clean = false
	_, err = env.P.Recognise(ctx, rao.Actor, o.ID, upload(p7m))
	require.ErrorIs(t, err, recognition.ErrInfected)
	verdict.clean = true
	refs := evidenceRefs(t, env, o.ID)
	got, err := env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIdentify, got.Status)

	got, err = env.P.Recognise(ctx, rao.Actor, o.ID, upload(p7m))
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIssue, got.Status)
	assert.Equal(t, refs+1, evidenceRefs(t, env, o.ID))
}

// TestEvidenceTrustIsTheSealOnly checks that trusting the platform's own
// evidence seal does not make every certificate of its CA an evidence seal
// when Config.EvidenceRoots names another CA: a bundle sealed with another
// certificate of the platform's issuing CA is refused.
func TestEvidenceTrustIsTheSealOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := openEnv(t)
	rao := env.User(orgA, access.RoleRAO)
	o := submittedOrder(t, env, orgA, 1, nil)
	h := env.P.Hierarchy()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: "Not The Seal"},
		NotBefore: env.Now().Add(-time.Hour), NotAfter: env.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, h.Issuing(), key.Public(), h.IssuingSigner())
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Chain: h.Chain(), Key: key})
	require.NoError(t, err)
	env.Sealer = sealer
	_, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(t, rao, o))
	require.ErrorIs(t, err, recognition.ErrVerification)
	got, err := env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	assert.Equal(t, lifecycle.StatusToIdentify, got.Status)
}
