package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/registra-pki/registra"
	"github.com/registra-pki/registra/access"
)

// actorKey keys the authenticated actor in a request's context. The actor is
// request metadata here: the handler reads it and hands it to the Platform
// as an explicit argument (STYLE §2.5).
type actorKey struct{}

// tokenKey keys the bearer token, for logout.
type tokenKey struct{}

// authenticate checks the bearer token of every operation that declares the
// bearer security scheme, before its body is read: a missing, malformed,
// expired or ended session gets 401 whatever the body holds.
func (a *API) authenticate(ctx huma.Context, next func(huma.Context)) {
	if !secured(ctx.Operation()) {
		next(ctx)
		return
	}
	h := ctx.Header("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		writeProblem(ctx, problemUnauthorized, "an Authorization: Bearer token from POST /v1/sessions is required")
		return
	}
	token = strings.TrimSpace(token)
	actor, err := a.p.Authenticate(ctx.Context(), token)
	if err != nil {
		p, m := newProblem(err)
		a.logFailure(ctx.Context(), p, err)
		writeProblem(ctx, p, m.Detail)
		return
	}
	ctx = huma.WithValue(ctx, actorKey{}, actor)
	next(huma.WithValue(ctx, tokenKey{}, token))
}

// secured reports whether op requires a bearer token.
func secured(op *huma.Operation) bool {
	for _, req := range op.Security {
		if _, ok := req[bearerScheme]; ok {
			return true
		}
	}
	return false
}

// actorFrom returns the actor the authenticate middleware put in ctx.
func actorFrom(ctx context.Context) registra.Actor {
	actor, _ := ctx.Value(actorKey{}).(registra.Actor)
	return actor
}

// LoginInput is the body of POST /v1/sessions.
type LoginInput struct {
	Body struct {
		Username string `json:"username" minLength:"1" maxLength:"64" doc:"The operator's username."`
		Password string `json:"password" minLength:"1" maxLength:"1024" doc:"The operator's password."`
		OTP      string `json:"otp" minLength:"6" maxLength:"10" doc:"The current TOTP code of the operator's authenticator app."`
	}
}

// SessionOutput is an opened session.
type SessionOutput struct {
	Body struct {
		Token     string    `json:"token" doc:"The bearer token: send it as Authorization: Bearer <token>."`
		ExpiresAt time.Time `json:"expires_at" doc:"When the session ends at the latest; it also ends after a period without use."`
		Actor     ActorView `json:"operator" doc:"The logged-in operator."`
	}
}

// ActorView is an authenticated operator as the API shows it.
type ActorView struct {
	OperatorID string   `json:"id" doc:"The operator's ID (the username)."`
	Org        string   `json:"org" doc:"The client code of the operator's organisation."`
	Roles      []string `json:"roles" doc:"The operator's roles."`
}

func actorView(a registra.Actor) ActorView {
	v := ActorView{OperatorID: a.OperatorID, Org: a.Org, Roles: make([]string, len(a.Roles))}
	for i, r := range a.Roles {
		v.Roles[i] = r.String()
	}
	return v
}

// ChangePasswordInput is the body of PUT /v1/sessions/current/password.
type ChangePasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" minLength:"1" maxLength:"1024" doc:"The operator's password now."`
		NewPassword     string `json:"new_password" minLength:"1" maxLength:"1024" doc:"The new password, under the password policy."`
	}
}

// MeOutput is the caller's identity.
type MeOutput struct {
	Body ActorView
}

func (a *API) routesSessions() {
	register(a, huma.Operation{
		OperationID: "login",
		Method:      http.MethodPost,
		Path:        "/v1/sessions",
		Summary:     "Log in with password and TOTP",
		Description: "Checks the username, password and TOTP code and opens a session. Every refusal is the same 401, whichever factor failed.",
		Tags:        []string{"sessions"},
	}, public, func(ctx context.Context, in *LoginInput) (*SessionOutput, error) {
		s, err := a.p.Login(ctx, in.Body.Username, access.Password(in.Body.Password), access.Passcode(in.Body.OTP))
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		out := &SessionOutput{}
		out.Body.Token = s.Token.Reveal()
		out.Body.ExpiresAt = s.ExpiresAt
		out.Body.Actor = actorView(s.Actor)
		return out, nil
	})
	register(a, huma.Operation{
		OperationID:   "logout",
		Method:        http.MethodDelete,
		Path:          "/v1/sessions/current",
		Summary:       "Log out",
		Description:   "Ends the session of the bearer token.",
		Tags:          []string{"sessions"},
		DefaultStatus: http.StatusNoContent,
	}, secure, func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		token, _ := ctx.Value(tokenKey{}).(string)
		if err := a.p.Logout(ctx, token); err != nil {
			return nil, a.fail(ctx, err)
		}
		return nil, nil
	})
	register(a, huma.Operation{
		OperationID:   "change-password",
		Method:        http.MethodPut,
		Path:          "/v1/sessions/current/password",
		Summary:       "Change the logged-in operator's password",
		Description:   "Checks the current password (a wrong one counts towards the lockout), sets the new one and ends every session of the operator, this one too: log in again.",
		Tags:          []string{"sessions"},
		DefaultStatus: http.StatusNoContent,
	}, secure, func(ctx context.Context, in *ChangePasswordInput) (*struct{}, error) {
		if err := a.p.ChangePassword(ctx, actorFrom(ctx), access.Password(in.Body.CurrentPassword), access.Password(in.Body.NewPassword)); err != nil {
			return nil, a.fail(ctx, err)
		}
		return nil, nil
	})
	register(a, huma.Operation{
		OperationID: "whoami",
		Method:      http.MethodGet,
		Path:        "/v1/sessions/current",
		Summary:     "The logged-in operator",
		Tags:        []string{"sessions"},
	}, secure, func(ctx context.Context, _ *struct{}) (*MeOutput, error) {
		return &MeOutput{Body: actorView(actorFrom(ctx))}, nil
	})
}
