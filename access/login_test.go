package access_test

import (
	"context"
	"errors"
	"testing"

	"github.com/registra-pki/registra/access"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// directory is a map-backed access.Directory.
type directory struct {
	ops map[string]access.Operator
	err error
}

func (d directory) OperatorByUsername(_ context.Context, username string) (access.Operator, bool, error) {
	if d.err != nil {
		return access.Operator{}, false, d.err
	}
	op, ok := d.ops[username]
	return op, ok, nil
}

var _ access.Directory = directory{}

func TestLogin(t *testing.T) {
	t.Parallel()
	a := newAuth(t, nil)
	op, secret := enrolled(t, a)
	dir := directory{ops: map[string]access.Operator{op.Username: op}}

	got, err := a.Login(t.Context(), dir, "rossi", goodPassword, code(t, secret, base), base)
	require.NoError(t, err)
	assert.Equal(t, base.Unix()/30, got.Credentials.TOTP.LastStep)

	got, err = a.Login(t.Context(), dir, "verdi", goodPassword, code(t, secret, base), base)
	require.ErrorIs(t, err, access.ErrAuthentication)
	ae, ok := errors.AsType[*access.AuthError](err)
	require.True(t, ok)
	assert.Equal(t, access.FailureUnknownUser, ae.Failure)
	assert.Empty(t, got.ID, "nothing to persist")

	boom := errors.New("store down")
	_, err = a.Login(t.Context(), directory{err: boom}, "rossi", goodPassword, "123456", base)
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, access.ErrAuthentication)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = a.Login(ctx, dir, "rossi", goodPassword, "123456", base)
	assert.ErrorIs(t, err, context.Canceled)
}
