package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	httpapi "github.com/registra-pki/registra/adapters/http"
	"github.com/registra-pki/registra/ca"
	"github.com/registra-pki/registra/ca/catest"
	"github.com/registra-pki/registra/lifecycle"
	"github.com/registra-pki/registra/store"
)

// ExampleProblems shows how library errors become problem types: the first
// row whose sentinel the error wraps decides.
func ExampleProblems() {
	for _, err := range []error{
		fmt.Errorf("getting order: %w", store.ErrNotFound),
		&lifecycle.TransitionError{},
		errors.New("an error no row names"),
	} {
		p := httpapi.Lookup(err)
		fmt.Println(p.Status, p.Type())
	}
	// Output:
	// 404 tag:registra-pki.github.io,2026:problem:not-found
	// 409 tag:registra-pki.github.io,2026:problem:transition-not-allowed
	// 500 tag:registra-pki.github.io,2026:problem:internal
}

// ExampleNewPublic serves the CA certificates of a hierarchy; the platform
// adds its CRL and OCSP handlers (see examples/server).
func ExampleNewPublic() {
	pub, err := httpapi.NewPublic(httpapi.PublicConfig{CA: exampleHierarchy()})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	pub.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, httpapi.PathIssuerCert, nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200 application/pkix-cert
}

// exampleHierarchy opens a throwaway CA hierarchy with software keys.
func exampleHierarchy() *ca.Hierarchy {
	dir, err := os.MkdirTemp("", "registra-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	h, err := ca.OpenHierarchy(context.Background(), catest.HierarchyConfig(dir))
	if err != nil {
		panic(err)
	}
	return h
}
