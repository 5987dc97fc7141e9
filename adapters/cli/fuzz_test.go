package cli

import (
	"strings"
	"testing"
)

// FuzzDecodeProblem feeds arbitrary answers to the problem-details decoder:
// it never panics, keeps the status, and its message is one line.
func FuzzDecodeProblem(f *testing.F) {
	f.Add(404, []byte(`{"type":"tag:x:not-found","title":"Not found","status":404,"detail":"registra: not found"}`))
	f.Add(400, []byte(`{"title":"Invalid input","status":400,"errors":[{"location":"a","message":"b\nc"}]}`))
	f.Add(502, []byte("<html>bad gateway</html>"))
	f.Add(500, []byte(""))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		p := decodeProblem(status, body)
		if p.Status != status {
			t.Fatalf("status %d, want %d", p.Status, status)
		}
		if strings.Contains(p.Error(), "\n") {
			t.Fatalf("message on several lines: %q", p.Error())
		}
	})
}
