package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
)

// Fixture builds records in a store for tests, with unique IDs.
type Fixture struct {
	T      testing.TB
	S      store.Store
	Base   time.Time // a fixed reference time for input dates
	mu     sync.Mutex
	n      int
	orgs   map[string]bool
	ctx    context.Context
	Issuer string // issuer used for certificates
	// Prefix is put before every ID, so that several fixtures can share a
	// store.
	Prefix string
}

// NewFixture returns a fixture over s.
func NewFixture(t testing.TB, s store.Store) *Fixture {
	return &Fixture{T: t, S: s, Base: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), orgs: map[string]bool{},
		ctx: context.Background(), Issuer: "ca-qualified-1"}
}

// ID returns a new unique ID with prefix.
func (f *Fixture) ID(prefix string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	return fmt.Sprintf("%s%s-%d", f.Prefix, prefix, f.n)
}

func (f *Fixture) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// Apply applies commands and fails the test on error.
func (f *Fixture) Apply(cmds ...store.Command) *store.Result {
	f.T.Helper()
	r, err := f.S.Apply(f.ctx, &store.Batch{Commands: cmds})
	require.NoError(f.T, err)
	return r
}

// Snap opens a snapshot closed at the end of the test.
func (f *Fixture) Snap() store.Snapshot {
	f.T.Helper()
	s, err := f.S.Snapshot(f.ctx)
	require.NoError(f.T, err)
	return s
}

// Org creates an organisation with one unit and one operator, and returns
// the organisation ID and the operator ID.
func (f *Fixture) Org() (string, string) {
	f.T.Helper()
	org, unit, op := f.ID("org"), f.ID("unit"), f.ID("op")
	f.Apply(
		store.PutOrganisation{Organisation: store.Organisation{ID: org, Name: "Org " + org, ClientCode: "C" + org}},
		store.PutUnit{Unit: store.Unit{ID: unit, OrgID: org, Name: "Sede"}},
		store.PutOperator{Operator: store.Operator{ID: op, OrgID: org, UnitID: unit, Username: "user-" + op, Role: "rao"}},
	)
	return org, op
}

// Operator adds an operator to org.
func (f *Fixture) Operator(org string) string {
	f.T.Helper()
	op := f.ID("op")
	f.Apply(store.PutOperator{Operator: store.Operator{ID: op, OrgID: org, Username: "user-" + op, Role: "operator"}})
	return op
}

// Holder creates a holder identity with unique e-mail, mobile and IUT.
func (f *Fixture) Holder(first, surname, tax string) store.HolderIdentity {
	f.T.Helper()
	id := f.ID("h")
	h := store.HolderIdentity{ID: id, UserID: "u" + id, TaxCode: tax, FirstName: first, Surname: surname,
		Email: id + "@example.it", Mobile: fmt.Sprintf("+39%s%09d", f.Prefix, f.count()), IUT: "IUT" + id, CreatedAt: f.Base}
	r := f.Apply(store.PutHolder{Holder: h})
	h.Version = r.Index
	return h
}

// OrderSpec describes an order to create.
type OrderSpec struct {
	Org, Operator, Holder string
	ExternalCode          string
	ProductType           string
	Nickname              string
	DeviceSerial          string
	CreatedAt             time.Time
}

// Order creates an order in status to_identify and returns it.
func (f *Fixture) Order(s OrderSpec) store.Order {
	f.T.Helper()
	if s.ProductType == "" {
		s.ProductType = "firma-remota"
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = f.Base.Add(time.Duration(f.count()) * time.Minute)
	}
	o := store.Order{ID: f.ID("ord"), OrgID: s.Org, OperatorID: s.Operator, HolderID: s.Holder,
		ExternalCode: s.ExternalCode, ProductType: s.ProductType, Nickname: s.Nickname, DeviceSerial: s.DeviceSerial,
		CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt}
	r := f.Apply(store.PutOrder{Order: o, InitialStatus: store.StatusToIdentify})
	o.Version = r.Index
	return o
}

// Move changes an order's status from one status to another at a time.
func (f *Fixture) Move(orderID string, from, to store.Status, at time.Time) *store.Result {
	f.T.Helper()
	return f.Apply(f.Change(orderID, from, to, at))
}

// Change returns a ChangeStatus command with a fresh change ID.
func (f *Fixture) Change(orderID string, from, to store.Status, at time.Time) store.ChangeStatus {
	c := store.ChangeStatus{Change: store.StatusChange{ID: f.ID("chg"), OrderID: orderID, From: from, To: to, At: at, ReasonCode: -1}}
	switch to {
	case store.StatusSuspended, store.StatusRevoked:
		c.Change.Mode = store.PublicationNormal
		c.Change.Deadline = at.Add(24 * time.Hour)
		if to == store.StatusRevoked {
			c.Change.ReasonCode = 1
		}
	case store.StatusActive:
		if from == store.StatusToIssue {
			c.ActivatedAt = at
		} else {
			c.Change.Mode = store.PublicationNormal
			c.Change.Deadline = at.Add(24 * time.Hour)
		}
	}
	return c
}

// Serial returns a fresh 16-octet serial with the high bit set.
func (f *Fixture) Serial() []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "serial-%s", f.ID("s")))
	s := h[:16]
	s[0] |= 0x80
	return s
}

// BlobHash returns the hash of a made-up blob.
func BlobHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Issue takes an order in to_identify through to_issue, a committed intent,
// the product and activation at the given time, and returns the product.
func (f *Fixture) Issue(o store.Order, at time.Time, shard uint32) store.Product {
	f.T.Helper()
	f.Move(o.ID, store.StatusToIdentify, store.StatusToIssue, at.Add(-time.Minute))
	serial := f.Serial()
	f.Apply(store.PrepareIntent{Intent: store.IntentRecord{ID: f.ID("int"), OrgID: o.OrgID, OrderID: o.ID,
		Issuer: f.Issuer, Shard: shard, Serial: serial, Profile: "qualified", CreatedAt: at}})
	p := store.Product{ID: f.ID("prod"), OrgID: o.OrgID, OrderID: o.ID, HolderID: o.HolderID,
		ProductType: o.ProductType, IssuedAt: at, Certificates: []store.Certificate{{Issuer: f.Issuer, Shard: shard,
			Serial: serial, NotBefore: at, NotAfter: at.AddDate(3, 0, 0), CertificateBlob: BlobHash(o.ID)}}}
	r := f.Apply(store.CompleteIntent{Product: p}, f.Change(o.ID, store.StatusToIssue, store.StatusActive, at))
	p.Version = r.Index
	return p
}

// IsConflict fails the test unless err wraps store.ErrConflict.
func IsConflict(t testing.TB, err error) {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, errors.Is(err, store.ErrConflict), "want ErrConflict, got %v", err)
}
