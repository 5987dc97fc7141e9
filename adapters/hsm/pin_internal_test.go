package hsm

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestPINRedacted hands the PIN type to slog and to every fmt verb: the PIN
// never shows (STYLE.md §2.8).
func TestPINRedacted(t *testing.T) {
	t.Parallel()
	const secret = "93715"
	pin := secretPIN(secret)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("open", "pin", pin)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("open", "pin", pin, "cfg", struct{ P secretPIN }{pin})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&buf, verb+"\n", pin)
	}
	fmt.Fprintf(&buf, "%v %+v\n", struct{ P secretPIN }{pin}, &struct{ P secretPIN }{pin})
	assert.NotContains(t, buf.String(), secret)
	assert.Contains(t, buf.String(), redacted)
	assert.Equal(t, secret, pin.reveal())
}
