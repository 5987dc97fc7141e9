package httpapi

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/envelope"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/recognition"
)

// enum returns a string schema listing names.
func enum(desc string, names ...string) *huma.Schema {
	s := &huma.Schema{Type: huma.TypeString, Description: desc}
	for _, n := range names {
		s.Enum = append(s.Enum, n)
	}
	return s
}

// Publication is a CRL publication mode by its wire name.
type Publication string

// Schema lists lifecycle's modes.
func (Publication) Schema(huma.Registry) *huma.Schema {
	return enum("normal: on a CRL within 24 h; immediate: within 1 h; default: the mode the requester × reason matrix gives.",
		lifecycle.PublicationDefault.String(), lifecycle.PublicationNormal.String(), lifecycle.PublicationImmediate.String())
}

func (p Publication) parse() (lifecycle.Publication, error) {
	if p == "" {
		return lifecycle.PublicationDefault, nil
	}
	return lifecycle.ParsePublication(string(p))
}

// Requester is who asked for a revocation.
type Requester string

// Schema lists lifecycle's requesters.
func (Requester) Schema(huma.Registry) *huma.Schema {
	var names []string
	for _, r := range lifecycle.Requesters() {
		names = append(names, r.String())
	}
	return enum("Who asked for the revocation.", names...)
}

// Motivation is a revocation reason of the manual.
type Motivation string

// Schema lists lifecycle's motivations.
func (Motivation) Schema(huma.Registry) *huma.Schema {
	var names []string
	for _, m := range lifecycle.Motivations() {
		names = append(names, m.String())
	}
	return enum("The revocation reason; mapped to an RFC 5280 CRLReason (lifecycle.Motivation.Reason).", names...)
}

// CertificateView is one certificate of a product.
type CertificateView struct {
	SerialNumber string    `json:"serial_number" doc:"Hexadecimal."`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	PEM          string    `json:"pem"`
}

// SuspensionView is a product's current suspension.
type SuspensionView struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Notes string    `json:"notes,omitempty"`
	By    string    `json:"by"`
}

// RevocationView is a product's revocation.
type RevocationView struct {
	Requester      string    `json:"requester"`
	Motivation     string    `json:"motivation"`
	ReasonCode     int       `json:"reason_code" doc:"RFC 5280 CRLReason."`
	Notes          string    `json:"notes,omitempty"`
	RequestedAt    time.Time `json:"requested_at"`
	RevocationTime time.Time `json:"revocation_time" doc:"The revocationDate on the CRL."`
	Publication    string    `json:"publication"`
	By             string    `json:"by"`
}

// EnvelopeRefView names a stored activation-code envelope.
type EnvelopeRefView struct {
	ID        string    `json:"id"`
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
}

// ProductView is an issued product.
type ProductView struct {
	ID           string            `json:"id"`
	OrderID      string            `json:"order_id"`
	Org          string            `json:"org"`
	HolderID     string            `json:"holder_id"`
	Type         string            `json:"type"`
	Status       Status            `json:"status"`
	IssuedAt     time.Time         `json:"issued_at"`
	Certificates []CertificateView `json:"certificates"`
	Suspension   *SuspensionView   `json:"suspension,omitempty"`
	Revocation   *RevocationView   `json:"revocation,omitempty"`
	Envelopes    []EnvelopeRefView `json:"envelopes"`
}

func productView(p *registra.Product) ProductView {
	v := ProductView{ID: p.ID, OrderID: p.OrderID, Org: p.Org, HolderID: p.HolderID, Type: p.Type, Status: Status(p.Status.String()),
		IssuedAt: p.IssuedAt, Certificates: make([]CertificateView, len(p.Certificates)), Envelopes: make([]EnvelopeRefView, len(p.Envelopes))}
	for i, c := range p.Certificates {
		v.Certificates[i] = CertificateView{SerialNumber: c.SerialNumber.Text(16), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
			PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.DER}))}
	}
	if s := p.Suspension; s != nil {
		v.Suspension = &SuspensionView{Start: s.Start, End: s.End, Notes: s.Notes, By: s.By}
	}
	if r := p.Revocation; r != nil {
		v.Revocation = &RevocationView{Requester: r.Requester.String(), Motivation: r.Motivation.String(), ReasonCode: int(r.Reason),
			Notes: r.Notes, RequestedAt: r.RequestedAt, RevocationTime: r.RevocationTime, Publication: r.Publication.String(), By: r.By}
	}
	for i, e := range p.Envelopes {
		v.Envelopes[i] = EnvelopeRefView{ID: e.ID, Format: e.Format, CreatedAt: e.CreatedAt}
	}
	return v
}

// PassphraseView is the RAO's choice of envelope passphrase.
type PassphraseView struct {
	UseTaxCode bool   `json:"use_tax_code,omitempty" required:"false" doc:"Seal the envelope with the holder's tax code."`
	Custom     string `json:"custom,omitempty" required:"false" doc:"A passphrase the RAO chose instead."`
	Confirm    string `json:"confirm,omitempty" required:"false" doc:"The custom passphrase again."`
}

func (v PassphraseView) choice() registra.PassphraseChoice {
	return registra.PassphraseChoice{UseTaxCode: v.UseTaxCode, Custom: envelope.Passphrase(v.Custom), Confirm: envelope.Passphrase(v.Confirm)}
}

// IssueInput issues an order's product.
type IssueInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The order ID."`
	Body struct {
		CSR        string         `json:"csr,omitempty" required:"false" doc:"PEM PKCS #10 request made on the holder's device (on-device products only)."`
		Passphrase PassphraseView `json:"passphrase"`
	}
}

// ProductOutput is one product.
type ProductOutput struct {
	Body ProductView
}

// ProductPath names a product (or the order that carries it).
type ProductPath struct {
	ID string `path:"id" maxLength:"64" doc:"The product ID, or its order's ID."`
}

// SuspendInput suspends a product.
type SuspendInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		End         time.Time   `json:"end" doc:"When the suspension ends by itself."`
		Notes       string      `json:"notes,omitempty" required:"false"`
		Contract    []byte      `json:"contract,omitempty" required:"false" doc:"The signed suspension contract (base64)."`
		Publication Publication `json:"publication,omitempty" required:"false"`
	}
}

// ReactivateInput ends a suspension early.
type ReactivateInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Publication Publication `json:"publication,omitempty" required:"false"`
	}
}

// RevokeInput revokes a product.
type RevokeInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Requester   Requester   `json:"requester"`
		Motivation  Motivation  `json:"motivation"`
		Publication Publication `json:"publication,omitempty" required:"false"`
		Notes       string      `json:"notes,omitempty" required:"false"`
		Contract    []byte      `json:"contract,omitempty" required:"false" doc:"The withdrawn contract (base64), required for contract withdrawal."`
	}
}

// ResendInput reseals the activation codes under a new passphrase.
type ResendInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Passphrase PassphraseView `json:"passphrase"`
	}
}

// EnvelopeInput names a stored envelope.
type EnvelopeInput struct {
	ID  string `path:"id" maxLength:"64"`
	Ref string `path:"ref" maxLength:"128"`
}

// EnvelopeOutput is an envelope's bytes.
type EnvelopeOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// RecognitionInput records a recognition from a sealed evidence bundle.
type RecognitionInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		Bundle huma.FormFile `form:"bundle" contentType:"application/octet-stream" required:"true" doc:"The sealed evidence bundle (recognition.Sealed.MarshalBinary)."`
	}]
}

func (a *API) routesProducts() {
	tags := []string{"products"}
	register(a, huma.Operation{OperationID: "record-recognition", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition",
		Summary: "Record the applicant's recognition (to_identify → to_issue)",
		Description: "Takes the sealed evidence bundle of a recognition as a multipart upload. The platform verifies the seal " +
			"and the manifest against the order before recording it.",
		Tags: []string{"orders"}, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *RecognitionInput) (*OrderOutput, error) {
			f := in.RawBody.Data().Bundle
			b := make([]byte, f.Size)
			if _, err := io.ReadFull(f, b); err != nil {
				return nil, badRequest("body.bundle", "cannot be read")
			}
			sealed, err := recognition.ParseSealed(b)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			o, err := a.p.RecordRecognition(ctx, actorFrom(ctx), in.ID, sealed)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "issue", Method: http.MethodPost, Path: "/v1/orders/{id}/issue",
		Summary: "Issue the order's product (to_issue → active)", Description: "RAOs only. Remote signature products get their key " +
			"in the key manager; on-device products send the device's CSR. The activation codes are sealed with the chosen passphrase.",
		Tags: tags, DefaultStatus: http.StatusCreated, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *IssueInput) (*ProductOutput, error) {
			p, err := a.p.Issue(ctx, actorFrom(ctx), in.ID, registra.IssueInput{CSR: []byte(in.Body.CSR), Passphrase: in.Body.Passphrase.choice()})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "get-product", Method: http.MethodGet, Path: "/v1/products/{id}",
		Summary: "Get a product", Tags: tags},
		secure, func(ctx context.Context, in *ProductPath) (*ProductOutput, error) {
			p, err := a.p.GetProduct(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "suspend", Method: http.MethodPost, Path: "/v1/products/{id}/suspend",
		Summary: "Suspend a product until an end date", Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *SuspendInput) (*ProductOutput, error) {
			mode, err := in.Body.Publication.parse()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			p, err := a.p.Suspend(ctx, actorFrom(ctx), in.ID, registra.SuspendInput{End: in.Body.End, Notes: in.Body.Notes,
				Contract: in.Body.Contract, Publication: mode})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "reactivate", Method: http.MethodPost, Path: "/v1/products/{id}/reactivate",
		Summary: "End a suspension early", Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *ReactivateInput) (*ProductOutput, error) {
			mode, err := in.Body.Publication.parse()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			p, err := a.p.Reactivate(ctx, actorFrom(ctx), in.ID, mode)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "revoke", Method: http.MethodPost, Path: "/v1/products/{id}/revoke",
		Summary: "Revoke a product", Description: "Permanent. The revocation is published on a CRL within 24 h (normal) or 1 h (immediate).",
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *RevokeInput) (*ProductOutput, error) {
			req, err := lifecycle.ParseRequester(string(in.Body.Requester))
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			mot, err := lifecycle.ParseMotivation(string(in.Body.Motivation))
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			mode, err := in.Body.Publication.parse()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			p, err := a.p.Revoke(ctx, actorFrom(ctx), in.ID, registra.RevokeInput{Requester: req, Motivation: mot, Publication: mode,
				Notes: in.Body.Notes, Contract: in.Body.Contract})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "resend-envelope", Method: http.MethodPost, Path: "/v1/products/{id}/envelope-resend",
		Summary: "Reseal the activation codes under a new passphrase and send them again", Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *ResendInput) (*ProductOutput, error) {
			p, err := a.p.ResendEnvelope(ctx, actorFrom(ctx), in.ID, in.Body.Passphrase.choice())
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &ProductOutput{Body: productView(p)}, nil
		})
	register(a, huma.Operation{OperationID: "get-envelope", Method: http.MethodGet, Path: "/v1/products/{id}/envelopes/{ref}",
		Summary: "Download a sealed envelope", Description: "The .p7m (CMS EnvelopedData, RFC 3211 password recipient) or the protected PDF.",
		Tags: tags, Responses: map[string]*huma.Response{"200": {Description: "The envelope.", Content: map[string]*huma.MediaType{
			envelope.MediaTypeCMS: {Schema: &huma.Schema{Type: huma.TypeString, ContentEncoding: "binary"}},
			envelope.MediaTypePDF: {Schema: &huma.Schema{Type: huma.TypeString, ContentEncoding: "binary"}}}}}},
		secure, func(ctx context.Context, in *EnvelopeInput) (*EnvelopeOutput, error) {
			b, err := a.p.Envelope(ctx, actorFrom(ctx), in.ID, in.Ref)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			ct := envelope.MediaTypeCMS
			if len(b) > 4 && string(b[:5]) == "%PDF-" {
				ct = envelope.MediaTypePDF
			}
			return &EnvelopeOutput{ContentType: ct, Body: b}, nil
		})
}

// MethodPath names a recognition method.
type MethodPath struct {
	Method Method `path:"method"`
}

// RequirementsOutput is what a recognition method needs.
type RequirementsOutput struct {
	Body struct {
		Method         Method   `json:"method"`
		Steps          []string `json:"steps" doc:"The steps, in the manual's order."`
		Artefacts      []string `json:"artefacts" doc:"The artefact kinds the evidence must hold."`
		DocumentImages bool     `json:"document_images" doc:"Whether identity document images are required (front and back, or one image with both sides)."`
		OTPSignature   bool     `json:"otp_signature" doc:"Whether the applicant signs the request form with an OTP-authorised one-shot certificate."`
		Roles          []string `json:"roles" doc:"The roles that may perform the recognition."`
		UsageLimited   bool     `json:"usage_limited" doc:"Whether products recognised this way are the usage-limited variant."`
	}
}

func (a *API) routesRecognition() {
	register(a, huma.Operation{OperationID: "recognition-requirements", Method: http.MethodGet, Path: "/v1/recognition-methods/{method}",
		Summary: "What a recognition method needs", Description: "The steps, artefacts and roles of a recognition method (package recognition).",
		Tags: []string{"orders"}},
		secure, func(ctx context.Context, in *MethodPath) (*RequirementsOutput, error) {
			m, err := recognition.ParseMethod(string(in.Method))
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			req := m.Requirements()
			out := &RequirementsOutput{}
			out.Body.Method, out.Body.DocumentImages, out.Body.OTPSignature, out.Body.UsageLimited = in.Method, req.DocumentImages, req.OTPSignature, req.UsageLimited
			for _, s := range req.Steps {
				out.Body.Steps = append(out.Body.Steps, string(s))
			}
			for _, k := range req.Artefacts {
				out.Body.Artefacts = append(out.Body.Artefacts, string(k))
			}
			for _, r := range req.Roles {
				out.Body.Roles = append(out.Body.Roles, string(r))
			}
			return out, nil
		})
}
