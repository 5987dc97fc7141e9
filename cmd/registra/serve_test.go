package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/registra-pki/registra/adapters/cli"
)

// TestServeNeedsInit: serve refuses a directory without a hierarchy, and
// creates nothing in it.
func TestServeNeedsInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	cfg := config()
	cfg.Stdin, cfg.Stdout, cfg.Stderr = strings.NewReader(""), &out, &errb
	code := cli.Run(context.Background(), cfg, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--public-addr", "127.0.0.1:0"})
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errb.String(), "run `registra init --data "+dir+"` first")
	assert.NoDirExists(t, dir+"/store")
}
