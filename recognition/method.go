package recognition

import (
	"fmt"
	"slices"
)

// Method is a recognition method: how the applicant's identity is proven
// before a qualified certificate is issued (Manuale operatore, "Introduction
// to the Recognition Process").
type Method uint8

// The five recognition methods of the partner manual.
const (
	// MethodOffline: in-person recognition with a handwritten paper form;
	// the signed form and the recognition report are uploaded.
	MethodOffline Method = iota + 1
	// MethodLiveID: in-person recognition; the RAO signs the recognition
	// report (.p7m) and the applicant signs the request form with a one-shot
	// certificate authorised by an OTP.
	MethodLiveID
	// MethodVideoID: remote recognition through an external video provider,
	// then the same OTP signature of the form.
	MethodVideoID
	// MethodSignID: the applicant signs the form with an existing qualified
	// signature; the .p7m is verified, matched and scanned.
	MethodSignID
	// MethodSPID: remote recognition through a SPID login (SAML); products
	// recognised this way carry a usage limitation.
	MethodSPID
)

var methodNames = [...]string{
	MethodOffline: "offline",
	MethodLiveID:  "live_id",
	MethodVideoID: "video_id",
	MethodSignID:  "sign_id",
	MethodSPID:    "spid",
}

// Methods lists every method in manual order.
func Methods() []Method {
	return []Method{MethodOffline, MethodLiveID, MethodVideoID, MethodSignID, MethodSPID}
}

// String returns the stable wire name of the method ("offline", "live_id",
// "video_id", "sign_id", "spid").
func (m Method) String() string {
	if int(m) < len(methodNames) && methodNames[m] != "" {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Valid reports whether m is one of the five methods.
func (m Method) Valid() bool {
	return m >= MethodOffline && m <= MethodSPID
}

// ParseMethod returns the method with the given wire name.
func ParseMethod(s string) (Method, error) {
	for _, m := range Methods() {
		if methodNames[m] == s {
			return m, nil
		}
	}
	return 0, &FieldError{Field: "method", Rule: fmt.Sprintf("unknown method %q", s)}
}

// MarshalText encodes the method by its wire name.
func (m Method) MarshalText() ([]byte, error) {
	if !m.Valid() {
		return nil, &FieldError{Field: "method", Rule: fmt.Sprintf("unknown method %d", uint8(m))}
	}
	return []byte(m.String()), nil
}

// UnmarshalText decodes a wire name.
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Role is an operator role as far as recognition is concerned (DESIGN.md,
// "Operators"). The access package owns the full role model; the evidence
// records the role the operator acted in.
type Role string

// Operator roles.
const (
	RoleOperator  Role = "operator"   // enters requests; cannot recognise
	RoleIR        Role = "ir"         // registration officer: also recognises
	RoleRAO       Role = "rao"        // also issues, suspends, revokes
	RoleMasterRAO Role = "master_rao" // RAO who also manages operators
)

// recognises reports whether the role may perform a recognition itself.
func (r Role) recognises() bool {
	return r == RoleIR || r == RoleRAO || r == RoleMasterRAO
}

func (r Role) valid() bool {
	return r == RoleOperator || r.recognises()
}

// ArtefactKind names what an artefact of the evidence is.
type ArtefactKind string

// Artefact kinds.
const (
	KindDocumentFront     ArtefactKind = "document_front"     // front of the identity document
	KindDocumentBack      ArtefactKind = "document_back"      // back of the identity document
	KindDocumentBoth      ArtefactKind = "document_both"      // one image with both sides
	KindTaxCard           ArtefactKind = "tax_card"           // image of the tax code card (Video ID)
	KindSelfie            ArtefactKind = "selfie"             // selfie taken during Video ID
	KindSignedPaperForm   ArtefactKind = "signed_paper_form"  // scan of the handwritten-signed form (Offline)
	KindReport            ArtefactKind = "recognition_report" // recognition report, scan or PDF (Offline)
	KindSignedReport      ArtefactKind = "signed_report"      // recognition report signed by the RAO (.p7m; Live ID, or Offline)
	KindRequestForm       ArtefactKind = "request_form"       // the unsigned request form shown to the applicant
	KindSignedForm        ArtefactKind = "signed_form"        // request form signed by the applicant (.p7m)
	KindOneShotCert       ArtefactKind = "one_shot_cert"      // DER of the one-shot certificate
	KindVideoSession      ArtefactKind = "video_session"      // the provider's authenticated callback payload
	KindSAMLResponse      ArtefactKind = "saml_response"      // the SAML response as received
	KindRevocationList    ArtefactKind = "crl"                // the CRL used for the revocation check
	KindSignerCertificate ArtefactKind = "signer_certificate" // DER of a verified signer certificate
)

// Step is one step of a recognition method, in the order the manual gives.
type Step string

// Steps of the recognition methods.
const (
	StepEnterRequest    Step = "enter_request"    // applicant data, contacts, product, consents
	StepUploadDocument  Step = "upload_document"  // identity document images
	StepUploadForm      Step = "upload_form"      // the signed paper form
	StepUploadReport    Step = "upload_report"    // the recognition report
	StepOfficerDetails  Step = "officer_details"  // recognising officer, when a plain operator uploads
	StepSignReport      Step = "sign_report"      // the RAO signs the report (.p7m)
	StepVideoSession    Step = "video_session"    // provider callback with the session record
	StepSPIDLogin       Step = "spid_login"       // SAML response from the identity provider
	StepVerifySignature Step = "verify_signature" // .p7m signature, chain, revocation, qualified
	StepMatchIdentity   Step = "match_identity"   // signer or attributes against the applicant
	StepAntivirus       Step = "antivirus"        // scan of the uploaded file
	StepOTPSignature    Step = "otp_signature"    // one-shot certificate and OTP-authorised signature
	StepSeal            Step = "seal"             // the evidence is sealed
)

// Requirements is what a method needs: its steps and its evidence.
type Requirements struct {
	// Steps in order.
	Steps []Step
	// Required artefact kinds (documents are described by DocumentImages).
	Artefacts []ArtefactKind
	// DocumentImages reports whether identity document images are required:
	// either front and back, or one image with both sides.
	DocumentImages bool
	// OTPSignature reports whether the applicant signs the request form with
	// an OTP-authorised one-shot certificate.
	OTPSignature bool
	// Roles that may perform the recognition. RoleOperator listed means a
	// plain operator may upload the evidence on a recogniser's behalf.
	Roles []Role
	// UsageLimited reports whether products recognised this way are issued
	// as the usage-limited variant (SPID: not valid to obtain a SPID
	// identity; Manuale operatore, "SPID Recognition Product Request").
	UsageLimited bool
}

// Requirements returns what the method needs. The table follows the manual's
// chapter for each method.
func (m Method) Requirements() Requirements {
	switch m {
	case MethodOffline:
		return Requirements{
			Steps: []Step{StepEnterRequest, StepUploadDocument, StepUploadForm, StepUploadReport, StepOfficerDetails, StepSeal},
			// The report is KindReport, or KindSignedReport when the
			// officer signed it digitally.
			Artefacts:      []ArtefactKind{KindSignedPaperForm, KindReport},
			DocumentImages: true,
			Roles:          []Role{RoleOperator, RoleIR, RoleRAO, RoleMasterRAO},
		}
	case MethodLiveID:
		return Requirements{
			Steps:          []Step{StepEnterRequest, StepUploadDocument, StepSignReport, StepOTPSignature, StepSeal},
			Artefacts:      []ArtefactKind{KindSignedReport, KindRequestForm, KindSignedForm, KindOneShotCert},
			DocumentImages: true,
			OTPSignature:   true,
			Roles:          []Role{RoleIR, RoleRAO, RoleMasterRAO},
		}
	case MethodVideoID:
		return Requirements{
			Steps:        []Step{StepEnterRequest, StepVideoSession, StepOTPSignature, StepSeal},
			Artefacts:    []ArtefactKind{KindVideoSession, KindDocumentFront, KindSelfie, KindRequestForm, KindSignedForm, KindOneShotCert},
			OTPSignature: true,
			Roles:        []Role{RoleOperator, RoleIR, RoleRAO, RoleMasterRAO},
		}
	case MethodSignID:
		return Requirements{
			Steps:          []Step{StepEnterRequest, StepUploadDocument, StepVerifySignature, StepMatchIdentity, StepAntivirus, StepSeal},
			Artefacts:      []ArtefactKind{KindSignedForm, KindSignerCertificate},
			DocumentImages: true,
			Roles:          []Role{RoleIR, RoleRAO, RoleMasterRAO},
		}
	case MethodSPID:
		return Requirements{
			Steps:        []Step{StepEnterRequest, StepSPIDLogin, StepMatchIdentity, StepOTPSignature, StepSeal},
			Artefacts:    []ArtefactKind{KindSAMLResponse, KindRequestForm, KindSignedForm, KindOneShotCert},
			OTPSignature: true,
			Roles:        []Role{RoleOperator, RoleIR, RoleRAO, RoleMasterRAO},
			UsageLimited: true,
		}
	}
	return Requirements{}
}

// allows reports whether the role may act for the method.
func (r Requirements) allows(role Role) bool {
	return slices.Contains(r.Roles, role)
}

// CheckName names one verification check. Every failed check is reported as
// its own [*CheckError] and every check run is recorded in the evidence.
type CheckName string

// Check names.
const (
	CheckFormat             CheckName = "format"              // the artefact parses
	CheckSignature          CheckName = "signature"           // signature over the content
	CheckSigningCertificate CheckName = "signing_certificate" // CAdES signing-certificate attribute binds the signer
	CheckChain              CheckName = "chain"               // chain to a trust anchor
	CheckValidity           CheckName = "validity"            // signer certificate valid now
	CheckSigningTime        CheckName = "signing_time"        // signing time within validity, not future, not stale
	CheckRevocation         CheckName = "revocation"          // not on a current CRL
	CheckQualified          CheckName = "qualified"           // QcCompliance statement
	CheckKeyUsage           CheckName = "key_usage"           // nonRepudiation
	CheckTaxCode            CheckName = "tax_code"            // serialNumber TINIT-<tax code>
	CheckPersonName         CheckName = "name"                // given name and surname
	CheckSigner             CheckName = "signer"              // the signer is the acting RAO / the one-shot certificate
	CheckContent            CheckName = "content"             // the signed content is the expected document
	CheckAntivirus          CheckName = "antivirus"           // scanner reports the file clean
	CheckOTP                CheckName = "otp"                 // OTP verified
	CheckCallback           CheckName = "callback"            // provider callback authenticated
	CheckReplay             CheckName = "replay"              // message seen for the first time
	CheckOutcome            CheckName = "outcome"             // provider outcome is a success
	CheckSAML               CheckName = "saml"                // SAML signature, issuer, audience, time window
	CheckAttributes         CheckName = "attributes"          // SPID attributes match the applicant
	CheckArtefact           CheckName = "artefact"            // stored artefact matches its hash
	CheckSeal               CheckName = "seal"                // the sealed manifest
)
