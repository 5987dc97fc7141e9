package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra/recognition"
)

// OfflineRecognitionInput records an Offline recognition from its
// artefacts, uploaded as multipart/form-data. Files are sniffed by the
// platform (JPEG, PNG, PDF, .p7m), never trusted by their declared type.
type OfflineRecognitionInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		SignedPaperForm huma.FormFile `form:"signed_paper_form" contentType:"application/octet-stream" required:"true" doc:"Scan (PDF, JPEG, PNG) of the request form signed by hand."`
		Report          huma.FormFile `form:"recognition_report" contentType:"application/octet-stream" required:"false" doc:"The recognition report as a scan or PDF; exactly one of recognition_report and signed_report."`
		SignedReport    huma.FormFile `form:"signed_report" contentType:"application/octet-stream" required:"false" doc:"The recognition report signed by the officer (.p7m, CAdES)."`
		DocumentFront   huma.FormFile `form:"document_front" contentType:"application/octet-stream" required:"false" doc:"Front of the identity document (JPEG, PNG, PDF)."`
		DocumentBack    huma.FormFile `form:"document_back" contentType:"application/octet-stream" required:"false" doc:"Back of the identity document."`
		DocumentBoth    huma.FormFile `form:"document_both" contentType:"application/octet-stream" required:"false" doc:"One image with both sides of the identity document."`
		OfficerID       string        `form:"officer_id" required:"false" maxLength:"64" doc:"The recognising officer's operator ID, when the uploader did not see the applicant."`
		OfficerGiven    string        `form:"officer_given_name" required:"false" maxLength:"64" doc:"The recognising officer's given name."`
		OfficerSurname  string        `form:"officer_surname" required:"false" maxLength:"64" doc:"The recognising officer's surname."`
		OfficerTaxCode  string        `form:"officer_tax_code" required:"false" maxLength:"16" doc:"The recognising officer's tax code."`
		OfficerRole     string        `form:"officer_role" required:"false" enum:"ir,rao,master_rao" doc:"The recognising officer's role."`
	}]
}

// SignIDRecognitionInput records a Sign ID recognition from the
// applicant's signed request form, uploaded as multipart/form-data.
type SignIDRecognitionInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The order ID."`
	RawBody huma.MultipartFormFiles[struct {
		SignedForm    huma.FormFile `form:"signed_form" contentType:"application/octet-stream" required:"true" doc:"The request form signed by the applicant with a qualified signature (.p7m, CAdES)."`
		DocumentFront huma.FormFile `form:"document_front" contentType:"application/octet-stream" required:"false" doc:"Front of the identity document (JPEG, PNG, PDF)."`
		DocumentBack  huma.FormFile `form:"document_back" contentType:"application/octet-stream" required:"false" doc:"Back of the identity document."`
		DocumentBoth  huma.FormFile `form:"document_both" contentType:"application/octet-stream" required:"false" doc:"One image with both sides of the identity document."`
	}]
}

// routesRecognise registers the recognitions made from uploads.
func (a *API) routesRecognise() {
	register(a, huma.Operation{OperationID: "recognise-offline", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/offline",
		Summary: "Recognise the applicant offline from the uploaded artefacts (to_identify → to_issue)",
		Description: "Takes the signed paper form, the recognition report and the identity document images as a multipart " +
			"upload, with the recognising officer's details when the uploader did not see the applicant. The platform verifies " +
			"them (recognition.Offline), seals the evidence with its evidence key and records it.",
		Tags: []string{"orders"}, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *OfflineRecognitionInput) (*OrderOutput, error) {
			d := in.RawBody.Data()
			ups, err := readUploads([]kindFile{
				{recognition.KindSignedPaperForm, d.SignedPaperForm}, {recognition.KindReport, d.Report},
				{recognition.KindSignedReport, d.SignedReport}, {recognition.KindDocumentFront, d.DocumentFront},
				{recognition.KindDocumentBack, d.DocumentBack}, {recognition.KindDocumentBoth, d.DocumentBoth},
			})
			if err != nil {
				return nil, err
			}
			s := recognition.Submission{Uploads: ups}
			if d.OfficerID != "" || d.OfficerGiven != "" || d.OfficerSurname != "" || d.OfficerTaxCode != "" || d.OfficerRole != "" {
				s.Officer = &recognition.Officer{ID: d.OfficerID, GivenName: d.OfficerGiven, Surname: d.OfficerSurname,
					TaxCode: d.OfficerTaxCode, Role: recognition.Role(d.OfficerRole)}
			}
			o, err := a.p.Recognise(ctx, actorFrom(ctx), in.ID, s)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return orderOutput(o), nil
		})
	register(a, huma.Operation{OperationID: "recognise-sign-id", Method: http.MethodPost, Path: "/v1/orders/{id}/recognition/sign-id",
		Summary: "Recognise the applicant from a qualified signature (to_identify → to_issue)",
		Description: "Takes the request form signed by the applicant (.p7m) as a multipart upload. The platform verifies the " +
			"signature, chain, revocation and qualification, matches the signer with the applicant, scans the file " +
			"(recognition.SignID), seals the evidence with its evidence key and records it. Unavailable (400) when the " +
			"platform has no Sign ID configuration.",
		Tags: []string{"orders"}, MaxBodyBytes: a.cfg.MaxUploadBytes + 1, Errors: []int{http.StatusConflict}},
		secure, func(ctx context.Context, in *SignIDRecognitionInput) (*OrderOutput, error) {
			d := in.RawBody.Data()
			ups, err := readUploads([]kindFile{{recognition.KindSignedForm, d.SignedForm}, {recognition.KindDocumentFront, d.DocumentFront},
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
}

// kindFile is an uploaded file with the artefact kind its form field names.
type kindFile struct {
	kind recognition.ArtefactKind
	file huma.FormFile
}

// readUploads reads the files that were sent; the body limit has already
// bounded their sizes.
func readUploads(fs []kindFile) ([]recognition.Upload, error) {
	var ups []recognition.Upload
	for _, f := range fs {
		if !f.file.IsSet {
			continue
		}
		b, err := readFile("body."+string(f.kind), f.file)
		if err != nil {
			return nil, err
		}
		ups = append(ups, recognition.Upload{Kind: f.kind, Name: f.file.Filename, Data: b})
	}
	return ups, nil
}
