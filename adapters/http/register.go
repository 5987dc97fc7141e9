package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// auth says whether an operation needs a session.
type auth bool

const (
	public auth = false
	secure auth = true
)

// register adds one operation with this API's defaults: the bearer security
// requirement for secure operations, the JSON body limit (operations that
// take uploads set MaxBodyBytes themselves), and the error statuses every
// operation may answer.
func register[I, O any](a *API, op huma.Operation, acc auth, h func(context.Context, *I) (*O, error)) {
	if acc == secure {
		op.Security = []map[string][]string{{bearerScheme: {}}}
		op.Errors = append(op.Errors, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound)
	}
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = a.cfg.MaxBodyBytes + 1 // huma refuses a body that reaches the limit
	}
	// 503: a follower of a cluster, a store being closed, or too many
	// password and code hashes waiting (registra.ErrBusy); Retry-After says
	// when to try again.
	op.Errors = append(op.Errors, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable)
	huma.Register(a.api, op, h)
}

// fail maps a Platform error to its problem details, logging internal
// failures (their detail is not answered).
func (a *API) fail(ctx context.Context, err error) error {
	p, m := newProblem(err)
	a.logFailure(ctx, p, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return huma.ErrorWithHeaders(m, http.Header{"WWW-Authenticate": {`Bearer realm="registra"`}})
	case http.StatusServiceUnavailable:
		// RFC 9110 §10.2.3: the refusal is temporary; a second is enough
		// for a queue of slow hashes or a leader election to move on.
		return huma.ErrorWithHeaders(m, http.Header{"Retry-After": {"1"}})
	}
	return m
}

// logFailure logs an error answered with p: internal ones at error level,
// refusals at debug level.
func (a *API) logFailure(ctx context.Context, p Problem, err error) {
	level := slog.LevelDebug
	if p.Status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	a.log.LogAttrs(ctx, level, "request refused", slog.String("problem", p.Slug), slog.Int("status", p.Status), slog.Any("err", err))
}

// routes registers every operation.
func (a *API) routes() {
	a.routesSessions()
	a.routesAdmin()
	a.routesOrders()
	a.routesProducts()
	a.routesRecognition()
	a.routesRecognise()
	a.routesRecogniseSteps()
	a.routesSearch()
}

func uintString(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }

// badRequest is a 400 for a request the adapter cannot decode.
func badRequest(location, rule string) error {
	p := problemBadRequest
	return &huma.ErrorModel{Type: p.Type(), Title: p.Title, Status: p.Status, Detail: location + ": " + rule,
		Errors: []*huma.ErrorDetail{{Location: location, Message: rule}}}
}
