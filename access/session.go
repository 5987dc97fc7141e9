package access

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// tokenBytes is the entropy of a session token: 256 bits.
const tokenBytes = 32

// Session is an operator's logged-in session. The store keeps it under ID;
// the token itself is never stored.
type Session struct {
	// ID is [SessionID] of the token: the hex SHA-256 of its bytes.
	ID string
	// Operator and Org identify who the session belongs to.
	Operator string
	Org      string
	// Created is when the session opened; Expires ends it absolutely.
	Created time.Time
	Expires time.Time
	// LastSeen is the last successful check; the session ends
	// [Config.SessionIdle] after it.
	LastSeen time.Time
	// Ended is set by logout.
	Ended time.Time
}

// SessionID returns the lookup key of a token: the hex SHA-256 of the
// token's bytes. A token is 256 random bits, so a fast hash suffices: there
// is nothing to guess offline.
func SessionID(tok SessionToken) string {
	sum := sha256.Sum256([]byte(tok.Reveal()))
	return hex.EncodeToString(sum[:])
}

// ParseSessionToken checks a token presented by a client: 43 characters of
// unpadded URL-safe base64 encoding 32 bytes.
func ParseSessionToken(s string) (SessionToken, error) {
	enc := base64.RawURLEncoding.Strict()
	b, err := enc.DecodeString(s)
	// The decoder skips '\r' and '\n'; the re-encoding must be s itself.
	if err != nil || len(b) != tokenBytes || enc.EncodeToString(b) != s {
		return "", &FieldError{Field: "session_token", Rule: fmt.Sprintf("must be %d bytes of unpadded URL-safe base64", tokenBytes)}
	}
	return SessionToken(s), nil
}

// NewSession opens a session for op, who just authenticated, at now. It
// returns the token to hand to the client (once) and the session to store.
func (a *Authenticator) NewSession(op Operator, now time.Time) (SessionToken, Session, error) {
	if op.Disabled {
		return "", Session{}, &AuthError{Failure: FailureDisabled}
	}
	var b [tokenBytes]byte
	if _, err := io.ReadFull(a.cfg.Rand, b[:]); err != nil {
		return "", Session{}, fmt.Errorf("access: reading session token: %w", err)
	}
	tok := SessionToken(base64.RawURLEncoding.EncodeToString(b[:]))
	s := Session{ID: SessionID(tok), Operator: op.ID, Org: op.Org, Created: now,
		Expires: now.Add(a.cfg.SessionLifetime), LastSeen: now}
	return tok, s, nil
}

// CheckSession checks that tok opens s at now: the hashes match (compared in
// constant time), the session has not ended, its lifetime has not run out and
// it was used within the idle time. It returns s with LastSeen moved to now,
// or an error wrapping [ErrSessionExpired].
func (a *Authenticator) CheckSession(s Session, tok SessionToken, now time.Time) (Session, error) {
	expired := func(rule string) (Session, error) {
		return s, fmt.Errorf("access: session: %s: %w", rule, ErrSessionExpired)
	}
	switch {
	case subtle.ConstantTimeCompare([]byte(SessionID(tok)), []byte(s.ID)) != 1:
		return expired("token does not match")
	case !s.Ended.IsZero():
		return expired("logged out")
	case !now.Before(s.Expires):
		return expired("lifetime over")
	case !now.Before(s.LastSeen.Add(a.cfg.SessionIdle)):
		return expired("idle too long")
	}
	s.LastSeen = now
	return s, nil
}

// End returns s logged out at now. Ending an ended session keeps the first
// time.
func (s Session) End(now time.Time) Session {
	if s.Ended.IsZero() {
		s.Ended = now
	}
	return s
}
