package cli

import "time"

// The JSON shapes of the operator API (adapters/http), decoded by the client
// for tables. Adapters never import each other, so the CLI keeps its own copy
// of the fields it shows; --json prints the server's answer unchanged.

type wireAddress struct {
	Street     string `json:"street,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	City       string `json:"city,omitempty"`
	Province   string `json:"province,omitempty"`
	Country    string `json:"country,omitempty"`
}

type wireDocument struct {
	Country   string `json:"country,omitempty"`
	Type      string `json:"type,omitempty"`
	Number    string `json:"number,omitempty"`
	IssuedOn  string `json:"issued_on,omitempty"`
	ExpiresOn string `json:"expires_on,omitempty"`
}

type wireApplicant struct {
	TaxCode          string       `json:"tax_code"`
	FirstName        string       `json:"first_name"`
	Surname          string       `json:"surname"`
	Sex              string       `json:"sex,omitempty"`
	BirthDate        string       `json:"birth_date,omitempty"`
	BirthPlace       string       `json:"birth_place,omitempty"`
	Document         wireDocument `json:"document,omitzero"`
	Residence        wireAddress  `json:"residence,omitzero"`
	Email            string       `json:"email,omitempty"`
	Mobile           string       `json:"mobile,omitempty"`
	PrivacyConsent   bool         `json:"privacy_consent,omitempty"`
	MarketingConsent bool         `json:"marketing_consent,omitempty"`
}

type wireOrderInput struct {
	ProductType        string        `json:"product_type"`
	Method             string        `json:"method"`
	Unit               string        `json:"unit,omitempty"`
	ExternalCode       string        `json:"external_code,omitempty"`
	Nickname           string        `json:"nickname,omitempty"`
	DeviceSerial       string        `json:"device_serial,omitempty"`
	DurationMonths     int           `json:"duration_months,omitempty"`
	RoleOrganization   string        `json:"role_organization,omitempty"`
	RoleOrganizationID string        `json:"role_organization_id,omitempty"`
	RoleTitle          string        `json:"role_title,omitempty"`
	Applicant          wireApplicant `json:"applicant"`
}

type wireStatusChange struct {
	From           string    `json:"from"`
	To             string    `json:"to"`
	At             time.Time `json:"at"`
	ActorID        string    `json:"actor"`
	ReasonCode     int       `json:"reason_code,omitempty"`
	Notes          string    `json:"notes,omitempty"`
	Publication    string    `json:"publication,omitempty"`
	Deadline       time.Time `json:"deadline,omitzero"`
	HoldUntil      time.Time `json:"hold_until,omitzero"`
	RevocationTime time.Time `json:"revocation_time,omitzero"`
	PublishedAt    time.Time `json:"published_at,omitzero"`
	CRLNumber      uint64    `json:"crl_number,omitempty"`
}

type wireOrder struct {
	ID          string             `json:"id"`
	Org         string             `json:"org"`
	Unit        string             `json:"unit"`
	OperatorID  string             `json:"operator"`
	Status      string             `json:"status"`
	Input       wireOrderInput     `json:"input"`
	HolderID    string             `json:"holder_id,omitempty"`
	UserID      string             `json:"user_id,omitempty"`
	IUT         string             `json:"iut,omitempty"`
	ProductID   string             `json:"product_id,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	UpdatedAt   time.Time          `json:"updated_at"`
	ActivatedAt time.Time          `json:"activated_at,omitzero"`
	Version     uint64             `json:"version"`
	History     []wireStatusChange `json:"history"`
}

type wireCertificate struct {
	SerialNumber string    `json:"serial_number"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	PEM          string    `json:"pem"`
}

type wireSuspension struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Notes string    `json:"notes,omitempty"`
	By    string    `json:"by"`
}

type wireRevocation struct {
	Requester      string    `json:"requester"`
	Motivation     string    `json:"motivation"`
	ReasonCode     int       `json:"reason_code"`
	Notes          string    `json:"notes,omitempty"`
	RequestedAt    time.Time `json:"requested_at"`
	RevocationTime time.Time `json:"revocation_time"`
	Publication    string    `json:"publication"`
	By             string    `json:"by"`
}

type wireEnvelopeRef struct {
	ID        string    `json:"id"`
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
}

type wireProduct struct {
	ID           string            `json:"id"`
	OrderID      string            `json:"order_id"`
	Org          string            `json:"org"`
	HolderID     string            `json:"holder_id"`
	Type         string            `json:"type"`
	Status       string            `json:"status"`
	IssuedAt     time.Time         `json:"issued_at"`
	Certificates []wireCertificate `json:"certificates"`
	Suspension   *wireSuspension   `json:"suspension,omitempty"`
	Revocation   *wireRevocation   `json:"revocation,omitempty"`
	Envelopes    []wireEnvelopeRef `json:"envelopes"`
}

type wireSearchHit struct {
	OrderID      string    `json:"order_id"`
	ProductID    string    `json:"product_id,omitempty"`
	Status       string    `json:"status"`
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

type wireSearchPage struct {
	Hits []wireSearchHit `json:"hits"`
	Next string          `json:"next,omitempty"`
}

type wireActor struct {
	ID    string   `json:"id"`
	Org   string   `json:"org"`
	Roles []string `json:"roles"`
}

type wireSession struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Operator  wireActor `json:"operator"`
}

type wireOperator struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Org       string    `json:"org"`
	Unit      string    `json:"unit,omitempty"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	TaxCode   string    `json:"tax_code,omitempty"`
	Roles     []string  `json:"roles"`
	Disabled  bool      `json:"disabled"`
	Enrolled  bool      `json:"enrolled"`
	CreatedAt time.Time `json:"created_at"`
}

type wireEnrolment struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

type wireCreatedOperator struct {
	Operator wireOperator  `json:"operator"`
	TOTP     wireEnrolment `json:"totp"`
}

type wireMethodRule struct {
	Method           string `json:"method"`
	DurationEditable bool   `json:"duration_editable"`
}

type wireProductType struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	KeyOrigin       string           `json:"key_origin"`
	Profile         string           `json:"profile"`
	Authentication  bool             `json:"authentication"`
	Role            bool             `json:"role"`
	Envelope        bool             `json:"envelope"`
	Durations       []int            `json:"durations,omitempty"`
	DefaultDuration int              `json:"default_duration,omitempty"`
	Methods         []wireMethodRule `json:"methods"`
}

type wirePassphrase struct {
	UseTaxCode bool   `json:"use_tax_code,omitempty"`
	Custom     string `json:"custom,omitempty"`
	Confirm    string `json:"confirm,omitempty"`
}
