package envelope

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCodesNeverInClear is issue #7's acceptance 3: it drives every path
// that touches codes (generation, vault, both envelopes, every kind of
// failure), logs what a caller would log, and scans the logs, the error
// messages, the vault's at-rest bytes and the envelopes for the codes and
// the passphrase in clear.
func TestCodesNeverInClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	textLogger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	codes, err := DeviceSignature.Generate(nil)
	require.NoError(t, err)
	pass, err := PassphrasePolicy{}.Choose(PassphraseRequest{Custom: "correct horse battery staple", Confirm: "correct horse battery staple"})
	require.NoError(t, err)

	var errs []error
	var atRest [][]byte
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
			logger.Error("operation failed", "err", err)
			textLogger.Error("operation failed", "err", err, "codes", codes, "passphrase", pass)
		}
	}

	// Vault.
	kek, err := OpenKeyFile(KeyFileConfig{Dir: t.TempDir()})
	require.NoError(t, err)
	v, err := NewVault(VaultConfig{KEK: kek, Hash: testHash, Logger: logger})
	require.NoError(t, err)
	rec, err := v.Seal(ctx, "prod-1", codes, DeviceSignature.Verifiable())
	require.NoError(t, err)
	b, err := rec.MarshalBinary()
	require.NoError(t, err)
	atRest = append(atRest, b)
	_, err = v.Open(ctx, "prod-2", rec)
	note(err)
	pin, _ := codes.Get(SigningPIN)
	note(rec.Verify(SigningPIN, pin+"0"))
	note(rec.Verify(PUK, pin))
	_, err = v.Seal(ctx, "prod-1", Codes{{PUK, codes[1].Code + " x"}}, nil)
	note(err)

	// Envelopes.
	c, err := NewCMS(CMSConfig{Iterations: MinIterations})
	require.NoError(t, err)
	p, err := NewPDF(PDFConfig{})
	require.NoError(t, err)
	for _, s := range []interface {
		Sealer
		Opener
	}{c, p} {
		e, err := s.Seal(ctx, codes, pass)
		require.NoError(t, err)
		atRest = append(atRest, e.Data)
		logger.Info("sealed", "envelope", e, "codes", codes, "passphrase", pass)
		_, err = s.Open(ctx, e, pass+"x")
		note(err)
		damaged := bytes.Clone(e.Data)
		damaged[len(damaged)-20] ^= 0xff
		_, err = s.Open(ctx, &Envelope{Data: damaged}, pass)
		note(err)
	}
	_, err = PassphrasePolicy{}.Choose(PassphraseRequest{Custom: pass, Confirm: pass + "!"})
	note(err)
	_, err = PassphrasePolicy{MinLength: 40}.Choose(PassphraseRequest{Custom: pass, Confirm: pass})
	note(err)
	require.GreaterOrEqual(t, len(errs), 8)

	secrets := []string{string(pass)}
	for _, nc := range codes {
		secrets = append(secrets, string(nc.Code))
	}
	scan := func(where string, b []byte) {
		for _, s := range secrets {
			assert.NotContains(t, string(b), s, "secret in clear in %s", where)
		}
	}
	scan("logs", logs.Bytes())
	for i, err := range errs {
		scan(fmt.Sprintf("error %d (%v)", i, err), []byte(err.Error()))
		scan(fmt.Sprintf("error %d formatted", i), fmt.Appendf(nil, "%+v %#v", err, err))
	}
	for i, b := range atRest {
		scan(fmt.Sprintf("at-rest bytes %d", i), b)
	}

	// Control: the scanner does find codes where they are, in the payload
	// that only ever exists inside an envelope.
	payload, err := marshalPayload(codes)
	require.NoError(t, err)
	for _, nc := range codes {
		assert.Contains(t, string(payload), string(nc.Code))
	}
}
