package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/registra-pki/registra/adapters/cli"
)

// result is what one run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command tree in-process with args, stdin and a private
// configuration directory.
func run(t *testing.T, cfg cli.Config, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cfg.Stdin = strings.NewReader(stdin)
	cfg.Stdout, cfg.Stderr = &out, &errb
	if cfg.ConfigDir == "" {
		cfg.ConfigDir = t.TempDir()
	}
	code := cli.Run(context.Background(), cfg, args)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}
