package access_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/access"
)

var errFull = errors.New("gate full")

// testGate counts the hashes it lets through, or refuses them all.
type testGate struct {
	refuse         bool
	enters, leaves int
}

func (g *testGate) Enter(context.Context) error {
	if g.refuse {
		return errFull
	}
	g.enters++
	return nil
}

func (g *testGate) Leave() { g.leaves++ }

// TestGate: every password hash and verification goes through the
// config's Gate, one Enter and one Leave each. When the gate refuses, the
// call returns its error, the operator it returns is empty (so that the
// caller persists nothing) or, for SetPassword, unchanged, and nothing
// counts as a failure.
func TestGate(t *testing.T) {
	t.Parallel()
	g := &testGate{}
	a := newAuth(t, func(c *access.Config) { c.Gate = g })
	op, secret := enrolled(t, a)
	dir := directory{ops: map[string]access.Operator{op.Username: op}}
	now := base.Add(time.Minute)
	calls := []struct {
		name string
		call func(ctx context.Context) (access.Operator, error)
	}{
		{"SetPassword", func(ctx context.Context) (access.Operator, error) {
			return a.SetPassword(ctx, op, "another good password here")
		}},
		{"Authenticate", func(ctx context.Context) (access.Operator, error) {
			return a.Authenticate(ctx, op, "wrong password, long enough", code(t, secret, now), now)
		}},
		{"CheckPassword", func(ctx context.Context) (access.Operator, error) {
			return a.CheckPassword(ctx, op, "wrong password, long enough", now)
		}},
		{"Login", func(ctx context.Context) (access.Operator, error) {
			return a.Login(ctx, dir, op.Username, "wrong password, long enough", code(t, secret, now), now)
		}},
		{"RejectUnknown", func(ctx context.Context) (access.Operator, error) {
			return access.Operator{}, a.RejectUnknown(ctx, goodPassword)
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			*g = testGate{}
			_, _ = c.call(t.Context())
			assert.Equal(t, 1, g.enters, "one hash")
			assert.Equal(t, g.enters, g.leaves)

			*g = testGate{refuse: true}
			got, err := c.call(t.Context())
			require.ErrorIs(t, err, errFull)
			assert.NotErrorIs(t, err, access.ErrAuthentication)
			if c.name == "SetPassword" {
				assert.Equal(t, op, got, "unchanged")
			} else {
				assert.Empty(t, got.ID, "nothing to persist")
			}
			assert.Zero(t, g.leaves)
		})
	}
}
