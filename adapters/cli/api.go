package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
)

// anonClient returns a client for server (or $REGISTRA_SERVER, or the
// saved session's) without a token: login and enrolment.
func (e *env) anonClient() (*client, string, string, error) {
	server, caFile := e.server, e.caFile
	if server == "" {
		server = e.getenv("REGISTRA_SERVER")
	}
	if server == "" {
		if s, err := e.loadSession(); err == nil {
			server = s.Server
			if caFile == "" {
				caFile = s.CAFile
			}
		}
	}
	if server == "" {
		return nil, "", "", usagef("--server is required (or $REGISTRA_SERVER)")
	}
	u, err := parseServer(server)
	if err != nil {
		return nil, "", "", err
	}
	if caFile != "" {
		if abs, err := filepath.Abs(caFile); err == nil {
			caFile = abs
		}
	}
	hc, err := newHTTPClient(e.cfg.HTTPClient, caFile, e.timeout)
	if err != nil {
		return nil, "", "", err
	}
	return &client{base: u, hc: hc}, u.String(), caFile, nil
}

// apiClient returns a client with the saved session's token. --server and
// --ca-file override the saved ones.
func (e *env) apiClient() (*client, error) {
	s, err := e.loadSession()
	if err != nil {
		return nil, err
	}
	server, caFile := s.Server, s.CAFile
	if e.server != "" {
		server = e.server
	}
	if e.caFile != "" {
		caFile = e.caFile
	}
	u, err := parseServer(server)
	if err != nil {
		return nil, err
	}
	hc, err := newHTTPClient(e.cfg.HTTPClient, caFile, e.timeout)
	if err != nil {
		return nil, err
	}
	return &client{base: u, token: s.Token.Reveal(), hc: hc}, nil
}

// call makes one API call with the saved session and prints the answer:
// the server's JSON with --json, human otherwise (after decoding into v).
func (e *env) call(ctx context.Context, r request, v any, human func(w io.Writer) error) error {
	c, err := e.apiClient()
	if err != nil {
		return err
	}
	return e.callWith(ctx, c, r, v, human)
}

// callWith is call with a given client.
func (e *env) callWith(ctx context.Context, c *client, r request, v any, human func(w io.Writer) error) error {
	var raw []byte
	if _, err := c.do(ctx, r, &raw); err != nil {
		return err
	}
	if v != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, v); err != nil {
			return err
		}
	}
	if e.out.json {
		if len(raw) == 0 {
			raw = []byte("{}")
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err := e.out.w.Write(buf.Bytes())
		return err
	}
	if human == nil {
		return nil
	}
	return human(e.out.w)
}

// path joins API path segments, escaping each.
func path(segments ...string) string {
	p := ""
	for _, s := range segments {
		if s == "" {
			continue
		}
		if s[0] == '/' {
			p += s
			continue
		}
		p += "/" + url.PathEscape(s)
	}
	return p
}

// get is a GET request.
func get(p string) request { return request{method: http.MethodGet, path: p} }

// post is a POST request with a JSON body.
func post(p string, body any) request { return request{method: http.MethodPost, path: p, body: body} }
