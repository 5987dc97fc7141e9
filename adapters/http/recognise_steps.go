package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/recognition"
)

// The steps of the recognitions made with the applicant (Live ID, Video
// ID, SPID; see the root package's recognise_steps.go): the applicant's
// one-shot signature of the request form by OTP first, then the method's
// own step, which records the recognition.

// StartFormSignatureInput starts the applicant's one-shot signature of the
// request form: the form is uploaded as multipart/form-data.
type StartFormSignatureInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		Form huma.FormFile `form:"form" contentType:"application/octet-stream" required:"true" doc:"The request form the applicant signs (PDF)."`
	}]
}

// FormSignatureChallengeOutput is a started form signature.
type FormSignatureChallengeOutput struct {
	Body struct {
		ChallengeID string    `json:"challenge_id" doc:"Names the challenge when the code is entered."`
		ExpiresAt   time.Time `json:"expires_at" doc:"When the code expires."`
		Destination string    `json:"destination" doc:"The applicant's mobile number the code went to, masked."`
		Link        string    `json:"link" doc:"A single-use token with which the applicant enters the code themselves (POST /v1/applicant/form-signature): put it in the link sent to the applicant only."`
	}
}

// ApplicantLinkInput names a form signature by the applicant's link token.
type ApplicantLinkInput struct {
	Body struct {
		Link string `json:"link" minLength:"43" maxLength:"64" doc:"The token of the link the applicant was sent."`
	}
}

// PDFOutput is a PDF document.
type PDFOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// ApplicantFormSignatureInput is the applicant's own entry of the code,
// with the token of the link they were sent.
type ApplicantFormSignatureInput struct {
	Body struct {
		Link string `json:"link" minLength:"43" maxLength:"64" doc:"The token of the link the applicant was sent."`
		OTP  string `json:"otp" minLength:"6" maxLength:"8" pattern:"^[0-9]+$" doc:"The code the applicant received."`
	}
}

// CompleteFormSignatureInput enters the code the applicant received.
type CompleteFormSignatureInput struct {
	ID        string `path:"id" maxLength:"64" doc:"The order ID."`
	Challenge string `path:"challenge" maxLength:"64" doc:"The challenge ID."`
	Body      struct {
		OTP string `json:"otp" minLength:"6" maxLength:"8" pattern:"^[0-9]+$" doc:"The code the applicant received."`
	}
}

// LiveIDRecognitionInput records a Live ID recognition: the report signed
// by the acting RAO and the identity document images, as
// multipart/form-data. The report must be signed in the RAO's name: the
// tax code registered for them (operator tax_code).
type LiveIDRecognitionInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		SignedReport  huma.FormFile `form:"signed_report" contentType:"application/octet-stream" required:"true" doc:"The recognition report signed by the acting RAO (.p7m, CAdES, of a PDF), with a qualified certificate in the tax code registered for them."`
		DocumentFront huma.FormFile `form:"document_front" contentType:"application/octet-stream" required:"false" doc:"Front of the identity document (JPEG, PNG, PDF)."`
		DocumentBack  huma.FormFile `form:"document_back" contentType:"application/octet-stream" required:"false" doc:"Back of the identity document."`
		DocumentBoth  huma.FormFile `form:"document_both" contentType:"application/octet-stream" required:"false" doc:"One image with both sides of the identity document."`
	}]
}

// VideoIDRecognitionInput records a Video ID recognition from the video
// provider's session record, relayed as multipart/form-data with the two
// values that authenticate it.
type VideoIDRecognitionInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		Session   huma.FormFile `form:"session" contentType:"application/octet-stream" required:"true" doc:"The provider's session record (JSON), byte for byte as received."`
		Timestamp string        `form:"timestamp" required:"true" maxLength:"20" doc:"The provider's timestamp (Unix seconds), as in its X-Registra-Timestamp header."`
		Signature string        `form:"signature" required:"true" maxLength:"1024" doc:"The provider's signature, v1=<hex HMAC-SHA256>, as in its X-Registra-Signature header."`
	}]
}

// VideoCallbackInput is the video provider's webhook call.
type VideoCallbackInput struct {
	Timestamp string `header:"X-Registra-Timestamp" required:"true" maxLength:"20" doc:"Unix seconds; within the platform's tolerance of now."`
	Signature string `header:"X-Registra-Signature" required:"true" maxLength:"1024" doc:"v1=<hex HMAC-SHA256 of timestamp, a full stop and the body>; several comma-separated during a key change."`
	RawBody   []byte `contentType:"application/json" doc:"The session record: provider, session_id, order_id, operator, outcome, started_at, ended_at, artefacts."`
}

// VideoCallbackOutput says whether the session record completed the
// recognition.
type VideoCallbackOutput struct {
	Body struct {
		Recorded bool `json:"recorded" doc:"Whether the recognition was recorded; false while it waits for the applicant's form signature."`
	}
}

// SPIDLoginOutput is a started SPID login.
type SPIDLoginOutput struct {
	Body struct {
		URL        string    `json:"url" doc:"The identity provider's address with the signed AuthnRequest (HTTP-Redirect binding): send the applicant there."`
		RequestID  string    `json:"request_id" doc:"The AuthnRequest's ID."`
		RelayState string    `json:"relay_state" doc:"Binds the response to this login; the identity provider posts it back."`
		ExpiresAt  time.Time `json:"expires_at" doc:"When the login may no longer be completed."`
	}
}

// SPIDAssertionInput is the identity provider's response, posted by the
// applicant's browser (SAML HTTP-POST binding).
type SPIDAssertionInput struct {
	RawBody []byte `contentType:"application/x-www-form-urlencoded" doc:"SAMLResponse (base64) and RelayState form fields."`
}

// SPIDMetadataOutput is the service provider's SAML metadata.
type SPIDMetadataOutput struct {
	ContentType string `header:"Content-Type"`
	Body        []byte
}

// routesRecogniseSteps registers the steps of Live ID, Video ID and SPID.
func (a *API) routesRecogniseSteps() {
	tags := []string{"orders"}
	register(a, huma.Operation{OperationID: "start-form-signature", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/form-signature",
		Summary: "Send the applicant an OTP to sign the request form (Live ID, Video ID, SPID)",
		Description: "Takes the request form (PDF) as a multipart upload and sends an OTP to the applicant's mobile number. " +
			"The code authorises a signature of the form with a one-shot certificate issued for it. Unavailable (400) when " +
			"the platform has no configuration for the order's method or for OTPs.",
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *StartFormSignatureInput) (*FormSignatureChallengeOutput, error) {
			d := in.RawBody.Data()
			form, err := readFile("form", d.Form)
			if err != nil {
				return nil, err
			}
			ch, err := a.p.StartFormSignature(ctx, actorFrom(ctx), in.ID, form)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &FormSignatureChallengeOutput{}
			out.Body.ChallengeID, out.Body.ExpiresAt, out.Body.Destination = ch.ID, ch.ExpiresAt, ch.Destination
			out.Body.Link = ch.Link.Reveal()
			return out, nil
		})
	register(a, huma.Operation{OperationID: "applicant-form", Method: http.MethodPost, Path: "/v1/applicant/form",
		Summary: "The request form the applicant is asked to sign",
		Description: "The PDF the applicant's code will sign, for them to read first. No bearer token: the link's token " +
			"authenticates the request (401 otherwise); it is sent in the body, never in the URL.",
		Tags: tags, Errors: []int{http.StatusUnauthorized}},
		public, func(ctx context.Context, in *ApplicantLinkInput) (*PDFOutput, error) {
			b, err := a.p.FormByLink(registra.LinkToken(in.Body.Link))
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &PDFOutput{ContentType: "application/pdf", Body: b}, nil
		})
	register(a, huma.Operation{OperationID: "applicant-form-signature", Method: http.MethodPost, Path: "/v1/applicant/form-signature",
		Summary: "The applicant signs the request form with their OTP",
		Description: "The applicant's own entry of the code, from the link they were sent: no bearer token, the link's " +
			"single-use token authenticates the request (401 otherwise). As complete-form-signature, but the answer " +
			"names nothing of the order. A wrong code uses one attempt (400 otp-invalid); a closed challenge is 409.",
		Tags: tags, DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusUnauthorized, http.StatusConflict}},
		public, func(ctx context.Context, in *ApplicantFormSignatureInput) (*struct{}, error) {
			if err := a.p.CompleteFormSignatureByLink(ctx, registra.LinkToken(in.Body.Link), in.Body.OTP); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
	register(a, huma.Operation{OperationID: "complete-form-signature", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/form-signature/{challenge}",
		Summary: "Sign the request form with the applicant's OTP",
		Description: "Checks the code; when it matches, the one-shot certificate is issued and the form signed, and the signature " +
			"waits for the method's last step; for a Video ID order whose provider's session record came first, the " +
			"recognition is recorded now (status to_issue). A wrong code uses one attempt (400 otp-invalid); a closed " +
			"challenge is 409.",
		Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *CompleteFormSignatureInput) (*OrderOutput, error) {
			o, err := a.p.CompleteFormSignature(ctx, actorFrom(ctx), in.ID, in.Challenge, in.Body.OTP)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "recognise-live-id", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/live-id",
		Summary: "Recognise the applicant in person, with the report the RAO signed (to_identify → to_issue)",
		Description: "Takes the recognition report signed by the acting RAO (.p7m) and the identity document images as a " +
			"multipart upload, after the applicant's form signature. The platform verifies both signatures " +
			"(recognition.LiveID; the report in the name of the tax code registered for the RAO), seals the evidence " +
			"with its evidence key and records it.",
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *LiveIDRecognitionInput) (*OrderOutput, error) {
			d := in.RawBody.Data()
			ups, err := readUploads([]kindFile{{recognition.KindSignedReport, d.SignedReport}, {recognition.KindDocumentFront, d.DocumentFront},
				{recognition.KindDocumentBack, d.DocumentBack}, {recognition.KindDocumentBoth, d.DocumentBoth}})
			if err != nil {
				return nil, err
			}
			o, err := a.p.Recognise(ctx, actorFrom(ctx), in.ID, recognition.Submission{Uploads: ups})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "recognise-video-id", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/video-id",
		Summary: "Recognise the applicant from the video provider's session record (to_identify → to_issue)",
		Description: "Takes the provider's session record with its timestamp and HMAC signature as a multipart upload, after " +
			"the applicant's form signature. The platform authenticates the record (401 callback-unauthenticated), refuses " +
			"a session accepted before (409 replay), verifies it with the form signature (recognition.VideoID), seals the " +
			"evidence and records it.",
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *VideoIDRecognitionInput) (*OrderOutput, error) {
			d := in.RawBody.Data()
			body, err := readFile("session", d.Session)
			if err != nil {
				return nil, err
			}
			o, err := a.p.RecogniseVideo(ctx, actorFrom(ctx), in.ID,
				recognition.CallbackRequest{Timestamp: d.Timestamp, Signature: d.Signature, Body: body})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "video-id-callback", Method: http.MethodPost, Path: "/v1/recognition/video-id/callback",
		Summary: "The video provider's session record (Video ID)",
		Description: "The provider's webhook: its session record as the JSON body, authenticated by the X-Registra-Timestamp " +
			"and X-Registra-Signature headers (v1=<hex HMAC-SHA256 of timestamp.body>). No bearer token: the signature " +
			"authenticates the request (401 otherwise); a session accepted before is 409. The record names the order; when " +
			"the applicant's form signature is complete the recognition is recorded (recorded true), otherwise the record " +
			"waits for it. The answer names nothing of the order.",
		// The body is the provider's bytes, authenticated as they are: huma
		// must not read it as a JSON document of the RawBody's schema.
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, SkipValidateBody: true,
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict}},
		public, func(ctx context.Context, in *VideoCallbackInput) (*VideoCallbackOutput, error) {
			recorded, err := a.p.VideoCallback(ctx, recognition.CallbackRequest{Timestamp: in.Timestamp, Signature: in.Signature, Body: in.RawBody})
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &VideoCallbackOutput{}
			out.Body.Recorded = recorded
			return out, nil
		})
	register(a, huma.Operation{OperationID: "start-spid-login", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/spid/login",
		Summary: "Start the applicant's SPID login",
		Description: "Returns the identity provider's address with a signed AuthnRequest and the RelayState that binds the " +
			"response to this order. The identity provider posts the response to the assertion consumer service, " +
			"POST /v1/recognition/spid/acs, within 30 minutes.",
		Tags: tags, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *OrderPath) (*SPIDLoginOutput, error) {
			l, err := a.p.StartSPIDLogin(ctx, actorFrom(ctx), in.ID)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &SPIDLoginOutput{}
			out.Body.URL, out.Body.RequestID, out.Body.RelayState, out.Body.ExpiresAt = l.URL, l.RequestID, l.RelayState, l.ExpiresAt
			return out, nil
		})
	register(a, huma.Operation{OperationID: "spid-acs", Method: http.MethodPost, Path: "/v1/recognition/spid/acs",
		Summary: "SPID assertion consumer service (to_identify → to_issue)",
		Description: "Takes the identity provider's SAML response (HTTP-POST binding) with the RelayState of a started login. " +
			"No bearer token: the single-use RelayState and the identity provider's signature authenticate the request " +
			"(401 otherwise). The platform verifies the response and the applicant's form signature (recognition.SPID), " +
			"seals the evidence and records it for the operator who started the login.",
		Tags: tags, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict}},
		public, func(ctx context.Context, in *SPIDAssertionInput) (*OrderOutput, error) {
			v, err := url.ParseQuery(string(in.RawBody))
			if err != nil {
				return nil, badRequest("body", "is not application/x-www-form-urlencoded")
			}
			resp, relay := v.Get("SAMLResponse"), v.Get("RelayState")
			switch {
			case resp == "":
				return nil, badRequest("SAMLResponse", "is required")
			case relay == "":
				return nil, badRequest("RelayState", "is required")
			}
			o, err := a.p.SPIDAssertion(ctx, resp, relay)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "spid-metadata", Method: http.MethodGet, Path: "/v1/recognition/spid/metadata",
		Summary:     "The SPID service provider's SAML metadata",
		Description: "The metadata to register with the identity provider. Unavailable (400) when the platform has no SPID configuration.",
		Tags:        tags},
		public, func(ctx context.Context, _ *struct{}) (*SPIDMetadataOutput, error) {
			b, err := a.p.SPIDMetadata()
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &SPIDMetadataOutput{ContentType: "application/samlmetadata+xml", Body: b}, nil
		})
}

// readFile reads one uploaded file; the body limit has already bounded its
// size. Problems name the form field, as huma's own do.
func readFile(field string, f huma.FormFile) ([]byte, error) {
	if !f.IsSet {
		return nil, badRequest(field, "is required")
	}
	b := make([]byte, f.Size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, badRequest(field, "cannot be read")
	}
	return b, nil
}
