package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteJSON renders report.json (indented, UTF-8, trailing newline).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encode report.json: %w", err)
	}
	return nil
}

// Files are the paths WriteFiles wrote.
type Files struct {
	JSON, HTML, OCP string
}

// WriteFiles renders report.json, report.html and ocp.jsonl into dir, each
// written to a temporary file and renamed, so a reader never sees half a file.
func WriteFiles(dir string, r *Report, opt OCPOptions) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("create report dir: %w", err)
	}
	f := Files{JSON: filepath.Join(dir, JSONName), HTML: filepath.Join(dir, HTMLName), OCP: filepath.Join(dir, OCPName)}
	for _, out := range []struct {
		path   string
		render func(io.Writer) error
	}{
		{f.JSON, func(w io.Writer) error { return WriteJSON(w, r) }},
		{f.HTML, func(w io.Writer) error { return WriteHTML(w, r) }},
		{f.OCP, func(w io.Writer) error { return WriteOCP(w, r, opt) }},
	} {
		var buf bytes.Buffer
		if err := out.render(&buf); err != nil {
			return f, err
		}
		tmp := out.path + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			return f, fmt.Errorf("write %s: %w", filepath.Base(out.path), err)
		}
		if err := os.Rename(tmp, out.path); err != nil {
			return f, fmt.Errorf("write %s: %w", filepath.Base(out.path), err)
		}
	}
	return f, nil
}
