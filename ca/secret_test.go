package ca_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/ca"
)

func TestPasswordNeverPrints(t *testing.T) {
	t.Parallel()
	cfg := ca.HierarchyConfig{Dir: "d", KeyPassword: ca.Password("s3cret-passphrase")}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		out := fmt.Sprintf(verb, cfg)
		assert.NotContains(t, out, "s3cret", verb)
		assert.NotContains(t, out, fmt.Sprintf("%x", "s3cret"), verb)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "password", cfg.KeyPassword, "cfg", cfg)
	assert.NotContains(t, buf.String(), "s3cret")
	assert.Contains(t, buf.String(), "[redacted]")
}
