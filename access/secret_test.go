package access_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsRedact hands every secret type, alone and inside the records
// that carry them, to fmt and to slog's text and JSON handlers: the secret
// never appears.
func TestSecretsRedact(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op, secret := enrolled(t, a)
	tok, sess, err := a.NewSession(op, base)
	require.NoError(t, err)
	_, enr, err := a.EnrollTOTP(access.ResetTOTP(op))
	require.NoError(t, err)

	const pw access.Password = "Sup3r-Secret-Passw0rd"
	const pc access.Passcode = "492039"
	secrets := map[string]string{
		"password":   pw.Reveal(),
		"passcode":   pc.Reveal(),
		"totp":       secret.Reveal(),
		"token":      tok.Reveal(),
		"uri":        enr.URI.Reveal(),
		"uri secret": enr.Secret.Reveal(),
		"hash":       op.Credentials.PasswordHash.Reveal(),
	}
	values := []any{pw, pc, secret, tok, enr.URI, enr, op.Credentials.PasswordHash, op, op.Credentials,
		op.Credentials.TOTP, &op, struct {
			P access.Password
			T access.SessionToken
		}{pw, tok}}

	var out bytes.Buffer
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
			fmt.Fprintf(&out, verb+"\n", v)
		}
		fmt.Fprintln(&out, v)
		out.WriteString(fmt.Sprint(v))
	}
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		l := slog.New(h)
		for _, v := range values {
			l.Info("login", "value", v)
			l.Info("login", slog.Any("value", v), slog.Group("g", "inner", v))
		}
		l.Info("session", "session", sess)
	}
	text := out.String()
	require.NotEmpty(t, text)
	for name, s := range secrets {
		assert.NotContains(t, text, s, "%s leaked", name)
		// %x of the raw bytes must not leak either.
		assert.NotContains(t, text, fmt.Sprintf("%x", s), "%s leaked as hex", name)
	}
	assert.Contains(t, text, "[REDACTED]")
	assert.Contains(t, text, `"username":"rossi"`, "operators still log who they are")

	// JSON encoding of a secret fails instead of leaking or losing it.
	for _, v := range []any{pw, pc, secret, tok, enr.URI, op} {
		_, err := json.Marshal(v)
		assert.Error(t, err, "%T", v)
	}
	b, err := json.Marshal(op.Credentials.PasswordHash)
	require.NoError(t, err, "the hash is stored as is")
	assert.Contains(t, string(b), "$argon2id$")
}
