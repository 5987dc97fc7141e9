package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/registra-pki/registra"
)

// Defaults of [Config].
const (
	// DefaultMaxBodyBytes bounds a JSON request body.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultMaxUploadBytes bounds a multipart upload (recognition
	// artefacts, contracts): every file and field together.
	DefaultMaxUploadBytes = 32 << 20
)

// bearerScheme names the security scheme of authenticated operations in the
// OpenAPI document.
const bearerScheme = "bearer"

// Config configures [New].
type Config struct {
	// Platform is the library the API serves. Required.
	Platform *registra.Platform
	// MaxBodyBytes bounds a JSON request body; larger bodies get 413.
	// Zero means [DefaultMaxBodyBytes].
	MaxBodyBytes int64
	// MaxUploadBytes bounds a multipart request body; larger bodies get
	// 413. Zero means [DefaultMaxUploadBytes].
	MaxUploadBytes int64
	// Version is the info.version of the OpenAPI document. Zero means "1".
	Version string
	// Registerer receives the request metrics
	// (registra_http_requests_total, registra_http_request_duration_seconds).
	// Nil means none are kept.
	Registerer prometheus.Registerer
	// Logger receives request failures; secrets never reach it. Nil
	// discards.
	Logger *slog.Logger
}

// Validate checks the configuration, naming every bad field.
func (c *Config) Validate() error {
	var errs []error
	if c.Platform == nil {
		errs = append(errs, &FieldError{Field: "Platform", Rule: "is required"})
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, &FieldError{Field: "MaxBodyBytes", Rule: "must not be negative"})
	}
	if c.MaxUploadBytes < 0 {
		errs = append(errs, &FieldError{Field: "MaxUploadBytes", Rule: "must not be negative"})
	}
	return errors.Join(errs...)
}

// API is the operator API: an http.Handler safe for concurrent use.
type API struct {
	cfg     Config
	p       *registra.Platform
	log     *slog.Logger
	mux     *http.ServeMux
	api     huma.API
	metrics *requestMetrics
}

// New builds the API and registers its operations.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.Version == "" {
		cfg.Version = "1"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &API{cfg: cfg, p: cfg.Platform, log: cfg.Logger, mux: http.NewServeMux()}
	if cfg.Registerer != nil {
		m, err := newRequestMetrics(cfg.Registerer)
		if err != nil {
			return nil, err
		}
		a.metrics = m
	}

	hc := huma.DefaultConfig("registra partner API", cfg.Version)
	hc.Info.Description = "The partner operators' API of a registra platform: orders, recognition, " +
		"issuance, suspension, revocation, search, operators and the product catalogue. " +
		"Errors are RFC 9457 problem details whose type is " + ProblemTypeBase + "<slug>."
	hc.DocsPath = ""    // the docs page loads scripts from a CDN
	hc.SchemasPath = "" // schemas are inlined in the document
	hc.CreateHooks = nil
	hc.Transformers = []huma.Transformer{problemTransformer}
	hc.Formats = map[string]huma.Format{"application/json": huma.DefaultJSONFormat, "json": huma.DefaultJSONFormat}
	hc.RejectUnknownQueryParameters = true
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearerScheme: {Type: "http", Scheme: "bearer", Description: "A session token from POST /v1/sessions."},
	}
	a.api = humago.New(a.mux, hc)
	a.api.UseMiddleware(a.observe, a.limitBody, a.authenticate)
	a.routes()
	a.dropValidationStatus()
	return a, nil
}

// dropValidationStatus removes the 422 responses huma documents for every
// operation with a body or path parameters: statusContext answers them as
// 400, which every operation documents.
func (a *API) dropValidationStatus() {
	for _, item := range a.api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op != nil {
				delete(op.Responses, strconv.Itoa(http.StatusUnprocessableEntity))
			}
		}
	}
}

// ServeHTTP serves a request. Bodies are capped at the larger of the two
// limits before huma sees them, so that no reader can be made to buffer
// more.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, max(a.cfg.MaxBodyBytes, a.cfg.MaxUploadBytes)+1)
	a.mux.ServeHTTP(w, r)
}

// OpenAPI returns the OpenAPI 3.1 document of every operation, as served at
// /openapi.json.
func (a *API) OpenAPI() ([]byte, error) {
	b, err := json.MarshalIndent(a.api.OpenAPI(), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// statusContext is the huma.Context operations see. It answers 400 where
// huma would answer 422 (a body that breaks the schema: this API answers
// every refused body with 400, issue #10) and 413 for a multipart body over
// the limit (huma reports it as an unreadable form).
type statusContext struct {
	humaContext
	tooLarge bool
}

// humaContext names the embedded interface, whose own name would hide its
// Context method.
type humaContext = huma.Context

// Unwrap returns the adapter's context (humago.Unwrap follows it).
func (c *statusContext) Unwrap() huma.Context { return c.humaContext }

// SetStatus rewrites huma's validation status.
func (c *statusContext) SetStatus(code int) {
	if code == http.StatusUnprocessableEntity {
		code = http.StatusBadRequest
		if c.tooLarge {
			code = http.StatusRequestEntityTooLarge
		}
	}
	c.humaContext.SetStatus(code)
}

// GetMultipartForm notes a body over the limit.
func (c *statusContext) GetMultipartForm() (*multipart.Form, error) {
	f, err := c.humaContext.GetMultipartForm()
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		c.tooLarge = true
	}
	return f, err
}

// observe wraps the context and records the request's status and duration.
func (a *API) observe(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	sc := &statusContext{humaContext: ctx}
	next(sc)
	status := sc.Status()
	if status == 0 {
		status = http.StatusOK
	}
	if a.metrics != nil {
		op := ctx.Operation().OperationID
		a.metrics.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
		a.metrics.duration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
}

// limitBody refuses a body whose declared length is over the operation's
// limit before reading any of it.
func (a *API) limitBody(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil && op.MaxBodyBytes > 0 && n >= op.MaxBodyBytes {
		writeProblem(ctx, problemTooLarge, "request body is over the limit of "+strconv.FormatInt(op.MaxBodyBytes-1, 10)+" bytes")
		return
	}
	next(ctx)
}

// problemTransformer gives huma's own errors (malformed or schema-violating
// bodies, oversized bodies) this API's problem types, and 400 for huma's 422.
func problemTransformer(_ huma.Context, status string, v any) (any, error) {
	m, ok := v.(*huma.ErrorModel)
	if !ok || (m.Type != "" && m.Type != "about:blank") {
		return v, nil
	}
	var p Problem
	switch m.Status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		p = problemBadRequest
	case http.StatusRequestEntityTooLarge:
		p = problemTooLarge
	case http.StatusUnauthorized:
		p = problemUnauthorized
	case http.StatusUnsupportedMediaType:
		p = problemMediaType
	default:
		return v, nil
	}
	if m.Status == http.StatusUnprocessableEntity && hasTooLarge(m) {
		p = problemTooLarge
	}
	out := *m
	out.Type, out.Title, out.Status = p.Type(), p.Title, p.Status
	return &out, nil
}

// hasTooLarge reports whether huma's error details say the body was cut at
// the size limit (a multipart form read through http.MaxBytesReader).
func hasTooLarge(m *huma.ErrorModel) bool {
	for _, d := range m.Errors {
		if d != nil && containsFold(d.Message, "request body too large") {
			return true
		}
	}
	return false
}

// writeProblem answers a request from a middleware, before huma decoded it.
func writeProblem(ctx huma.Context, p Problem, detail string) {
	ctx.SetHeader("Content-Type", "application/problem+json")
	if p.Status == http.StatusUnauthorized {
		// RFC 6750 §3.
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="registra"`)
	}
	ctx.SetStatus(p.Status)
	b, err := json.Marshal(&huma.ErrorModel{Type: p.Type(), Title: p.Title, Status: p.Status, Detail: detail})
	if err != nil {
		return // a struct of strings always marshals
	}
	_, _ = ctx.BodyWriter().Write(b) // the client may have gone; nothing to do
}

// requestMetrics are the API's Prometheus metrics.
type requestMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics(reg prometheus.Registerer) (*requestMetrics, error) {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "registra_http_requests_total",
			Help: "API requests by operation and status code.",
		}, []string{"operation", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "registra_http_request_duration_seconds",
			Help:    "API request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"operation"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
