package registra

import (
	"context"
	"fmt"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// SearchQuery searches the operator's organisation's orders and products
// (DESIGN.md "Search"; Manuale operatore, "Product and Order Research").
// Every set filter must match; text filters match whole values, case
// insensitively. Results come newest first.
type SearchQuery struct {
	// PersonalData selects the search by personal data, which needs at
	// least three filters (Manuale operatore: "entering at least three
	// search parameters").
	PersonalData bool

	OrderID      string
	UserID       string
	ExternalCode string
	// Status zero means any status.
	Status   lifecycle.Status
	Nickname string
	// ActivatedFrom and ActivatedTo (inclusive) form one filter; so do
	// InputFrom and InputTo.
	ActivatedFrom time.Time
	ActivatedTo   time.Time
	InputFrom     time.Time
	InputTo       time.Time
	ProductType   string
	TaxCode       string
	FirstName     string
	Surname       string
	Email         string
	Mobile        string
	OperatorID    string
	IUT           string
	DeviceSerial  string

	// Limit is the page size, 1-1000; zero means 50.
	Limit int
	// Cursor continues from SearchPage.Next.
	Cursor string
}

// Shortcut is one of the manual's shortcut lists.
type Shortcut uint8

// The shortcut lists of the search menu (Manuale operatore, "Product and
// Order Research": To identify, To be issued, Active, Revoked).
const (
	ShortcutToIdentify Shortcut = iota + 1
	ShortcutToIssue
	ShortcutActive
	ShortcutRevoked
)

// Status returns the status a shortcut list filters on.
func (s Shortcut) Status() lifecycle.Status {
	switch s {
	case ShortcutToIdentify:
		return lifecycle.StatusToIdentify
	case ShortcutToIssue:
		return lifecycle.StatusToIssue
	case ShortcutActive:
		return lifecycle.StatusActive
	case ShortcutRevoked:
		return lifecycle.StatusRevoked
	}
	return lifecycle.StatusNone
}

// SearchHit is one row of the result table: order ID, applicant/holder,
// user ID, status, product type and the rest of the manual's columns.
type SearchHit struct {
	OrderID      string
	ProductID    string
	Status       lifecycle.Status
	ProductType  string
	OperatorID   string
	Unit         string
	ExternalCode string
	Nickname     string
	HolderID     string
	UserID       string
	IUT          string
	TaxCode      string
	FirstName    string
	Surname      string
	Email        string
	Mobile       string
	CreatedAt    time.Time
	ActivatedAt  time.Time
}

// SearchPage is one page of results; Next is empty on the last page.
type SearchPage struct {
	Hits []SearchHit
	Next string
}

// Search runs a search in the operator's organisation.
func (p *Platform) Search(ctx context.Context, a Actor, q SearchQuery) (*SearchPage, error) {
	snap, err := p.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer snap.Close()
	_, aop, err := p.actor(snap, a)
	if err != nil {
		return nil, err
	}
	if err := access.Authorize(aop, access.PermOrderRead, aop.Org); err != nil {
		return nil, p.refuse(ctx, "order.search", aop.Org, aop.ID, "", err)
	}
	if q.Status != lifecycle.StatusNone && !q.Status.Valid() {
		return nil, fieldErr("query.status", "is not a status")
	}
	sq := store.SearchQuery{Org: aop.Org, PersonalData: q.PersonalData, OrderID: q.OrderID, UserID: q.UserID,
		ExternalCode: q.ExternalCode, Nickname: q.Nickname, ActivatedFrom: q.ActivatedFrom, ActivatedTo: q.ActivatedTo,
		InputFrom: q.InputFrom, InputTo: q.InputTo, ProductType: q.ProductType, TaxCode: q.TaxCode,
		FirstName: q.FirstName, Surname: q.Surname, Email: q.Email, Mobile: q.Mobile, OperatorID: q.OperatorID,
		IUT: q.IUT, DeviceSerial: q.DeviceSerial, Limit: q.Limit, Cursor: q.Cursor}
	if q.Status != lifecycle.StatusNone {
		sq.Status = store.Status(q.Status.String())
	}
	page, err := snap.Search(sq)
	if err != nil {
		return nil, wrap("order.search", err)
	}
	out := &SearchPage{Next: page.Next, Hits: make([]SearchHit, len(page.Hits))}
	for i, h := range page.Hits {
		out.Hits[i] = SearchHit{OrderID: h.Order.ID, ProductID: h.Status.ProductID, Status: statusOf(h.Status.Status),
			ProductType: h.Order.ProductType, OperatorID: h.Order.OperatorID, Unit: unitLocal(h.Order.OrgID, h.Order.UnitID),
			ExternalCode: h.Order.ExternalCode, Nickname: h.Order.Nickname, HolderID: h.Holder.ID, UserID: h.Holder.UserID,
			IUT: h.Holder.IUT, TaxCode: h.Holder.TaxCode, FirstName: h.Holder.FirstName, Surname: h.Holder.Surname,
			Email: h.Holder.Email, Mobile: h.Holder.Mobile, CreatedAt: h.Order.CreatedAt, ActivatedAt: h.Status.ActivatedAt}
	}
	return out, nil
}

// List runs a shortcut list (to identify, to be issued, active, revoked),
// optionally narrowed by q's other filters.
func (p *Platform) List(ctx context.Context, a Actor, s Shortcut, q SearchQuery) (*SearchPage, error) {
	st := s.Status()
	if st == lifecycle.StatusNone {
		return nil, fieldErr("shortcut", fmt.Sprintf("unknown shortcut %d", s))
	}
	q.Status = st
	return p.Search(ctx, a, q)
}
