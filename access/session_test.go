package access_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := newAuth(t, func(c *access.Config) { c.SessionLifetime = 2 * time.Hour; c.SessionIdle = 20 * time.Minute })
		op := operator("rossi", "ACME", access.RoleRAO)
		start := time.Now()
		tok, s, err := a.NewSession(op, start)
		require.NoError(t, err)
		assert.Equal(t, access.SessionID(tok), s.ID)
		assert.NotContains(t, s.ID, tok.Reveal(), "only the hash is stored")
		assert.Equal(t, "rossi", s.Operator)
		assert.Equal(t, "ACME", s.Org)
		assert.Equal(t, start.Add(2*time.Hour), s.Expires)
		_, err = access.ParseSessionToken(tok.Reveal())
		require.NoError(t, err)

		// Used every 15 minutes, the session lives until its lifetime ends.
		for time.Now().Add(15 * time.Minute).Before(s.Expires) {
			time.Sleep(15 * time.Minute)
			s, err = a.CheckSession(s, tok, time.Now())
			require.NoError(t, err)
			assert.Equal(t, time.Now(), s.LastSeen)
		}
		time.Sleep(s.Expires.Sub(time.Now()))
		_, err = a.CheckSession(s, tok, time.Now())
		assert.ErrorIs(t, err, access.ErrSessionExpired, "absolute lifetime")

		// Idle for 20 minutes ends a session.
		tok2, s2, err := a.NewSession(op, time.Now())
		require.NoError(t, err)
		assert.NotEqual(t, tok, tok2)
		time.Sleep(20*time.Minute - time.Nanosecond)
		s2, err = a.CheckSession(s2, tok2, time.Now())
		require.NoError(t, err)
		time.Sleep(20 * time.Minute)
		_, err = a.CheckSession(s2, tok2, time.Now())
		assert.ErrorIs(t, err, access.ErrSessionExpired, "idle")

		// Logout ends it at once; a token of another session does not open it.
		tok3, s3, err := a.NewSession(op, time.Now())
		require.NoError(t, err)
		_, err = a.CheckSession(s3, tok2, time.Now())
		assert.ErrorIs(t, err, access.ErrSessionExpired)
		ended := s3.End(time.Now())
		assert.Equal(t, ended, ended.End(time.Now().Add(time.Hour)), "the first logout time stays")
		_, err = a.CheckSession(ended, tok3, time.Now())
		assert.ErrorIs(t, err, access.ErrSessionExpired)
	})
}

func TestNewSessionRefusesDisabled(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op := operator("rossi", "ACME", access.RoleRAO)
	op.Disabled = true
	_, _, err := a.NewSession(op, base)
	assert.ErrorIs(t, err, access.ErrAuthentication)
}

func TestParseSessionToken(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "abc", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "+/ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9"} {
		_, err := access.ParseSessionToken(s)
		assert.ErrorIs(t, err, access.ErrInvalidInput, "%q", s)
	}
	_, err := access.ParseSessionToken("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	assert.NoError(t, err)
}

// FuzzParseSessionToken: a token that parses is exactly 32 bytes of
// unpadded URL-safe base64, and its ID is a 64-digit hex string.
func FuzzParseSessionToken(f *testing.F) {
	f.Add("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := access.ParseSessionToken(s)
		if err != nil {
			require.ErrorIs(t, err, access.ErrInvalidInput)
			return
		}
		assert.Len(t, s, 43)
		assert.Equal(t, s, tok.Reveal())
		assert.Len(t, access.SessionID(tok), 64)
	})
}
