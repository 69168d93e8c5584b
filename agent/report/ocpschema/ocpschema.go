// Package ocpschema validates OCP Test & Validation output lines (spec 2.0)
// against the project's JSON schemas (opencomputeproject/ocp-diag-core
// json_spec/output, copied into schema/ with their licence; see
// schema/SOURCE). Tests use it to check every line ocp.jsonl holds; it is
// not linked into the agent.
package ocpschema

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/*.json
var files embed.FS

// RootID is the $id of the output (line) schema.
const RootID = "https://github.com/opencomputeproject/ocp-diag-core/output"

var (
	once    sync.Once
	root    *jsonschema.Schema
	loadErr error
)

func load() (*jsonschema.Schema, error) {
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		err := fs.WalkDir(files, "schema", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) != ".json" {
				return err
			}
			b, err := files.ReadFile(p)
			if err != nil {
				return err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			m, ok := doc.(map[string]any)
			if !ok {
				return fmt.Errorf("%s: not an object", p)
			}
			id, _ := m["$id"].(string)
			if id == "" {
				return fmt.Errorf("%s: no $id", p)
			}
			return c.AddResource(id, doc)
		})
		if err != nil {
			loadErr = fmt.Errorf("load OCP schemas: %w", err)
			return
		}
		root, loadErr = c.Compile(RootID)
	})
	return root, loadErr
}

// ValidateLine checks one JSON line against the output schema.
func ValidateLine(line []byte) error {
	sch, err := load()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return sch.Validate(inst)
}

// ValidateStream checks every line of r; it returns the number of lines and
// the first error, naming its line number.
func ValidateStream(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if strings.TrimSpace(string(line)) == "" {
			return n, fmt.Errorf("line %d: empty line", n)
		}
		if err := ValidateLine(line); err != nil {
			return n, fmt.Errorf("line %d: %w\n%s", n, err, line)
		}
	}
	return n, sc.Err()
}
