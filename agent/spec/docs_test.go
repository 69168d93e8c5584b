package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/shakedown/shakedown/agent/stage"
)

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The rule table in docs/spec.md lists every rule with its class.
func TestDocsListEveryRule(t *testing.T) {
	doc := readDoc(t)
	for _, r := range Rules {
		row := "| `" + r.ID + "` | " + string(r.Class) + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/spec.md has no row %q", row)
		}
	}
	for _, th := range stage.Thresholds {
		if !strings.Contains(doc, "| `"+th.Name+"` | "+th.Default) {
			t.Errorf("docs/spec.md threshold table lacks %s with default %s", th.Name, th.Default)
		}
	}
}

// The full example in docs/spec.md is testdata/example.yaml.
func TestDocsExampleIsTestdata(t *testing.T) {
	doc := readDoc(t)
	_, rest, ok := strings.Cut(doc, "## Full example\n\n```yaml\n")
	if !ok {
		t.Fatal("no yaml block under ## Full example")
	}
	block, _, _ := strings.Cut(rest, "```\n")
	want, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if block != string(want) {
		t.Errorf("docs/spec.md example differs from testdata/example.yaml")
	}
	if _, err := Parse(strings.NewReader(block), "docs/spec.md"); err != nil {
		t.Errorf("docs example does not parse: %v", err)
	}
}
