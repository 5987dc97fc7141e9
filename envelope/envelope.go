package envelope

import (
	"context"
	"fmt"
	"log/slog"
)

// Media types and file names of the two envelope formats.
const (
	// MediaTypeCMS is the media type of a .p7m enveloped-data file (RFC 8551 §3.2.2).
	MediaTypeCMS = "application/pkcs7-mime; smime-type=enveloped-data; name=codes.p7m"
	// MediaTypePDF is the media type of the PDF envelope.
	MediaTypePDF = "application/pdf"
	// FileNameCMS is the file name of the CMS envelope.
	FileNameCMS = "codes.p7m"
	// FileNamePDF is the file name of the PDF envelope.
	FileNamePDF = "codes.pdf"
)

// Envelope is one sealed file holding a holder's activation codes: a CMS
// EnvelopedData (.p7m) or a password-protected PDF. Its bytes are
// ciphertext: an Envelope may be stored, queued and mailed freely.
type Envelope struct {
	// FileName is the attachment's file name, e.g. "codes.p7m".
	FileName string
	// MediaType is the attachment's media type.
	MediaType string
	// Data is the sealed file.
	Data []byte
}

// LogValue logs the file name and size only.
func (e *Envelope) LogValue() slog.Value {
	if e == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("file", e.FileName), slog.Int("bytes", len(e.Data)))
}

// Sealer seals a set of codes under a passphrase.
type Sealer interface {
	// Seal encrypts codes under passphrase. It does not modify codes.
	Seal(ctx context.Context, codes Codes, passphrase Passphrase) (*Envelope, error)
}

// Opener opens an envelope. Its contract follows age's: a wrong passphrase
// returns an error wrapping [ErrWrongPassphrase]; any other error is fatal
// for that envelope. Open never returns a partial code set.
type Opener interface {
	// Open decrypts e with passphrase.
	Open(ctx context.Context, e *Envelope, passphrase Passphrase) (Codes, error)
}

// Delivery is what a mailer receives: sealed envelopes and an address. It
// holds no passphrase and no code in clear (STYLE §2.13).
type Delivery struct {
	// ID identifies the delivery, and names its state in the mailer's
	// queue: 1-128 characters from letters, digits, '.', '_' and '-'.
	ID string
	// ProductID is the product the codes belong to.
	ProductID string
	// To is the holder's e-mail address.
	To string
	// HolderName is the name used in the greeting; it may be empty.
	HolderName string
	// Envelopes are attached to the message in order.
	Envelopes []*Envelope
}

// Validate checks the delivery's fields.
func (d *Delivery) Validate() error {
	if !ValidDeliveryID(d.ID) {
		return &FieldError{Field: "id", Rule: "must be 1-128 characters from letters, digits, '.', '_' and '-'"}
	}
	if d.To == "" {
		return &FieldError{Field: "to", Rule: "is required"}
	}
	if len(d.Envelopes) == 0 {
		return &FieldError{Field: "envelopes", Rule: "must hold at least one envelope"}
	}
	for i, e := range d.Envelopes {
		if e == nil || e.FileName == "" || len(e.Data) == 0 {
			return &FieldError{Field: fmt.Sprintf("envelopes[%d]", i), Rule: "must have a file name and data"}
		}
	}
	return nil
}

// ValidDeliveryID reports whether id may name a delivery: it becomes a file
// name in a mail queue, so path separators and dots alone are excluded.
func ValidDeliveryID(id string) bool {
	if len(id) == 0 || len(id) > 128 || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Mailer queues a delivery for sending. adapters/mail satisfies it; the
// platform calls it after issuance and on resend.
type Mailer interface {
	// Enqueue stores d durably and returns once it is queued; sending
	// happens later and is retried until it succeeds or fails for good.
	Enqueue(ctx context.Context, d *Delivery) error
}

// SealAll seals codes under passphrase with each sealer in turn, e.g. a
// [CMS] and a [PDF], for one [Delivery]. It returns all envelopes or an
// error, never some of them.
func SealAll(ctx context.Context, codes Codes, passphrase Passphrase, sealers ...Sealer) ([]*Envelope, error) {
	if len(sealers) == 0 {
		return nil, &FieldError{Field: "sealers", Rule: "must name at least one sealer"}
	}
	out := make([]*Envelope, 0, len(sealers))
	for _, s := range sealers {
		e, err := s.Seal(ctx, codes, passphrase)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}
