package main

import (
	"context"

	"github.com/registra-pki/registra/adapters/cli"
)

// serve runs `registra serve`. It must be the example server's code, shared
// through adapters/http, not a copy of it: until adapters/http exports the
// server's constructor, this binary has no server.
var serve func(ctx context.Context, o cli.ServeOptions) error
