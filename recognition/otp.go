package recognition

import (
	"crypto/x509"
	"time"
)

// FormSignature is the applicant's OTP-authorised one-shot signature of the
// request form, produced by [OTPSigner.Complete].
type FormSignature struct {
	// Form is the request form that was signed (PDF).
	Form []byte
	// P7M is the CAdES-BES signature with the form attached.
	P7M []byte
	// Certificate is the one-shot certificate the form was signed with.
	Certificate *x509.Certificate
	// Chain holds the issuing certificates above Certificate.
	Chain []*x509.Certificate
	// OTP records how the signature was authorised.
	OTP OTPRecord
}

// OTPRecord is what the evidence keeps about an OTP authorisation: never
// the code or its secret.
type OTPRecord struct {
	Channel     string    // delivery channel named by the Sender, e.g. "sms"
	Destination string    // masked destination, e.g. "+39*******890"
	SentAt      time.Time // when the code was sent
	VerifiedAt  time.Time // when the right code was entered
	Attempts    int       // attempts used, including the successful one
}
