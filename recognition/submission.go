package recognition

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/registra-pki/registra/internal/taxcode"
)

// Submission is what an operator (or the applicant, through a link) submits
// for one recognition. Common fields apply to every method; the
// method-specific fields are documented with the method that reads them.
// A verifier never modifies the submission.
type Submission struct {
	OrderID   string    // the order being recognised; required
	ProductID string    // the product, if already known
	Applicant Applicant // snapshot of the applicant's data; tax code and names required
	Operator  Operator  // the acting operator; ID and role required
	// Officer is the recognising officer when the uploader did not
	// recognise the applicant personally (Offline, uploaded by an operator).
	Officer  *Officer
	Consents []Consent // the privacy consent must be given
	Uploads  []Upload  // files: document images, forms, reports, .p7m

	// FormSignature is the applicant's OTP-authorised one-shot signature of
	// the request form (Live ID, Video ID), from [OTPSigner.Complete].
	FormSignature *FormSignature
	// VideoSession is the provider's session record accepted by
	// [VideoID.Callback] (Video ID).
	VideoSession *VideoSession
	// SAMLResponse is the SAML response posted to the assertion consumer
	// service, base64 as received (SPID).
	SAMLResponse string
	// SAMLRequestIDs are the IDs of the AuthnRequests sent for this order;
	// the response must answer one of them (SPID).
	SAMLRequestIDs []string
}

// Upload is one uploaded file.
type Upload struct {
	Kind ArtefactKind // what the file is
	Name string       // file name as uploaded (recorded, not trusted)
	Data []byte       // content; its type is sniffed, never taken from Name
}

// Media types recognised by [SniffMediaType].
const (
	MediaJPEG = "image/jpeg"
	MediaPNG  = "image/png"
	MediaPDF  = "application/pdf"
	MediaP7M  = "application/pkcs7-mime" // CMS SignedData, DER or BER (.p7m)
	MediaJSON = "application/json"       // provider callback payloads
	MediaXML  = "application/samlassertion+xml"
	MediaCert = "application/pkix-cert"
	MediaCRL  = "application/pkix-crl"
)

// DefaultMaxUploadSize is the size limit of one upload when a config leaves
// it zero.
const DefaultMaxUploadSize = 10 << 20

// SniffMediaType returns the media type of b from its leading bytes: JPEG,
// PNG, PDF or a .p7m (CMS SignedData). Anything else is refused: uploads are
// limited to these four types (issue #8).
func SniffMediaType(b []byte) (string, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return MediaJPEG, true
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return MediaPNG, true
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return MediaPDF, true
	case looksLikeSignedData(b):
		return MediaP7M, true
	}
	return "", false
}

// allowedMedia lists the media types accepted for each upload kind.
var allowedMedia = map[ArtefactKind][]string{
	KindDocumentFront:   {MediaJPEG, MediaPNG, MediaPDF},
	KindDocumentBack:    {MediaJPEG, MediaPNG, MediaPDF},
	KindDocumentBoth:    {MediaJPEG, MediaPNG, MediaPDF},
	KindTaxCard:         {MediaJPEG, MediaPNG, MediaPDF},
	KindSelfie:          {MediaJPEG, MediaPNG},
	KindSignedPaperForm: {MediaPDF, MediaJPEG, MediaPNG},
	KindReport:          {MediaPDF, MediaJPEG, MediaPNG},
	KindSignedReport:    {MediaP7M},
	KindRequestForm:     {MediaPDF},
	KindSignedForm:      {MediaP7M},
}

// checkedUpload is an upload with its sniffed media type.
type checkedUpload struct {
	Upload
	MediaType string
}

// validateCommon checks what every method needs and the uploads: each
// upload's kind is one the method takes, its sniffed type is allowed for
// its kind and it is within maxSize; document images are front and back, or
// one image with both sides. It adds the problems to fe and returns the
// uploads that passed, with their types.
func validateCommon(fe *fieldErrors, m Method, s *Submission, maxSize int, kinds []ArtefactKind) []checkedUpload {
	req := m.Requirements()
	if strings.TrimSpace(s.OrderID) == "" {
		fe.add("order_id", "is required")
	}
	if _, err := taxcode.Parse(s.Applicant.TaxCode); err != nil {
		fe.add("applicant.tax_code", err.Error())
	} else if s.Applicant.TaxCode != strings.ToUpper(strings.TrimSpace(s.Applicant.TaxCode)) {
		fe.add("applicant.tax_code", "must be upper case without spaces")
	}
	if strings.TrimSpace(s.Applicant.GivenName) == "" {
		fe.add("applicant.given_name", "is required")
	}
	if strings.TrimSpace(s.Applicant.Surname) == "" {
		fe.add("applicant.surname", "is required")
	}
	if strings.TrimSpace(s.Operator.ID) == "" {
		fe.add("operator.id", "is required")
	}
	switch {
	case !s.Operator.Role.valid():
		fe.add("operator.role", fmt.Sprintf("unknown role %q", s.Operator.Role))
	case !req.allows(s.Operator.Role):
		fe.add("operator.role", fmt.Sprintf("%s may not perform %s recognition", s.Operator.Role, m))
	}
	if !slices.ContainsFunc(s.Consents, func(c Consent) bool { return c.Name == ConsentPrivacy && c.Given }) {
		fe.add("consents", "the privacy consent must be given")
	}
	out := make([]checkedUpload, 0, len(s.Uploads))
	count := map[ArtefactKind]int{}
	for i, u := range s.Uploads {
		field := fmt.Sprintf("uploads[%d]", i)
		if !slices.Contains(kinds, u.Kind) {
			fe.add(field+".kind", fmt.Sprintf("%q is not taken by %s recognition", u.Kind, m))
			continue
		}
		count[u.Kind]++
		if len(u.Data) == 0 {
			fe.add(field+".data", "is empty")
			continue
		}
		if len(u.Data) > maxSize {
			fe.add(field+".data", fmt.Sprintf("larger than %d bytes", maxSize))
			continue
		}
		mt, ok := SniffMediaType(u.Data)
		if !ok {
			fe.add(field+".data", "type must be JPEG, PNG, PDF or .p7m")
			continue
		}
		if !slices.Contains(allowedMedia[u.Kind], mt) {
			fe.add(field+".data", fmt.Sprintf("%s is not accepted for %s (want %s)", mt, u.Kind, strings.Join(allowedMedia[u.Kind], ", ")))
			continue
		}
		out = append(out, checkedUpload{Upload: u, MediaType: mt})
	}
	for k, n := range count {
		if n > 1 {
			fe.add("uploads", fmt.Sprintf("%s uploaded %d times", k, n))
		}
	}
	if req.DocumentImages {
		front, back, both := count[KindDocumentFront] > 0, count[KindDocumentBack] > 0, count[KindDocumentBoth] > 0
		switch {
		case both && (front || back):
			fe.add("uploads", "document: either front and back, or one image with both sides, not both")
		case !both && !(front && back):
			fe.add("uploads", "document: front and back images, or one image with both sides, are required")
		}
	}
	return out
}

// documentKinds are the kinds of identity document images.
var documentKinds = []ArtefactKind{KindDocumentFront, KindDocumentBack, KindDocumentBoth}

// find returns the first upload of the given kind.
func find(ups []checkedUpload, kind ArtefactKind) (checkedUpload, bool) {
	i := slices.IndexFunc(ups, func(u checkedUpload) bool { return u.Kind == kind })
	if i < 0 {
		return checkedUpload{}, false
	}
	return ups[i], true
}

// FoldName folds a personal name for comparison: accents removed (NFD,
// combining marks dropped), letters upper-cased, and every run of other
// characters (spaces, apostrophes, hyphens) turned into one space. So
// "Nicolò D'Alò-Rossi" folds to "NICOLO D ALO ROSSI".
func FoldName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToUpper(r))
		default:
			space = true
		}
	}
	return b.String()
}

// sameName compares two names after folding, ignoring spaces (so
// "D'Angelo" matches "DANGELO" and "De Luca" matches "DELUCA").
func sameName(a, b string) bool {
	strip := func(s string) string { return strings.ReplaceAll(FoldName(s), " ", "") }
	fa, fb := strip(a), strip(b)
	return fa != "" && fa == fb
}

// sameTaxCode compares a TINIT-<code> value (ETSI EN 319 412-1 §5.1.3
// semantics identifier for a natural person: "TIN" + ISO 3166 country +
// "-" + tax code) with the applicant's code, after normalising both.
func sameTaxCode(serialNumber, applicant string) bool {
	code, ok := strings.CutPrefix(strings.ToUpper(strings.TrimSpace(serialNumber)), "TINIT-")
	if !ok {
		return false
	}
	got, err := taxcode.Parse(code)
	if err != nil {
		return false
	}
	want, err := taxcode.Parse(applicant)
	if err != nil {
		return false
	}
	return got.String() == want.String()
}
