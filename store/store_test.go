package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/registra-pki/registra/store"
	"github.com/registra-pki/registra/store/storetest"
)

// openTemp opens a single-node store in a fresh temporary directory.
func openTemp(t *testing.T) *store.Node {
	t.Helper()
	n, err := store.Open(context.Background(), store.Config{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, n.Close()) })
	return n
}

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}
