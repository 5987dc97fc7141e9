package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
)

// dateLayout is the wire form of calendar dates (RFC 3339 full-date).
const dateLayout = time.DateOnly

// Date is a calendar date, "2006-01-02" on the wire.
type Date struct{ time.Time }

// Schema declares a full-date string.
func (Date) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date", Description: "A calendar date, YYYY-MM-DD (RFC 3339 full-date)."}
}

// MarshalJSON writes the date, or "" for the zero date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(d.Format(dateLayout))
}

// UnmarshalJSON reads a full-date; "" is the zero date.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return err
	}
	d.Time = t
	return nil
}

// Method is a recognition method by its wire name.
type Method string

// Schema lists recognition's methods.
func (Method) Schema(huma.Registry) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Description: "A recognition method."}
	for _, m := range recognition.Methods() {
		s.Enum = append(s.Enum, m.String())
	}
	return s
}

// Status is an order or product status by its wire name.
type Status string

// Schema lists lifecycle's statuses.
func (Status) Schema(huma.Registry) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Description: "An order or product status (lifecycle.Table)."}
	for _, st := range lifecycle.Statuses() {
		s.Enum = append(s.Enum, st.String())
	}
	return s
}

// DocumentView is the applicant's identity document.
type DocumentView struct {
	Country   string `json:"country,omitempty" required:"false" doc:"Issuing country, ISO 3166-1 alpha-2."`
	Type      string `json:"type,omitempty" required:"false" doc:"identity_card, passport or driving_licence."`
	Number    string `json:"number,omitempty" required:"false"`
	IssuedOn  Date   `json:"issued_on,omitzero" required:"false"`
	ExpiresOn Date   `json:"expires_on,omitzero" required:"false"`
}

// AddressView is the applicant's residence.
type AddressView struct {
	Street     string `json:"street,omitempty" required:"false"`
	PostalCode string `json:"postal_code,omitempty" required:"false"`
	City       string `json:"city,omitempty" required:"false"`
	Province   string `json:"province,omitempty" required:"false"`
	Country    string `json:"country,omitempty" required:"false"`
}

// ApplicantView is the person a product is requested for.
type ApplicantView struct {
	TaxCode          string       `json:"tax_code" doc:"Italian tax code (codice fiscale)."`
	FirstName        string       `json:"first_name"`
	Surname          string       `json:"surname"`
	Sex              string       `json:"sex,omitempty" required:"false" doc:"M or F."`
	BirthDate        Date         `json:"birth_date,omitzero" required:"false"`
	BirthPlace       string       `json:"birth_place,omitempty" required:"false" doc:"Cadastral code of the municipality of birth, or Z and three digits for a foreign country."`
	Document         DocumentView `json:"document,omitzero" required:"false"`
	Residence        AddressView  `json:"residence,omitzero" required:"false"`
	Email            string       `json:"email,omitempty" required:"false"`
	Mobile           string       `json:"mobile,omitempty" required:"false" doc:"E.164, e.g. +393331234567."`
	PrivacyConsent   bool         `json:"privacy_consent,omitempty" required:"false" doc:"Mandatory before submission."`
	MarketingConsent bool         `json:"marketing_consent,omitempty" required:"false"`
}

// OrderInputView is what an operator enters for a request; a draft may be
// incomplete.
type OrderInputView struct {
	ProductType        string        `json:"product_type" doc:"A catalogue product ID (GET /v1/catalogue)."`
	Method             Method        `json:"method"`
	Unit               string        `json:"unit,omitempty" required:"false" doc:"The unit the request is entered in; the operator's when empty."`
	ExternalCode       string        `json:"external_code,omitempty" required:"false" doc:"The partner's lookup code, unique in the organisation."`
	Nickname           string        `json:"nickname,omitempty" required:"false"`
	DeviceSerial       string        `json:"device_serial,omitempty" required:"false"`
	DurationMonths     int           `json:"duration_months,omitempty" required:"false" minimum:"0" doc:"The validity; the product's default when zero."`
	RoleOrganization   string        `json:"role_organization,omitempty" required:"false"`
	RoleOrganizationID string        `json:"role_organization_id,omitempty" required:"false"`
	RoleTitle          string        `json:"role_title,omitempty" required:"false"`
	Applicant          ApplicantView `json:"applicant"`
}

func (v OrderInputView) input() (registra.OrderInput, error) {
	var m recognition.Method
	if v.Method != "" {
		var err error
		if m, err = recognition.ParseMethod(string(v.Method)); err != nil {
			return registra.OrderInput{}, err
		}
	}
	a := v.Applicant
	return registra.OrderInput{
		ProductType: v.ProductType, Method: m, Unit: v.Unit, ExternalCode: v.ExternalCode, Nickname: v.Nickname,
		DeviceSerial: v.DeviceSerial, DurationMonths: v.DurationMonths, RoleOrganization: v.RoleOrganization,
		RoleOrganizationID: v.RoleOrganizationID, RoleTitle: v.RoleTitle,
		Applicant: registra.Applicant{
			TaxCode: a.TaxCode, FirstName: a.FirstName, Surname: a.Surname, Sex: a.Sex, BirthDate: a.BirthDate.Time,
			BirthPlace: a.BirthPlace,
			Document: registra.Document{Country: a.Document.Country, Type: a.Document.Type, Number: a.Document.Number,
				IssuedOn: a.Document.IssuedOn.Time, ExpiresOn: a.Document.ExpiresOn.Time},
			Residence: registra.Address{Street: a.Residence.Street, PostalCode: a.Residence.PostalCode, City: a.Residence.City,
				Province: a.Residence.Province, Country: a.Residence.Country},
			Email: a.Email, Mobile: a.Mobile, PrivacyConsent: a.PrivacyConsent, MarketingConsent: a.MarketingConsent,
		},
	}, nil
}

func orderInputView(in registra.OrderInput) OrderInputView {
	a := in.Applicant
	v := OrderInputView{
		ProductType: in.ProductType, Unit: in.Unit, ExternalCode: in.ExternalCode, Nickname: in.Nickname,
		DeviceSerial: in.DeviceSerial, DurationMonths: in.DurationMonths, RoleOrganization: in.RoleOrganization,
		RoleOrganizationID: in.RoleOrganizationID, RoleTitle: in.RoleTitle,
		Applicant: ApplicantView{
			TaxCode: a.TaxCode, FirstName: a.FirstName, Surname: a.Surname, Sex: a.Sex, BirthDate: Date{a.BirthDate},
			BirthPlace: a.BirthPlace,
			Document: DocumentView{Country: a.Document.Country, Type: a.Document.Type, Number: a.Document.Number,
				IssuedOn: Date{a.Document.IssuedOn}, ExpiresOn: Date{a.Document.ExpiresOn}},
			Residence: AddressView{Street: a.Residence.Street, PostalCode: a.Residence.PostalCode, City: a.Residence.City,
				Province: a.Residence.Province, Country: a.Residence.Country},
			Email: a.Email, Mobile: a.Mobile, PrivacyConsent: a.PrivacyConsent, MarketingConsent: a.MarketingConsent,
		},
	}
	if in.Method.Valid() {
		v.Method = Method(in.Method.String())
	}
	return v
}

// StatusChangeView is one step of an order's history.
type StatusChangeView struct {
	ID             string    `json:"id"`
	From           Status    `json:"from"`
	To             Status    `json:"to"`
	At             time.Time `json:"at"`
	ActorID        string    `json:"actor"`
	Requester      string    `json:"requester,omitempty"`
	ReasonCode     int       `json:"reason_code,omitempty" doc:"RFC 5280 CRLReason of a suspension or revocation."`
	Notes          string    `json:"notes,omitempty"`
	Publication    string    `json:"publication,omitempty" doc:"normal (CRL within 24 h) or immediate (within 1 h)."`
	Deadline       time.Time `json:"deadline,omitzero" doc:"When the change must be published at the latest."`
	HoldUntil      time.Time `json:"hold_until,omitzero"`
	RevocationTime time.Time `json:"revocation_time,omitzero"`
	PublishedAt    time.Time `json:"published_at,omitzero"`
	CRLNumber      uint64    `json:"crl_number,omitempty"`
}

// OrderView is an order.
type OrderView struct {
	ID          string             `json:"id"`
	Org         string             `json:"org"`
	Unit        string             `json:"unit"`
	OperatorID  string             `json:"operator"`
	Status      Status             `json:"status"`
	Input       OrderInputView     `json:"input"`
	HolderID    string             `json:"holder_id,omitempty"`
	UserID      string             `json:"user_id,omitempty"`
	IUT         string             `json:"iut,omitempty" doc:"The holder's unique identifier, the certificate's dnQualifier."`
	ProductID   string             `json:"product_id,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	ActivatedAt time.Time          `json:"activated_at,omitzero"`
	Version     uint64             `json:"version" doc:"Send it back as If-Match to update the draft."`
	History     []StatusChangeView `json:"history"`
}

func statusChangeView(c registra.StatusChange) StatusChangeView {
	v := StatusChangeView{ID: c.ID, From: Status(c.From.String()), To: Status(c.To.String()), At: c.At, ActorID: c.ActorID,
		Requester: c.Requester, ReasonCode: c.ReasonCode, Notes: c.Notes, Deadline: c.Deadline, HoldUntil: c.HoldUntil,
		RevocationTime: c.RevocationTime, PublishedAt: c.PublishedAt, CRLNumber: c.CRLNumber}
	if !c.Deadline.IsZero() {
		v.Publication = c.Mode.String()
	}
	return v
}

func orderView(o *registra.Order) OrderView {
	v := OrderView{ID: o.ID, Org: o.Org, Unit: o.Unit, OperatorID: o.OperatorID, Status: Status(o.Status.String()),
		Input: orderInputView(o.Input), HolderID: o.HolderID, UserID: o.UserID, IUT: o.IUT, ProductID: o.ProductID,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, ActivatedAt: o.ActivatedAt, Version: o.Version,
		History: make([]StatusChangeView, len(o.History))}
	for i, c := range o.History {
		v.History[i] = statusChangeView(c)
	}
	return v
}

// OrderBody creates a draft.
type OrderBody struct {
	Body OrderInputView
}

// OrderPath names an order.
type OrderPath struct {
	ID string `path:"id" maxLength:"64" doc:"The order ID."`
}

// UpdateOrderInput replaces a draft's input.
type UpdateOrderInput struct {
	ID      string `path:"id" maxLength:"64"`
	IfMatch string `header:"If-Match" required:"true" doc:"The order's ETag (its version), from the last read: optimistic concurrency (RFC 9110 §13.1.1)."`
	Body    OrderInputView
}

// OrderOutput is one order.
type OrderOutput struct {
	ETag string `header:"ETag"`
	Body OrderView
}

func orderOutput(o *registra.Order) *OrderOutput {
	return &OrderOutput{ETag: uintString(o.Version), Body: orderView(o)}
}

func (a *API) routesOrders() {
	tags := []string{"orders"}
	register(a, huma.Operation{OperationID: "create-order", Method: http.MethodPost, Path: "/v1/orders",
		Summary: "Create a draft order", Tags: tags, DefaultStatus: http.StatusCreated},
		secure, func(ctx context.Context, in *OrderBody) (*OrderOutput, error) {
			oi, err := in.Body.input()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			o, err := a.p.CreateDraft(ctx, actorFrom(ctx), oi)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "get-order", Method: http.MethodGet, Path: "/v1/orders/{id}",
		Summary: "Get an order", Tags: tags},
		secure, func(ctx context.Context, in *OrderPath) (*OrderOutput, error) {
			o, err := a.p.GetOrder(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "update-order", Method: http.MethodPut, Path: "/v1/orders/{id}",
		Summary: "Replace a draft's input", Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *UpdateOrderInput) (*OrderOutput, error) {
			version, err := strconv.ParseUint(strings.Trim(in.IfMatch, `"`), 10, 64)
			if err != nil {
				return nil, badRequest("header.If-Match", "must be the order's ETag")
			}
			oi, err := in.Body.input()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			o, err := a.p.UpdateDraft(ctx, actorFrom(ctx), in.ID, version, oi)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "delete-order", Method: http.MethodDelete, Path: "/v1/orders/{id}",
		Summary: "Delete a draft or incomplete order", Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *OrderPath) (*struct{}, error) {
			if err := a.p.DeleteOrder(ctx, actorFrom(ctx), in.ID); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
	register(a, huma.Operation{OperationID: "submit-order", Method: http.MethodPost, Path: "/v1/orders/{id}/submit",
		Summary: "Submit a draft (draft → to_identify)", Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *OrderPath) (*OrderOutput, error) {
			o, err := a.p.Submit(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
}
