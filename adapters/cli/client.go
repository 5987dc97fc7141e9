package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// maxResponseBytes bounds a response body the client reads.
const maxResponseBytes = 64 << 20

// defaultTimeout bounds one request when --timeout is not given.
const defaultTimeout = 2 * time.Minute

// ProblemError is a refusal the server answered with RFC 9457 problem
// details. It unwraps to [ErrRefused], or to [ErrUnreachable] for the
// gateway statuses (502, 503, 504) a proxy answers when the platform is down.
type ProblemError struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Type is the problem type URI.
	Type string `json:"type,omitempty"`
	// Title is the problem type's summary.
	Title string `json:"title,omitempty"`
	// Detail explains this occurrence.
	Detail string `json:"detail,omitempty"`
	// Errors name the fields concerned, for invalid input.
	Errors []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one entry of a problem's "errors" member: a field and the
// rule it breaks.
type ProblemField struct {
	Location string `json:"location,omitempty"`
	Message  string `json:"message,omitempty"`
}

// Error returns one line: "<title> (<status>): <detail> [<field>: <rule>; …]".
func (e *ProblemError) Error() string {
	var b strings.Builder
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s (%d)", strings.ToLower(oneLine(title)), e.Status)
	detail := e.Detail
	if detail != "" {
		b.WriteString(": " + oneLine(detail))
	}
	var fields []string
	for _, f := range e.Errors {
		s := f.Location + ": " + f.Message
		if f.Location == "" {
			s = f.Message
		}
		if !strings.Contains(detail, s) {
			fields = append(fields, oneLine(s))
		}
	}
	if len(fields) > 0 {
		b.WriteString(" [" + strings.Join(fields, "; ") + "]")
	}
	return b.String()
}

// Unwrap returns [ErrUnreachable] for 502, 503 and 504, [ErrRefused]
// otherwise.
func (e *ProblemError) Unwrap() error {
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnreachable
	}
	return ErrRefused
}

// UnreachableError is a request that got no HTTP answer.
type UnreachableError struct {
	// URL is the server's base URL.
	URL string
	// Err is the transport's error.
	Err error
}

// Error returns "cannot reach <url>: <cause>".
func (e *UnreachableError) Error() string { return "cannot reach " + e.URL + ": " + e.Err.Error() }

// Unwrap returns [ErrUnreachable] and the cause.
func (e *UnreachableError) Unwrap() []error { return []error{ErrUnreachable, e.Err} }

// oneLine folds whitespace so that a message stays on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// client calls the operator API.
type client struct {
	base  *url.URL
	token string
	hc    *http.Client
}

// newHTTPClient returns an HTTP client trusting caFile's certificates (PEM)
// as well as the system's, or hc itself when caFile is empty.
func newHTTPClient(hc *http.Client, caFile string, timeout time.Duration) (*http.Client, error) {
	c := &http.Client{Timeout: timeout}
	if hc != nil {
		cp := *hc
		c = &cp
		if timeout > 0 {
			c.Timeout = timeout
		}
	}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, usagef("--ca-file: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usagef("--ca-file: %s holds no PEM certificate", caFile)
	}
	var tr *http.Transport
	if t, ok := c.Transport.(*http.Transport); ok && t != nil {
		tr = t.Clone()
	} else {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c.Transport = tr
	return c, nil
}

// parseServer checks a server URL: http or https, with a host.
func parseServer(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server: %q is not an http(s) URL", s)
	}
	return u, nil
}

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	header http.Header
	// body is encoded as JSON, unless it is a *multipartBody.
	body any
}

// multipartBody is a multipart/form-data body of files and text fields.
type multipartBody struct {
	files  []formFile
	fields [][2]string // name, value; empty values are left out
}

// formFile is one file field of a multipart body.
type formFile struct {
	field, name string
	data        []byte
}

// do sends r and decodes a JSON answer into out (which may be nil). An
// answer outside 2xx is returned as a *ProblemError.
func (c *client) do(ctx context.Context, r request, out any) (http.Header, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, &UnreachableError{URL: c.base.String(), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, decodeProblem(resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if raw, ok := out.(*[]byte); ok {
			*raw = b
			return resp.Header, nil
		}
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("decoding the answer to %s %s: %w", r.method, r.path, err)
		}
	}
	return resp.Header, nil
}

// send builds and sends the HTTP request.
func (c *client) send(ctx context.Context, r request) (*http.Response, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + r.path
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	ctype := ""
	switch b := r.body.(type) {
	case nil:
	case *multipartBody:
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for _, kv := range b.fields {
			if kv[1] == "" {
				continue
			}
			if err := mw.WriteField(kv[0], kv[1]); err != nil {
				return nil, err
			}
		}
		for _, f := range b.files {
			w, err := mw.CreateFormFile(f.field, f.name)
			if err != nil {
				return nil, err
			}
			if _, err := w.Write(f.data); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
		body, ctype = &buf, mw.FormDataContentType()
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &UnreachableError{URL: c.base.String(), Err: err}
	}
	return resp, nil
}

// decodeProblem reads problem details (RFC 9457), or makes some from the
// status when the body is not a problem document (a proxy's HTML page).
func decodeProblem(status int, body []byte) *ProblemError {
	p := &ProblemError{}
	if err := json.Unmarshal(body, p); err != nil || p.Title == "" && p.Detail == "" {
		p = &ProblemError{Title: http.StatusText(status)}
		if s := oneLine(string(body)); s != "" && len(s) < 200 && !strings.HasPrefix(s, "<") {
			p.Detail = s
		}
	}
	p.Status = status
	return p
}

// errorsIsTransport reports whether err means the server could not be asked
// at all (unreachable, or the command was cancelled): a bulk command stops
// rather than recording it against every line.
func errorsIsTransport(err error) bool {
	return errors.Is(err, ErrUnreachable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
