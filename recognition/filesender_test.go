package recognition_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/recognition"
)

func TestFileSender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := recognition.FileSender{Dir: dir}
	ch, err := s.SendOTP(context.Background(), "+393401234567", recognition.OTPCode("123456"))
	require.NoError(t, err)
	assert.Equal(t, "file", ch)
	p := filepath.Join(dir, "+393401234567.otp")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "123456\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	_, err = s.SendOTP(context.Background(), "+393401234567", recognition.OTPCode("654321"))
	require.NoError(t, err)
	b, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "654321\n", string(b), "the next code replaces the last")

	for _, bad := range []string{"../escape", "", "a.b", `a\b`} {
		_, err = s.SendOTP(context.Background(), bad, recognition.OTPCode("123456"))
		require.Error(t, err, bad)
	}
	_, err = os.Stat(filepath.Join(filepath.Dir(dir), "escape.otp"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
