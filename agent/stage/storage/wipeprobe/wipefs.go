package wipeprobe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shakedown/shakedown/collector/tool"
)

// wipefsColumns are the columns we ask wipefs for (the default set lacks
// LENGTH and USAGE).
const wipefsColumns = "DEVICE,OFFSET,LENGTH,TYPE,USAGE,UUID,LABEL"

// maxWipefsOutput caps what we parse: a real listing is a few KiB.
const maxWipefsOutput = 4 << 20

// WipefsArgs are the arguments of the read-only listing: -n (no act) is
// essential and is never dropped.
func WipefsArgs(path string) []string {
	return []string{"--no-act", "--json", "--output", wipefsColumns, path}
}

// ParseWipefs parses `wipefs -n --json` output. Offsets are hex strings
// ("0x218"). Anything that is not the documented shape is an error, which the
// caller turns into "unknown".
func ParseWipefs(r io.Reader) ([]Signature, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxWipefsOutput+1))
	if err != nil {
		return nil, fmt.Errorf("read wipefs output: %w", err)
	}
	if len(data) > maxWipefsOutput {
		return nil, fmt.Errorf("parse wipefs output: larger than %d bytes", maxWipefsOutput)
	}
	var doc struct {
		Signatures *[]struct {
			Device string          `json:"device"`
			Offset json.RawMessage `json:"offset"`
			Type   *string         `json:"type"`
			Usage  *string         `json:"usage"`
			UUID   *string         `json:"uuid"`
			Label  *string         `json:"label"`
		} `json:"signatures"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse wipefs output: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("parse wipefs output: trailing data after the JSON document")
	}
	if doc.Signatures == nil {
		return nil, fmt.Errorf("parse wipefs output: no \"signatures\" array")
	}
	out := make([]Signature, 0, len(*doc.Signatures))
	for i, s := range *doc.Signatures {
		if s.Type == nil || *s.Type == "" {
			return nil, fmt.Errorf("parse wipefs output: signature %d has no type", i)
		}
		off, err := parseWipefsOffset(s.Offset)
		if err != nil {
			return nil, fmt.Errorf("parse wipefs output: signature %d (%s): %w", i, *s.Type, err)
		}
		var detail []string
		if s.Usage != nil && *s.Usage != "" {
			detail = append(detail, *s.Usage)
		}
		if s.Label != nil && *s.Label != "" {
			detail = append(detail, "label "+strconv.Quote(*s.Label))
		}
		if s.UUID != nil && *s.UUID != "" {
			detail = append(detail, "uuid "+*s.UUID)
		}
		out = append(out, Signature{Type: *s.Type, Offset: off, Voter: VoterWipefs, Detail: strings.Join(detail, ", ")})
	}
	return out, nil
}

// parseWipefsOffset accepts the hex string wipefs writes ("0x218") and, to be
// tolerant of other util-linux versions, a plain JSON number.
func parseWipefsOffset(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fmt.Errorf("no offset")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("offset %s: %w", raw, err)
		}
	} else {
		s = string(raw)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("offset %q is not a non-negative integer", s)
	}
	return v, nil
}

// runWipefs is the wipefs voter: signatures, or an error meaning "unknown"
// (not installed, non-zero exit, unparsable output).
func runWipefs(ctx context.Context, tools tool.Runner, path string) ([]Signature, error) {
	out, err := tools.Run(ctx, tool.Cmd{Tool: "wipefs", Args: WipefsArgs(path), MaxCapture: maxWipefsOutput + 1})
	if err != nil {
		return nil, fmt.Errorf("run wipefs: %w", err)
	}
	if out.ExitCode != 0 {
		return nil, fmt.Errorf("wipefs exited %d: %s", out.ExitCode, firstLine(out.Stderr))
	}
	if out.Truncated {
		return nil, fmt.Errorf("wipefs output truncated")
	}
	return ParseWipefs(bytes.NewReader(out.Stdout))
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	if s == "" {
		return "(no message)"
	}
	return s
}
