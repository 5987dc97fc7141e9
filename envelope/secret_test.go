package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretsRedactEverywhere(t *testing.T) {
	t.Parallel()
	const secret = "S3cr3tValue9"
	type holder struct {
		P Passphrase
		C Code
	}
	values := map[string]any{
		"passphrase": Passphrase(secret),
		"code":       Code(secret),
		"codes":      Codes{{SigningPIN, Code(secret)}},
		"named code": NamedCode{SigningPIN, Code(secret)},
		"struct":     holder{P: Passphrase(secret), C: Code(secret)},
		"pointer":    &holder{P: Passphrase(secret), C: Code(secret)},
		"request":    PassphraseRequest{Custom: Passphrase(secret), Confirm: Passphrase(secret)},
	}
	for name, v := range values {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s"} {
				out := fmt.Sprintf(verb, v)
				assert.NotContains(t, out, secret, "verb %s", verb)
				assert.NotContains(t, out, fmt.Sprintf("%x", secret), "verb %s", verb)
			}
			assert.NotContains(t, fmt.Sprint(v), secret)
			assert.NotContains(t, fmt.Errorf("wrapping %v: %w", v, errors.New("x")).Error(), secret)

			var buf bytes.Buffer
			for _, h := range []slog.Handler{
				slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
				slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
			} {
				l := slog.New(h)
				l.Info("msg", "value", v)
				l.Info("msg", slog.Any("any", v))
				l.With("with", v).Debug("msg")
				l.Info(fmt.Sprint(v))
			}
			assert.NotContains(t, buf.String(), secret)
			assert.Contains(t, buf.String(), "msg")

			j, err := json.Marshal(v)
			require.NoError(t, err)
			assert.NotContains(t, string(j), secret)
		})
	}
}

func TestSecretsConvertExplicitly(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "abc", string(Passphrase("abc")))
	assert.Equal(t, Redacted, Code("abc").String())
	assert.Equal(t, Redacted, fmt.Sprintf("%v", Code("abc")))
	assert.Equal(t, "signing_pin,puk", Codes{{SigningPIN, "1"}, {PUK, "2"}}.LogValue().String())
}
