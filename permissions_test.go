package registra_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/access"
	"github.com/registra-pki/registra/lifecycle"
)

// TestPermissionVocabulary checks that the role table of package access grants
// every permission the lifecycle transition table names, spelt the same way,
// except the scheduler's own, which no role holds.
func TestPermissionVocabulary(t *testing.T) {
	t.Parallel()
	granted := access.Permissions()
	for _, p := range lifecycle.Permissions() {
		if p == lifecycle.PermSchedule {
			assert.NotContains(t, granted, access.Permission(p), "no role may hold the scheduler's permission")
			continue
		}
		assert.Contains(t, granted, access.Permission(p), "no role grants lifecycle permission %q", p)
	}
}
