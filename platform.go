package registra

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// Platform is the partner platform: it opens a data directory (the store
// and the CA hierarchy), and runs the RA workflow — orders, recognition,
// issuance, envelopes, suspension, revocation, search — for operators
// authenticated with a password and TOTP. Every method that acts for an
// operator takes the [Actor] that [Platform.Authenticate] returned. It is
// safe for concurrent use.
type Platform struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	store     store.Store
	node      *store.Node
	hierarchy *ca.Hierarchy
	issuer    *ca.Issuer
	issuerID  string
	machine   *lifecycle.Machine
	auth      *access.Authenticator
	hashes    *hashGate // bounds auth's and vault's Argon2id hashes
	vault     *envelope.Vault
	kek       envelope.KEK
	cms       *envelope.CMS
	pdf       *envelope.PDF
	catalogue []ProductType
	evidence  *x509.CertPool
	holderID  string // the scheduler's lease holder name
	pub       *publication
	rec       *recognisers // recognition from uploads (recognise_method.go)

	wake      chan struct{}
	wakeMu    sync.Mutex
	wakeAt    time.Time // the earliest automatic event announced since the last look
	closeOnce sync.Once
}

// Open opens the platform in cfg.Dir, creating the store, the CA hierarchy
// and the vault key on first use. Later opens reuse them and check them
// (a foreign or corrupt directory is refused unchanged).
func Open(ctx context.Context, cfg Config) (*Platform, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Platform{cfg: cfg, log: cfg.Logger, now: cfg.Now, wake: make(chan struct{}, 1)}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.catalogue = cfg.Catalogue
	if p.catalogue == nil {
		p.catalogue = DefaultCatalogue()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	ok := false
	defer func() {
		if !ok {
			p.Close() //nolint:errcheck // the open error is reported
		}
	}()

	sc := cfg.Store
	if sc.Dir == "" {
		sc.Dir = filepath.Join(cfg.Dir, "store")
	}
	if sc.Now == nil {
		sc.Now = p.now
	}
	if sc.Logger == nil {
		sc.Logger = p.log
	}
	node, err := store.Open(ctx, sc)
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	p.node, p.store = node, node
	if err := node.WaitLeader(ctx); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}

	org := cfg.Organization
	if org == "" {
		org = "registra"
	}
	linter, err := ca.NewLinter()
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	base := cfg.publicURL()
	h, err := ca.OpenHierarchy(ctx, ca.HierarchyConfig{Dir: filepath.Join(cfg.Dir, "ca"), KeyManager: cfg.KeyManager,
		KeyNames: cfg.CAKeyNames, Organization: org, IssuingCertURL: base + "/ca/issuing.crt",
		RootCertURL: base + "/ca/root.crt", Linter: linter, Now: p.now, Logger: p.log})
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	p.hierarchy = h
	ic := cfg.issuerConfig(h, p.now, p.log)
	ic.Linter = linter
	if p.issuer, err = ca.NewIssuer(ic); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	sum := sha256.Sum256(h.Issuing().Raw)
	p.issuerID = "ca-" + hex.EncodeToString(sum[:16])

	if p.machine, err = lifecycle.NewMachine(cfg.Lifecycle); err != nil {
		return nil, &Error{Op: "open", Kind: ErrInvalidInput, Err: err}
	}
	p.hashes = newHashGate(cfg.SlowHashes)
	ac := cfg.Access
	if ac.Gate == nil {
		ac.Gate = p.hashes
	}
	if ac.Issuer == "" {
		ac.Issuer = "registra"
	}
	if ac.Logger == nil {
		ac.Logger = p.log
	}
	if p.auth, err = access.NewAuthenticator(ac); err != nil {
		return nil, &Error{Op: "open", Kind: ErrInvalidInput, Err: err}
	}

	kf, err := envelope.OpenKeyFile(envelope.KeyFileConfig{Dir: filepath.Join(cfg.Dir, "vault")})
	if err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	p.kek = kf
	if p.vault, err = envelope.NewVault(envelope.VaultConfig{KEK: kf, Hash: cfg.VaultHash, Gate: vaultGate{p.hashes}, Logger: p.log}); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	if p.cms, err = envelope.NewCMS(cfg.CMS); err != nil {
		return nil, &Error{Op: "open", Kind: ErrInvalidInput, Err: err}
	}
	if p.pdf, err = envelope.NewPDF(envelope.PDFConfig{Now: p.now}); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	if err := p.openPublication(); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	p.evidence = cfg.EvidenceRoots
	if p.evidence == nil {
		p.evidence = x509.NewCertPool()
		p.evidence.AddCert(h.Root())
	}
	// Recognition from uploads: evidence seal and verifiers (recognise_method.go).
	if p.rec, err = p.openRecognisers(ctx); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	p.holderID = "platform-" + newID("")
	ok = true
	return p, nil
}

// Close stops the platform and closes the store. Further calls fail.
func (p *Platform) Close() error {
	var err error
	p.closeOnce.Do(func() {
		if p.store != nil {
			err = p.store.Close()
		}
	})
	return err
}

// Health reports whether the platform can serve: the store answers reads
// and takes writes.
func (p *Platform) Health(ctx context.Context) error {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	snap.Close()
	if err := p.store.Health(); err != nil {
		return wrap("health", err)
	}
	return nil
}

// Hierarchy returns the CA hierarchy: root, issuing CA and OCSP signer.
func (p *Platform) Hierarchy() *ca.Hierarchy { return p.hierarchy }

// Catalogue returns the product catalogue.
func (p *Platform) Catalogue() []ProductType {
	out := make([]ProductType, len(p.catalogue))
	copy(out, p.catalogue)
	return out
}

// Store returns the platform's store, for adapters that read it directly
// (metrics, backups). Writes must go through the Platform's methods.
func (p *Platform) Store() store.Store { return p.store }

// product returns the catalogue entry with id.
func (p *Platform) product(id string) (ProductType, bool) {
	for _, pt := range p.catalogue {
		if pt.ID == id {
			return pt, true
		}
	}
	return ProductType{}, false
}

// clock returns now in the form the store keeps: UTC, microseconds.
func (p *Platform) clock() time.Time { return store.NormalizeTime(p.now()) }

// notifyAt tells the scheduler loop that an automatic transition (a hold's
// end, an expiry) falls due at t, so that it wakes then if that is earlier
// than its next pass. It never blocks.
func (p *Platform) notifyAt(t time.Time) {
	p.wakeMu.Lock()
	if p.wakeAt.IsZero() || t.Before(p.wakeAt) {
		p.wakeAt = t
	}
	p.wakeMu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// takeWakeAt returns and clears the earliest announced event.
func (p *Platform) takeWakeAt() time.Time {
	p.wakeMu.Lock()
	defer p.wakeMu.Unlock()
	t := p.wakeAt
	p.wakeAt = time.Time{}
	return t
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix followed by 80 random bits in lower-case base32.
func newID(prefix string) string {
	var b [10]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(fmt.Sprintf("registra: reading random bytes: %v", err)) // crypto/rand never fails (Go 1.24+)
	}
	return prefix + idEncoding.EncodeToString(b[:])
}

// digest returns the SHA-256 of the JSON encoding of an input, for the
// audit trail: inputs are recorded by digest only, and secret fields are
// excluded from the encoding (json:"-").
func digest(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable"
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// auditDetails is the JSON of an audit event's Details.
type auditDetails struct {
	Outcome string `json:"outcome"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Input   string `json:"input,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Unit    string `json:"unit,omitempty"`
	// Change is the ID of the status change committed with the event: the
	// CRL publisher reads the change log through it.
	Change string `json:"change,omitempty"`
}

// Audit outcomes.
const (
	outcomeDone    = "done"
	outcomeRefused = "refused"
)

// auditEvent returns an AppendAudit command.
func auditEvent(org, actorID, action, subject string, at time.Time, d auditDetails) store.Command {
	b, _ := json.Marshal(d) //nolint:errchkjson // plain strings
	return store.AppendAudit{Event: store.AuditEvent{OrgID: org, At: at, ActorID: actorID, Action: action,
		Subject: subject, Details: string(b)}}
}

// refuse records a refused authorisation in the audit trail and returns
// err classified. The refusal is audited in its own batch: nothing else
// changes.
func (p *Platform) refuse(ctx context.Context, op, org, actorID, subject string, err error) error {
	rule := err.Error()
	if len(rule) > 1000 {
		rule = rule[:1000]
	}
	_, aerr := p.store.Apply(ctx, &store.Batch{Commands: []store.Command{
		auditEvent(org, actorID, op, subject, p.clock(), auditDetails{Outcome: outcomeRefused, Rule: rule}),
	}})
	if aerr != nil {
		p.log.Error("audit of a refusal failed", "op", op, "err", aerr)
	}
	return wrap(op, err)
}

// apply commits a batch and classifies its error.
func (p *Platform) apply(ctx context.Context, op string, cmds ...store.Command) (*store.Result, error) {
	r, err := p.store.Apply(ctx, &store.Batch{Commands: cmds})
	if err != nil {
		return nil, wrap(op, err)
	}
	return r, nil
}

// snapshot opens a read view.
func (p *Platform) snapshot(ctx context.Context) (store.Snapshot, error) {
	s, err := p.store.Snapshot(ctx)
	if err != nil {
		return nil, wrap("read", err)
	}
	return s, nil
}

// isNotFound reports a store lookup that found nothing.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// joinRoles encodes roles in the store's operator record.
func joinRoles(rs []access.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.String()
	}
	return strings.Join(s, ",")
}

// splitRoles decodes joinRoles.
func splitRoles(s string) ([]access.Role, error) {
	var rs []access.Role
	for _, f := range strings.Split(s, ",") {
		r, err := access.ParseRole(f)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}
