// Package logattr names the slog attribute keys registra uses, so that log
// lines stay greppable across packages.
package logattr

// Attribute keys. Values that are secrets never appear under any key: secret
// types redact themselves (see their LogValue methods).
const (
	Serial      = "serial"
	Issuer      = "issuer"
	Profile     = "profile"
	OrderID     = "order_id"
	ProductID   = "product_id"
	Org         = "org"
	Actor       = "actor"
	CRLNumber   = "crl_number"
	Deadline    = "deadline"
	KeyURI      = "key_uri"
	EnvelopeID  = "envelope_id"
	Recipient   = "recipient"
	Attempt     = "attempt"
	Method      = "method"
	Lint        = "lint"
	Reply       = "reply"        // an SMTP server's reply to a failed delivery
	NextAttempt = "next_attempt" // when a queued delivery is tried again
	CodeNames   = "code_names"   // names (never values) of activation codes
)
