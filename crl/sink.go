package crl

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/registra-pki/registra/internal/atomicfile"
)

// HTTPSinkConfig configures [NewHTTPSink].
type HTTPSinkConfig struct {
	// FullPath and DeltaPath are the URL paths the certificates' CRL
	// distribution point and freshest CRL extensions name (for
	// "http://crl.example/issuing.crl", "/issuing.crl"). Required.
	FullPath, DeltaPath string
	// MaxAge caps the Cache-Control max-age; zero means caching up to the
	// CRL's nextUpdate.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Validate names the first bad field.
func (c *HTTPSinkConfig) Validate() error {
	switch {
	case !strings.HasPrefix(c.FullPath, "/"):
		return &FieldError{Field: "full_path", Rule: "must start with /"}
	case !strings.HasPrefix(c.DeltaPath, "/"):
		return &FieldError{Field: "delta_path", Rule: "must start with /"}
	case c.FullPath == c.DeltaPath:
		return &FieldError{Field: "delta_path", Rule: "must differ from full_path"}
	case c.MaxAge < 0:
		return &FieldError{Field: "max_age", Rule: "must not be negative"}
	}
	return nil
}

// HTTPSink is a [Publisher] that keeps the current full and delta CRL in
// memory and serves them (an http.Handler): DER as application/pkix-crl
// (RFC 2585 §4.2), with ETag (the CRL number), Last-Modified (thisUpdate)
// and caching up to nextUpdate, answering conditional requests with 304.
type HTTPSink struct {
	cfg HTTPSinkConfig
	now func() time.Time

	mu          sync.RWMutex
	full, delta *Published
}

var _ Publisher = (*HTTPSink)(nil)

// NewHTTPSink checks cfg and returns an empty sink (404 until the first
// publication).
func NewHTTPSink(cfg HTTPSinkConfig) (*HTTPSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &HTTPSink{cfg: cfg, now: cfg.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Publish makes p the CRL served at its path. A CRL whose number is not
// greater than the one served is refused with [ErrNumber]: the served CRL
// never moves backwards.
func (s *HTTPSink) Publish(_ context.Context, p *Published) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := &s.full
	if p.Delta {
		cur = &s.delta
	}
	if *cur != nil && p.Number.Cmp((*cur).Number) <= 0 {
		return &NumberError{Number: p.Number, Last: (*cur).Number}
	}
	*cur = p
	return nil
}

// Current returns the CRL served at the full (delta false) or delta path,
// or nil.
func (s *HTTPSink) Current(delta bool) *Published {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if delta {
		return s.delta
	}
	return s.full
}

// ServeHTTP serves GET and HEAD on the two paths.
func (s *HTTPSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p *Published
	switch r.URL.Path {
	case s.cfg.FullPath:
		p = s.Current(false)
	case s.cfg.DeltaPath:
		p = s.Current(true)
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "crl: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if p == nil {
		http.Error(w, "crl: no crl published yet", http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pkix-crl")
	h.Set("ETag", `"`+p.Number.Text(16)+`"`)
	h.Set("Expires", p.NextUpdate.UTC().Format(http.TimeFormat))
	maxAge := p.NextUpdate.Sub(s.now())
	if s.cfg.MaxAge > 0 && maxAge > s.cfg.MaxAge {
		maxAge = s.cfg.MaxAge
	}
	if maxAge > 0 {
		h.Set("Cache-Control", "public, no-transform, max-age="+strconv.Itoa(int(maxAge/time.Second)))
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", p.ThisUpdate, strings.NewReader(string(p.DER)))
}

// DirSinkConfig configures [NewDirSink].
type DirSinkConfig struct {
	// Dir is the directory the CRLs are written to; it must exist.
	// Required.
	Dir string
	// FullName and DeltaName are the file names; zero means "full.crl"
	// and "delta.crl".
	FullName, DeltaName string
	// Perm is the files' mode; zero means 0644 (CRLs are public).
	Perm os.FileMode
}

// Validate names the first bad field.
func (c *DirSinkConfig) Validate() error {
	if c.Dir == "" {
		return &FieldError{Field: "dir", Rule: "required"}
	}
	if fi, err := os.Stat(c.Dir); err != nil || !fi.IsDir() {
		return &FieldError{Field: "dir", Rule: "must be an existing directory"}
	}
	for _, n := range []struct{ field, name string }{{"full_name", c.FullName}, {"delta_name", c.DeltaName}} {
		if n.name != "" && (n.name != filepath.Base(n.name) || strings.HasPrefix(n.name, ".")) {
			return &FieldError{Field: n.field, Rule: "must be a plain file name"}
		}
	}
	return nil
}

// DirSink is a [Publisher] writing each CRL to a file atomically: a
// temporary file in the same directory, synced, renamed over the old one,
// then the directory synced, so a reader (a web server, rsync) sees the old
// CRL or the new one, never a mix.
type DirSink struct {
	cfg DirSinkConfig
	mu  sync.Mutex
}

var _ Publisher = (*DirSink)(nil)

// NewDirSink checks cfg and returns the sink.
func NewDirSink(cfg DirSinkConfig) (*DirSink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.FullName == "" {
		cfg.FullName = "full.crl"
	}
	if cfg.DeltaName == "" {
		cfg.DeltaName = "delta.crl"
	}
	if cfg.Perm == 0 {
		cfg.Perm = 0o644
	}
	return &DirSink{cfg: cfg}, nil
}

// Publish writes p.DER to the full or delta file.
func (d *DirSink) Publish(ctx context.Context, p *Published) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name := d.cfg.FullName
	if p.Delta {
		name = d.cfg.DeltaName
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return writeAtomic(d.cfg.Dir, name, p.DER, d.cfg.Perm)
}

func writeAtomic(dir, name string, data []byte, perm os.FileMode) error {
	if err := atomicfile.Write(filepath.Join(dir, name), data, perm); err != nil {
		return fmt.Errorf("crl: dir sink: writing %s: %w", name, err)
	}
	return nil
}
