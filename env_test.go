package registra_test

// Test support for the root package's tests: a platform in a temporary
// directory with cheap password and vault parameters, a pinned clock that
// tests move, two organisations with one operator of every role each, valid
// applicants, and sealed recognition evidence the platform accepts.
//
// It would be a registratest package for the adapters' tests too, but the
// import rules (importgraph_test.go) do not yet let a test-support package
// import the root.

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	registra "github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/access/accesstest"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/internal/taxcode"
	"github.com/registra-pki/registra/recognition"
	"github.com/registra-pki/registra/recognition/recognitiontest"
)

// Organisations made by openEnv.
const (
	orgA = "ACME"
	orgB = "OTHER"
)

// testStart is where the testClock of Open starts.
var testStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testClock is a clock tests move by hand. It is safe for concurrent use.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

// newTestClock returns a clock at t.
func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

// Now returns the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testUser is an operator made by Open, logged in.
type testUser struct {
	Username string
	Org      string
	Role     access.Role
	Secret   access.TOTPSecret
	Actor    registra.Actor
	Session  *registra.Session
}

// testEnv is an opened platform with its organisations and operators.
type testEnv struct {
	P *registra.Platform
	// Clock is the platform's clock, nil when the platform uses the real
	// (or synctest's virtual) clock.
	Clock *testClock
	// EvidenceCA is the test CA whose evidence-sealing certificate seals the
	// recognition bundles of Evidence; the platform trusts its root.
	EvidenceCA *recognitiontest.CA
	Sealer     *recognition.Sealer
	// Dir is the platform's data directory.
	Dir string
	// Admin is the bootstrap admin (of orgA).
	Admin testUser
	users map[string]testUser
}

// envOption changes the platform's configuration before Open.
type envOption func(*registra.Config)

// withConfig changes any field of the configuration.
func withConfig(f func(*registra.Config)) envOption { return envOption(f) }

// realClock makes the platform use time.Now (for tests under
// testing/synctest, whose clock is virtual).
func realClock() envOption { return func(c *registra.Config) { c.Now = nil } }

// envConfig returns the configuration openEnv uses for dir: cheap Argon2id for
// passwords and vault hashes, the minimum PBKDF2 iterations, the clock, and
// evidence trusted from ca (nil: Open's evidence CA).
func envConfig(dir string, clock *testClock, ca *recognitiontest.CA) registra.Config {
	cfg := registra.Config{
		Dir:       dir,
		Access:    access.Config{Password: accesstest.CheapParams()},
		VaultHash: envelope.HashParams{Time: 1, MemoryKiB: 64, Threads: 1},
		CMS:       envelope.CMSConfig{Iterations: envelope.MinIterations},
	}
	if ca != nil {
		cfg.EvidenceRoots = x509.NewCertPool()
		cfg.EvidenceRoots.AddCert(ca.Root())
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	return cfg
}

// openEnv opens a platform in a temporary directory with two organisations
// (orgA, orgB), each with a main unit "main" and one operator of every
// workflow role (operator, ir, rao, master_rao), all logged in; orgA also
// has the bootstrap admin. The platform is closed when the test ends.
func openEnv(t testing.TB, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	clock := newTestClock(testStart)
	dir := t.TempDir()
	cfg := envConfig(dir, clock, nil)
	for _, o := range opts {
		o(&cfg)
	}
	base := testStart
	if cfg.Now == nil {
		base = time.Now()
	}
	evca := recognitiontest.NewRoot(t, "Evidence Test CA", base.AddDate(-1, 0, 0), base.AddDate(10, 0, 0))
	if cfg.EvidenceRoots == nil {
		cfg.EvidenceRoots = x509.NewCertPool()
		cfg.EvidenceRoots.AddCert(evca.Root())
	}
	env := &testEnv{EvidenceCA: evca, Dir: cfg.Dir, users: map[string]testUser{}}
	if cfg.Now != nil {
		env.Clock = clock
	}
	p, err := registra.Open(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() }) //nolint:errcheck // closing at the end of a test
	env.P = p
	evCert, evKey := evca.IssueEvidenceCert(t)
	env.Sealer, err = recognition.NewSealer(recognition.SealerConfig{Certificate: evCert, Key: evKey})
	require.NoError(t, err)

	units := []registra.Unit{{ID: "main", Name: "Main office"}, {ID: "branch", Name: "Branch", Parent: "main"}}
	enr, err := p.Bootstrap(ctx, registra.BootstrapInput{
		Organisation: registra.Organisation{ClientCode: orgA, Name: "Acme S.p.A.", Units: units},
		Admin:        registra.OperatorInput{Username: "admin", Name: "Admin", Password: accesstest.Password},
	})
	require.NoError(t, err)
	admin := registra.Actor{OperatorID: "admin"}
	require.NoError(t, p.CreateOrganisation(ctx, admin, registra.Organisation{ClientCode: orgB, Name: "Other S.r.l.", Units: units}))
	env.Admin = testUser{Username: "admin", Org: orgA, Role: access.RoleAdmin, Secret: enr.Secret}

	// Enrol everyone at one instant, then log in one TOTP step later: a
	// code of the enrolment's step would be a replay.
	var pending []testUser
	for _, org := range []string{orgA, orgB} {
		for _, role := range []access.Role{access.RoleOperator, access.RoleIR, access.RoleRAO, access.RoleMasterRAO} {
			u := testUser{Username: userName(org, role), Org: org, Role: role}
			_, e, err := p.CreateOperator(ctx, admin, registra.OperatorInput{Org: org, Username: u.Username,
				Name: role.String() + " of " + org, Roles: []access.Role{role}, Unit: "main", Password: accesstest.Password})
			require.NoError(t, err)
			u.Secret = e.Secret
			require.NoError(t, p.ConfirmTOTP(ctx, u.Username, accesstest.Password, accesstest.Code(t, u.Secret, now(env))))
			pending = append(pending, u)
		}
	}
	env.Advance(30 * time.Second)
	for _, u := range append(pending, env.Admin) {
		s, err := p.Login(ctx, u.Username, accesstest.Password, accesstest.Code(t, u.Secret, now(env)))
		require.NoError(t, err)
		u.Session, u.Actor = s, s.Actor
		if u.Role == access.RoleAdmin {
			env.Admin = u
			continue
		}
		env.users[u.Username] = u
	}
	return env
}

func now(env *testEnv) time.Time {
	if env.Clock != nil {
		return env.Clock.Now()
	}
	return time.Now()
}

// Advance moves the platform's clock: the test clock, or (under synctest)
// the virtual clock by sleeping.
func (env *testEnv) Advance(d time.Duration) {
	if env.Clock != nil {
		env.Clock.Advance(d)
		return
	}
	time.Sleep(d)
}

// Now returns the platform's current time.
func (env *testEnv) Now() time.Time { return now(env) }

func userName(org string, role access.Role) string {
	return fmt.Sprintf("%s.%s", role, strings.ToLower(org))
}

// testUser returns the operator of org with role.
func (env *testEnv) User(org string, role access.Role) testUser {
	u, ok := env.users[userName(org, role)]
	if !ok {
		panic("registratest: no user " + userName(org, role))
	}
	return u
}

// applicant returns a valid applicant, distinct for each i (e-mail, mobile,
// names and tax code), born in Rome, whose document is valid at testStart.
func applicant(i int) registra.Applicant { return applicantAt(i, testStart) }

// applicantAt is Applicant with a document valid at now.
func applicantAt(i int, now time.Time) registra.Applicant {
	given := []string{"Mario", "Nicolò", "Giulia", "Anna", "Luca", "Chiara", "Paolo", "Sara"}[i%8]
	surname := []string{"Rossi", "D'Annunzio", "Bianchi", "Verdi", "Esposito", "Romano", "Colombo", "Ricci"}[(i/8)%8]
	sex, s := taxcode.Male, "M"
	if i%8 == 2 || i%8 == 3 || i%8 == 5 || i%8 == 7 {
		sex, s = taxcode.Female, "F"
	}
	born := time.Date(1960+i%40, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
	code, err := taxcode.Compute(taxcode.Person{Surname: surname, GivenName: given, BirthDate: born, Sex: sex, Place: "H501"})
	if err != nil {
		panic(err)
	}
	return registra.Applicant{
		TaxCode: code.String(), FirstName: given, Surname: surname, Sex: s, BirthDate: born, BirthPlace: "H501",
		Document: registra.Document{Country: "IT", Type: "identity_card", Number: fmt.Sprintf("CA%05dAB", i),
			IssuedOn: now.AddDate(-2, 0, 0), ExpiresOn: now.AddDate(8, 0, 0)},
		Residence: registra.Address{Street: "Via Roma 1", PostalCode: "00100", City: "Roma", Province: "RM", Country: "IT"},
		Email:     fmt.Sprintf("holder%d@example.org", i), Mobile: fmt.Sprintf("+39340%07d", i),
		PrivacyConsent: true,
	}
}

// orderInput returns a complete order input for a remote signature product
// recognised offline, for Applicant(i).
func orderInput(i int) registra.OrderInput { return orderInputAt(i, testStart) }

// orderInputAt is Order with an applicant's document valid at now.
func orderInputAt(i int, now time.Time) registra.OrderInput {
	return registra.OrderInput{ProductType: registra.ProductRemoteSignature, Method: recognition.MethodOffline,
		Applicant: applicantAt(i, now), ExternalCode: fmt.Sprintf("EXT-%d", i)}
}

// Order returns Order(i) valid at the platform's current time.
func (env *testEnv) Order(i int) registra.OrderInput { return orderInputAt(i, env.Now()) }

// Evidence returns a sealed Offline recognition bundle for an order of the
// platform, recognised by the operator u: what recognition's Offline
// verifier and Sealer produce from the uploads.
func (env *testEnv) Evidence(t testing.TB, u testUser, o *registra.Order) *recognition.Sealed {
	t.Helper()
	return env.EvidenceForm(t, u, o, recognitiontest.PDF("request form "+o.ID))
}

// EvidenceForm is Evidence with form as the signed paper request form.
func (env *testEnv) EvidenceForm(t testing.TB, u testUser, o *registra.Order, form []byte) *recognition.Sealed {
	t.Helper()
	a := o.Input.Applicant
	v, err := recognition.NewOffline(recognition.OfflineConfig{Now: env.Now})
	require.NoError(t, err)
	ev, err := v.Verify(context.Background(), recognition.Submission{
		OrderID: o.ID,
		Applicant: recognition.Applicant{TaxCode: a.TaxCode, GivenName: a.FirstName, Surname: a.Surname,
			DateOfBirth: a.BirthDate.Format(time.DateOnly), Email: a.Email, Mobile: a.Mobile},
		Operator: recognition.Operator{ID: u.Username, Name: u.Username, Role: recognition.Role(u.Role.String()), Org: u.Org, Unit: "main"},
		Consents: []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: a.PrivacyConsent}},
		Uploads: []recognition.Upload{
			{Kind: recognition.KindDocumentFront, Name: "front.jpg", Data: recognitiontest.JPEG("front " + o.ID)},
			{Kind: recognition.KindDocumentBack, Name: "back.png", Data: recognitiontest.PNG("back " + o.ID)},
			{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: form},
			{Kind: recognition.KindReport, Name: "report.pdf", Data: recognitiontest.PDF("report " + o.ID)},
		},
	})
	require.NoError(t, err)
	sealed, err := env.Sealer.Seal(context.Background(), &ev)
	require.NoError(t, err)
	return sealed
}

// testPassphrase is the custom envelope passphrase tests use.
const testPassphrase envelope.Passphrase = "correct-horse-battery"

// Issued takes Applicant(i) through the whole workflow in org: draft,
// submit, recognition, issuance of a remote signature product. It returns
// the order and the product.
func (env *testEnv) Issued(t testing.TB, org string, i int) (*registra.Order, *registra.Product) {
	t.Helper()
	return env.IssuedInput(t, org, env.Order(i))
}

// IssuedInput is Issued for an order input.
func (env *testEnv) IssuedInput(t testing.TB, org string, in registra.OrderInput) (*registra.Order, *registra.Product) {
	t.Helper()
	ctx := context.Background()
	op, rao := env.User(org, access.RoleOperator), env.User(org, access.RoleRAO)
	o, err := env.P.CreateDraft(ctx, op.Actor, in)
	require.NoError(t, err)
	_, err = env.P.Submit(ctx, op.Actor, o.ID)
	require.NoError(t, err)
	o, err = env.P.RecordRecognition(ctx, rao.Actor, o.ID, env.Evidence(t, rao, o))
	require.NoError(t, err)
	pr, err := env.P.Issue(ctx, rao.Actor, o.ID, registra.IssueInput{Passphrase: registra.PassphraseChoice{UseTaxCode: true}})
	require.NoError(t, err)
	o, err = env.P.GetOrder(ctx, rao.Actor, o.ID)
	require.NoError(t, err)
	return o, pr
}
