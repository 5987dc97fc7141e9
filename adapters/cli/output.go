package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// printer writes a command's result: JSON for scripts (--json), aligned
// tables and key-value lists for people.
type printer struct {
	w    io.Writer
	json bool
}

// emit prints v as indented JSON with --json, or calls human otherwise.
func (p printer) emit(v any, human func(w io.Writer) error) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return human(p.w)
}

// newTable returns a table of the given header, drawn without borders so
// that its columns align and stay easy to cut with awk.
func newTable(w io.Writer, header ...any) table.Writer {
	t := table.NewWriter()
	t.SetStyle(table.StyleDefault)
	s := t.Style()
	s.Options.DrawBorder = false
	s.Options.SeparateColumns = false
	s.Options.SeparateHeader = false
	s.Options.SeparateRows = false
	s.Box.PaddingLeft = ""
	s.Box.PaddingRight = "  "
	s.Format.HeaderAlign = 0
	t.AppendHeader(table.Row(header))
	return t
}

// kv prints label/value pairs aligned, skipping empty values.
func kv(w io.Writer, pairs ...string) error {
	t := table.NewWriter()
	s := t.Style()
	s.Options.DrawBorder = false
	s.Options.SeparateColumns = false
	s.Options.SeparateHeader = false
	s.Box.PaddingLeft = ""
	s.Box.PaddingRight = "  "
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		t.AppendRow(table.Row{pairs[i] + ":", pairs[i+1]})
	}
	render(w, t)
	return nil
}

// render writes t to w without the padding go-pretty leaves at the end of
// each line.
func render(w io.Writer, t table.Writer) {
	lines := strings.Split(t.Render(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	fprintf(w, "%s\n", strings.Join(lines, "\n"))
}

// ts formats a time for people: UTC, to the second; empty for the zero time.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// day formats a date; empty for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// progress is a progress bar on standard error, drawn only when standard
// error is a terminal (scripts and logs get no control characters).
type progress struct {
	bar *progressbar.ProgressBar
}

// newProgress returns a bar of total steps (-1 for an unknown total: a
// spinner with a count).
func (e *env) newProgress(total int64, what string) *progress {
	f, ok := e.cfg.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) || e.out.json && e.cfg.Stderr == e.cfg.Stdout {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)}
}

// add advances the bar by n.
func (p *progress) add(n int) {
	if p.bar != nil {
		_ = p.bar.Add(n) //nolint:errcheck // drawing a progress bar cannot fail in a way worth stopping for
	}
}

// done removes the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish() //nolint:errcheck // as in add
	}
}

// joinNonEmpty joins the non-empty strings with sep.
func joinNonEmpty(sep string, ss ...string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, sep)
}

// fprintf writes to w, ignoring the error as fmt.Printf does: output errors
// of a CLI surface as a broken pipe the shell reports.
func fprintf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...) //nolint:errcheck // see the doc comment
}
