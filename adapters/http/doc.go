// Package httpapi (import path github.com/registra-pki/registra/adapters/http)
// serves a registra Platform over HTTP: a JSON API for partner operators and
// a public listener for relying parties (issue #10).
//
// # The API
//
// [New] builds the operator API on github.com/danielgtaylor/huma/v2 over a
// net/http ServeMux: huma derives the OpenAPI 3.1 document, decodes and
// validates request bodies from Go types, and writes RFC 9457 problem
// details. Each handler decodes its input, makes one Platform call, encodes
// the answer and maps errors (STYLE §2.13); business rules stay in the
// library, so the CLI refuses the same inputs with the same errors.
//
// Operators log in with POST /v1/sessions (username, password and TOTP code)
// and send the returned token as "Authorization: Bearer <token>". Every other
// operation is authenticated before its body is read, and authorised by the
// platform against the lifecycle permission table, within the operator's
// organisation: another organisation's objects are not found. An operator
// changes their own password with PUT /v1/sessions/current/password; a
// master RAO or an admin sets a new one for an operator who forgot theirs
// with POST /v1/operators/{id}/password-reset, or a new TOTP enrolment for
// a lost phone with POST /v1/operators/{id}/totp-reset. Each of these ends
// the operator's sessions.
//
// # Recognition
//
// An order is recognised either from a sealed evidence bundle made elsewhere
// (POST /v1/orders/{id}/recognition, multipart field "bundle"), or from the
// artefacts themselves: POST /v1/orders/{id}/recognition/offline (signed paper
// form, recognition report, document images, and the recognising officer's
// details as form fields) and POST /v1/orders/{id}/recognition/sign-id (the
// applicant's .p7m), both multipart/form-data within MaxUploadBytes. The
// platform verifies them, seals the evidence with its own evidence key and
// records it (Platform.Recognise); file types are sniffed, never taken from
// the declared Content-Type.
//
// Live ID, Video ID and SPID take steps with the applicant. First the
// applicant signs the request form with a one-shot certificate authorised by
// an OTP: POST /v1/orders/{id}/recognition/form-signature (the form, PDF)
// sends the code, POST .../form-signature/{challenge} ({"otp": ...}) checks
// it and signs; or the applicant enters it themselves, without a session,
// with the single-use token of the link they were sent (POST
// /v1/applicant/form to read the form, POST /v1/applicant/form-signature). Then the method's own step records the recognition: POST
// /v1/orders/{id}/recognition/live-id (the report signed by the acting RAO,
// their certificate, the document images), POST .../recognition/video-id
// (the video provider's session record with its timestamp and HMAC
// signature, relayed by an operator) or the provider's own POST
// /v1/recognition/video-id/callback (which may come before the form
// signature, whose completion then records the recognition), or, for
// SPID, POST .../recognition/spid/login (the identity provider's address
// with a signed AuthnRequest and a RelayState) followed by the identity
// provider's POST /v1/recognition/spid/acs. The video callback, the
// assertion consumer service and GET /v1/recognition/spid/metadata take no
// bearer token: the provider's HMAC, or the single-use RelayState and the
// identity provider's signature, authenticate the request, and the
// metadata is public.
//
// # Errors
//
// [Problems] is the one table from sentinel errors to problem types, matched
// with errors.Is in order; a test fails when a sentinel of the root package
// or of a building block has no row. Field errors of every building block
// become entries of the problem's "errors" member, naming the field and the
// rule (and the value the platform would accept instead, when it offers
// one). Requests the adapter itself refuses get problem details too: a
// malformed or schema-violating body (unknown fields included) 400, a body
// over the limit 413, a body that is not JSON 415, a missing, malformed or
// expired token 401. This API never answers 422. Internal errors are logged
// and answered with a fixed detail. A 503 (a follower of a cluster, a store
// closing, or registra.ErrBusy: too many password hashes waiting,
// registra.Config.SlowHashes) carries Retry-After and changed nothing.
//
// # The public listener
//
// [NewPublic] serves, without authentication and over plain HTTP as relying
// parties expect (RFC 5280 §4.2.1.13, RFC 6960 Appendix A): the CA
// certificates (DER and a PEM chain), the full and delta CRLs, OCSP (GET and
// POST), /healthz, /metrics (Prometheus) and /openapi.json.
//
// # Serving
//
// [Serve] runs both listeners and the platform's scheduler until its context
// ends, then shuts down gracefully; [ServerTLS] issues the operator API's
// TLS certificate from the platform's own CA. The example server
// (examples/server) is a main around them.
//
// # What the package does not do
//
// It keeps no state of its own and makes no decision the library could
// make: which operator may do what, in which organisation, and what a valid
// order is are the platform's answers.
package httpapi
