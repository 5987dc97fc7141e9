package testutil

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Sentinel is an exported package-level error variable named Err*.
type Sentinel struct {
	// Pkg is the package name, Name the variable's, and Msg the literal
	// its errors.New call is given.
	Pkg, Name, Msg string
}

// Sentinels parses the non-test Go files of dir and returns every exported
// package-level variable named Err* with its errors.New message. The adapters'
// mapping tables (HTTP problem types, CLI exit codes) are checked against it
// for completeness (STYLE §2.6). A sentinel that is not errors.New("literal")
// fails the test, so that a new shape is noticed rather than skipped.
func Sentinels(t testing.TB, dir string) []Sentinel {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []Sentinel
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if !n.IsExported() || !strings.HasPrefix(n.Name, "Err") {
						continue
					}
					msg := ""
					if i < len(vs.Values) {
						msg = errorsNewMessage(vs.Values[i])
					}
					if msg == "" {
						t.Fatalf("%s.%s: not an errors.New(\"literal\"): teach testutil.Sentinels how to read it", f.Name.Name, n.Name)
					}
					out = append(out, Sentinel{Pkg: f.Name.Name, Name: n.Name, Msg: msg})
				}
			}
		}
	}
	return out
}

// errorsNewMessage returns the literal of errors.New("..."), or "".
func errorsNewMessage(e ast.Expr) string {
	call, ok := e.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return ""
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "New" {
		return ""
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "errors" {
		return ""
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return ""
	}
	s, err := strconv.Unquote(lit.Value)
	if err != nil {
		return ""
	}
	return s
}
