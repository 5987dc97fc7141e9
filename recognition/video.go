package recognition

import "time"

// VideoSession is the session record of the external video-identification
// provider, accepted through [VideoID.Callback].
type VideoSession struct {
	Provider  string    // provider name, from the callback configuration
	SessionID string    // the provider's session ID
	OrderID   string    // the order the session was opened for
	Operator  string    // the provider's video operator
	Outcome   string    // "approved" or "rejected"
	StartedAt time.Time // session start
	EndedAt   time.Time // session end
	// Artefacts are the document photos, the tax card and the selfie.
	Artefacts []Upload
	// Payload is the authenticated callback body, kept as evidence.
	Payload []byte
	// ReceivedAt is when the callback was accepted.
	ReceivedAt time.Time
}
