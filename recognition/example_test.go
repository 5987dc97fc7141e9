package recognition_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/registra-pki/registra/recognition"
)

func ExampleMethod_Requirements() {
	for _, m := range recognition.Methods() {
		r := m.Requirements()
		fmt.Printf("%-8s otp=%-5t usage_limited=%-5t steps=%v\n", m, r.OTPSignature, r.UsageLimited, r.Steps)
	}
	// Output:
	// offline  otp=false usage_limited=false steps=[enter_request upload_document upload_form upload_report officer_details seal]
	// live_id  otp=true  usage_limited=false steps=[enter_request upload_document sign_report otp_signature seal]
	// video_id otp=true  usage_limited=false steps=[enter_request video_session otp_signature seal]
	// sign_id  otp=false usage_limited=false steps=[enter_request upload_document verify_signature match_identity antivirus seal]
	// spid     otp=true  usage_limited=true  steps=[enter_request spid_login match_identity otp_signature seal]
}

func ExampleSniffMediaType() {
	for _, b := range [][]byte{
		[]byte("%PDF-1.7 ..."),
		{0xFF, 0xD8, 0xFF, 0xE0},
		[]byte("\x89PNG\r\n\x1a\n..."),
		[]byte("MZ\x90\x00 an executable"),
	} {
		mt, ok := recognition.SniffMediaType(b)
		fmt.Println(mt, ok)
	}
	// Output:
	// application/pdf true
	// image/jpeg true
	// image/png true
	//  false
}

func ExampleFoldName() {
	fmt.Println(recognition.FoldName("Nicolò D'Alò-Rossi"))
	fmt.Println(recognition.FoldName("  maria   josé "))
	// Output:
	// NICOLO D ALO ROSSI
	// MARIA JOSE
}

func ExampleParseClamdReply() {
	for _, reply := range []string{"stream: OK", "stream: Eicar-Test-Signature FOUND", "INSTREAM size limit exceeded. ERROR"} {
		res, err := recognition.ParseClamdReply(reply)
		fmt.Println(res.Clean, res.Threat, errors.Is(err, recognition.ErrScannerUnavailable))
	}
	// Output:
	// true  false
	// false Eicar-Test-Signature false
	// false  true
}

// ExampleOffline_Verify verifies an Offline recognition uploaded by a plain
// operator on behalf of the RAO who saw the applicant.
func ExampleOffline_Verify() {
	v, err := recognition.NewOffline(recognition.OfflineConfig{
		Now: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	ev, err := v.Verify(context.Background(), recognition.Submission{
		OrderID:   "ord-42",
		Applicant: recognition.Applicant{TaxCode: "RSSMRA85T10A562S", GivenName: "Mario", Surname: "Rossi"},
		Operator:  recognition.Operator{ID: "op-1", Role: recognition.RoleOperator, Org: "ACME01", Unit: "Milano"},
		Officer: &recognition.Officer{ID: "rao-7", GivenName: "Anna", Surname: "Bianchi",
			TaxCode: "BNCNNA79D42H501J", Role: recognition.RoleRAO},
		Consents: []recognition.Consent{{Name: recognition.ConsentPrivacy, Given: true}},
		Uploads: []recognition.Upload{
			{Kind: recognition.KindDocumentBoth, Name: "id.jpg", Data: []byte("\xFF\xD8\xFF\xE0 both sides")},
			{Kind: recognition.KindSignedPaperForm, Name: "form.pdf", Data: []byte("%PDF-1.4 signed form")},
			{Kind: recognition.KindReport, Name: "report.pdf", Data: []byte("%PDF-1.4 report")},
		},
	})
	if err != nil {
		panic(err)
	}
	m := ev.Manifest
	fmt.Println(m.Method, m.Attributes["recognised_by"], len(m.Artefacts), m.Passed())
	for _, a := range m.Artefacts {
		fmt.Println(a.Kind, a.MediaType, a.SHA256.String()[:12])
	}

	// A submission missing the report changes nothing and names the field.
	_, err = v.Verify(context.Background(), recognition.Submission{})
	fmt.Println(errors.Is(err, recognition.ErrInvalidInput))
	// Output:
	// offline rao-7 3 true
	// document_both image/jpeg 014acd7d4279
	// signed_paper_form application/pdf 0d2109c7f93b
	// recognition_report application/pdf 34467aeb1637
	// true
}

// ExampleVerifySealed seals evidence with an evidence key and verifies the
// bundle offline from the bundle and the root certificate alone.
func ExampleVerifySealed() {
	// A one-level CA for the example; a deployment uses the platform CA.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "evidence seal"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	sealer, err := recognition.NewSealer(recognition.SealerConfig{Certificate: cert, Key: key})
	if err != nil {
		panic(err)
	}

	form := []byte("%PDF-1.4 signed form")
	ev := recognition.Evidence{
		Manifest: recognition.Manifest{
			Version: recognition.ManifestVersion, Method: recognition.MethodOffline, OrderID: "ord-42",
			Artefacts: []recognition.ArtefactRef{{Kind: recognition.KindSignedPaperForm, MediaType: recognition.MediaPDF,
				Size: len(form), SHA256: recognition.DigestOf(form)}},
		},
		Artefacts: map[recognition.Digest][]byte{recognition.DigestOf(form): form},
	}
	sealed, err := sealer.Seal(context.Background(), &ev)
	if err != nil {
		panic(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	got, err := recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: roots})
	fmt.Println(got.Manifest.OrderID, err)

	sealed.Artefacts[recognition.DigestOf(form)] = []byte("%PDF-1.4 another form")
	_, err = recognition.VerifySealed(sealed, recognition.SealVerifyOptions{Roots: roots})
	fmt.Println(errors.Is(err, recognition.ErrVerification))
	// Output:
	// ord-42 <nil>
	// true
}
