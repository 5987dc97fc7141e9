package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/lifecycle"
)

// SearchFilters are the search filters of DESIGN.md ("Search") as query
// parameters, with paging.
type SearchFilters struct {
	PersonalData  bool   `query:"personal_data" doc:"Search by personal data: at least three filters are required."`
	OrderID       string `query:"order_id" maxLength:"64"`
	UserID        string `query:"user_id" maxLength:"64"`
	ExternalCode  string `query:"external_code" maxLength:"200"`
	Status        Status `query:"status"`
	Nickname      string `query:"nickname" maxLength:"200"`
	ActivatedFrom Date   `query:"activated_from" doc:"First activation date (inclusive)."`
	ActivatedTo   Date   `query:"activated_to" doc:"Last activation date (inclusive)."`
	InputFrom     Date   `query:"input_from" doc:"First input date (inclusive)."`
	InputTo       Date   `query:"input_to" doc:"Last input date (inclusive)."`
	ProductType   string `query:"product_type" maxLength:"64"`
	TaxCode       string `query:"tax_code" maxLength:"16"`
	FirstName     string `query:"first_name" maxLength:"200"`
	Surname       string `query:"surname" maxLength:"200"`
	Email         string `query:"email" maxLength:"254"`
	Mobile        string `query:"mobile" maxLength:"16"`
	OperatorID    string `query:"operator" maxLength:"64"`
	IUT           string `query:"iut" maxLength:"64" doc:"The holder's unique identifier (the certificate's dnQualifier)."`
	DeviceSerial  string `query:"device_serial" maxLength:"200"`
	Limit         int    `query:"limit" minimum:"0" maximum:"1000" doc:"Page size; 50 when zero."`
	Cursor        string `query:"cursor" maxLength:"512" doc:"The next value of the previous page."`
}

// UnmarshalText reads a query date; "" is the zero date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(dateLayout, string(b))
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// endOfDay makes an inclusive date bound cover the whole day.
func endOfDay(d Date) time.Time {
	if d.IsZero() {
		return time.Time{}
	}
	return d.Add(24*time.Hour - time.Nanosecond)
}

func (f *SearchFilters) query() (registra.SearchQuery, error) {
	q := registra.SearchQuery{PersonalData: f.PersonalData, OrderID: f.OrderID, UserID: f.UserID, ExternalCode: f.ExternalCode,
		Nickname: f.Nickname, ActivatedFrom: f.ActivatedFrom.Time, ActivatedTo: endOfDay(f.ActivatedTo), InputFrom: f.InputFrom.Time,
		InputTo: endOfDay(f.InputTo), ProductType: f.ProductType, TaxCode: f.TaxCode, FirstName: f.FirstName, Surname: f.Surname,
		Email: f.Email, Mobile: f.Mobile, OperatorID: f.OperatorID, IUT: f.IUT, DeviceSerial: f.DeviceSerial, Limit: f.Limit, Cursor: f.Cursor}
	if f.Status != "" {
		st, err := lifecycle.ParseStatus(string(f.Status))
		if err != nil {
			return q, err
		}
		q.Status = st
	}
	return q, nil
}

// SearchHitView is one row of a result.
type SearchHitView struct {
	OrderID      string    `json:"order_id"`
	ProductID    string    `json:"product_id,omitempty"`
	Status       Status    `json:"status"`
	ProductType  string    `json:"product_type"`
	OperatorID   string    `json:"operator"`
	Unit         string    `json:"unit"`
	ExternalCode string    `json:"external_code,omitempty"`
	Nickname     string    `json:"nickname,omitempty"`
	HolderID     string    `json:"holder_id"`
	UserID       string    `json:"user_id"`
	IUT          string    `json:"iut"`
	TaxCode      string    `json:"tax_code"`
	FirstName    string    `json:"first_name"`
	Surname      string    `json:"surname"`
	Email        string    `json:"email,omitempty"`
	Mobile       string    `json:"mobile,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ActivatedAt  time.Time `json:"activated_at,omitzero"`
}

// SearchOutput is one page of results.
type SearchOutput struct {
	Body struct {
		Hits []SearchHitView `json:"hits"`
		Next string          `json:"next,omitempty" doc:"Pass it as cursor for the next page; absent on the last page."`
	}
}

func searchOutput(pg *registra.SearchPage) *SearchOutput {
	out := &SearchOutput{}
	out.Body.Next = pg.Next
	out.Body.Hits = make([]SearchHitView, len(pg.Hits))
	for i, h := range pg.Hits {
		out.Body.Hits[i] = SearchHitView{OrderID: h.OrderID, ProductID: h.ProductID, Status: Status(h.Status.String()),
			ProductType: h.ProductType, OperatorID: h.OperatorID, Unit: h.Unit, ExternalCode: h.ExternalCode, Nickname: h.Nickname,
			HolderID: h.HolderID, UserID: h.UserID, IUT: h.IUT, TaxCode: h.TaxCode, FirstName: h.FirstName, Surname: h.Surname,
			Email: h.Email, Mobile: h.Mobile, CreatedAt: h.CreatedAt, ActivatedAt: h.ActivatedAt}
	}
	return out
}

// shortcuts maps the shortcut lists' wire names, the statuses they list,
// to the platform's shortcuts.
func shortcuts() map[string]registra.Shortcut {
	m := map[string]registra.Shortcut{}
	for s := registra.ShortcutToIdentify; s <= registra.ShortcutRevoked; s++ {
		m[s.Status().String()] = s
	}
	return m
}

// List is a shortcut list by its wire name.
type List string

// Schema lists the shortcut lists.
func (List) Schema(huma.Registry) *huma.Schema {
	s := enum("A shortcut list of the search menu: to identify, to be issued, active, revoked.")
	for s2 := registra.ShortcutToIdentify; s2 <= registra.ShortcutRevoked; s2++ {
		s.Enum = append(s.Enum, s2.Status().String())
	}
	return s
}

// ListInput asks for a shortcut list, narrowed by the search filters.
type ListInput struct {
	List List `path:"list"`
	SearchFilters
}

// ProductTypeView is a catalogue entry.
type ProductTypeView struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	KeyOrigin       string           `json:"key_origin" doc:"Where the key is made: remote (the platform's key manager) or device."`
	Profile         string           `json:"profile" doc:"The certificate profile."`
	Authentication  bool             `json:"authentication" doc:"Whether an authentication certificate is issued from the same CSR."`
	Role            bool             `json:"role" doc:"Whether role data are required."`
	Envelope        bool             `json:"envelope" doc:"Whether activation codes are mailed in an envelope."`
	Durations       []int            `json:"durations,omitempty" doc:"Validities an operator may choose, in months."`
	DefaultDuration int              `json:"default_duration,omitempty"`
	Methods         []MethodRuleView `json:"methods"`
}

// MethodRuleView says a product may be requested with a method.
type MethodRuleView struct {
	Method           Method `json:"method"`
	DurationEditable bool   `json:"duration_editable"`
}

// CatalogueOutput is the product catalogue.
type CatalogueOutput struct {
	Body struct {
		Products []ProductTypeView `json:"products"`
	}
}

// AuditInput selects audit events.
type AuditInput struct {
	From    uint64 `query:"from" doc:"First sequence number."`
	Subject string `query:"subject" maxLength:"128" doc:"Keep the events of one object (an order ID)."`
	Limit   int    `query:"limit" minimum:"0" maximum:"1000"`
}

// AuditEventView is one audit event.
type AuditEventView struct {
	Seq     uint64         `json:"seq"`
	Org     string         `json:"org"`
	ActorID string         `json:"actor"`
	Action  string         `json:"action"`
	Subject string         `json:"subject"`
	At      time.Time      `json:"at"`
	Details map[string]any `json:"details,omitempty"`
	Hash    string         `json:"hash,omitempty" doc:"Hex SHA-256 linking the event into the chain."`
}

// AuditOutput is a page of audit events.
type AuditOutput struct {
	Body struct {
		Events []AuditEventView `json:"events"`
	}
}

func (a *API) routesSearch() {
	tags := []string{"search"}
	register(a, huma.Operation{OperationID: "search", Method: http.MethodGet, Path: "/v1/search",
		Summary: "Search orders and products", Description: "Every filter given must match; text filters match whole values, " +
			"case insensitively. Results come newest first, within the caller's organisation.", Tags: tags},
		secure, func(ctx context.Context, in *SearchFilters) (*SearchOutput, error) {
			q, err := in.query()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			pg, err := a.p.Search(ctx, actorFrom(ctx), q)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return searchOutput(pg), nil
		})
	lists := shortcuts()
	register(a, huma.Operation{OperationID: "list", Method: http.MethodGet, Path: "/v1/lists/{list}",
		Summary: "A shortcut list (to identify, to be issued, active, revoked)", Tags: tags},
		secure, func(ctx context.Context, in *ListInput) (*SearchOutput, error) {
			q, err := in.query()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			pg, err := a.p.List(ctx, actorFrom(ctx), lists[string(in.List)], q)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return searchOutput(pg), nil
		})
	register(a, huma.Operation{OperationID: "catalogue", Method: http.MethodGet, Path: "/v1/catalogue",
		Summary: "The product catalogue", Tags: []string{"catalogue"}},
		secure, func(ctx context.Context, _ *struct{}) (*CatalogueOutput, error) {
			out := &CatalogueOutput{}
			for _, p := range a.p.Catalogue() {
				v := ProductTypeView{ID: p.ID, Name: p.Name, KeyOrigin: p.KeyOrigin.String(), Profile: p.Profile.Name,
					Authentication: p.Authentication, Role: p.Role, Envelope: p.Codes != nil, Durations: p.Durations,
					DefaultDuration: p.DefaultDuration, Methods: make([]MethodRuleView, len(p.Methods))}
				for i, m := range p.Methods {
					v.Methods[i] = MethodRuleView{Method: Method(m.Method.String()), DurationEditable: m.DurationEditable}
				}
				out.Body.Products = append(out.Body.Products, v)
			}
			return out, nil
		})
	register(a, huma.Operation{OperationID: "audit", Method: http.MethodGet, Path: "/v1/audit",
		Summary: "The organisation's audit trail", Description: "Master RAOs and admins.", Tags: []string{"audit"}},
		secure, func(ctx context.Context, in *AuditInput) (*AuditOutput, error) {
			evs, err := a.p.AuditEvents(ctx, actorFrom(ctx), registra.AuditQuery{From: in.From, Subject: in.Subject, Limit: in.Limit})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &AuditOutput{}
			out.Body.Events = make([]AuditEventView, len(evs))
			for i, ev := range evs {
				out.Body.Events[i] = auditEventView(ev)
			}
			return out, nil
		})
}

func auditEventView(ev registra.AuditEvent) AuditEventView {
	v := AuditEventView{Seq: ev.Seq, Org: ev.OrgID, ActorID: ev.ActorID, Action: ev.Action, Subject: ev.Subject, At: ev.At,
		Hash: hex.EncodeToString(ev.Hash)}
	if ev.Details != "" {
		// The platform writes Details as JSON; anything else is shown as text.
		if err := json.Unmarshal([]byte(ev.Details), &v.Details); err != nil {
			v.Details = map[string]any{"text": ev.Details}
		}
	}
	return v
}
