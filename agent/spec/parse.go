package spec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/shakedown/shakedown/agent/stage"
)

// MaxFileSize caps a spec file. Real specs are a few KiB.
const MaxFileSize = 1 << 20

const maxDepth = 16 // deeper nesting than the format has is refused

// Error is one problem in a spec file, with where it is and what to write instead.
type Error struct {
	File string
	Line int
	Col  int
	Path string // the key path, e.g. "disks[2].serial"
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one file, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// ParseFile reads and parses a spec file.
func ParseFile(path string) (*Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spec: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a spec strictly: unknown or duplicate keys, tabs, wrong types,
// empty identifiers, sizes without units, anchors and aliases, documents over
// MaxFileSize and empty documents are all refused. A non-nil error is an
// ErrorList (or an I/O error); every entry has the file, line and column.
func Parse(r io.Reader, file string) (*Spec, error) {
	if file == "" {
		file = "<spec>"
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read spec %s: %w", file, err)
	}
	return parseBytes(data, file)
}

func parseBytes(data []byte, file string) (*Spec, error) {
	p := &parser{file: file}
	if len(data) > MaxFileSize {
		p.errAt(1, 1, "", "file is larger than %d bytes; an expected spec is a few KiB (is this the right file?)", MaxFileSize)
		return nil, p.errs
	}
	if i := bytes.IndexByte(data, '\t'); i >= 0 {
		line, col := position(data, i)
		p.errAt(line, col, "", "tab character; YAML indentation must be spaces (replace tabs with two spaces)")
		return nil, p.errs
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		line, col := position(data, i)
		p.errAt(line, col, "", "NUL byte; a spec is a text file")
		return nil, p.errs
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errAt(1, 1, "", "empty spec: a spec must at least set version, host, cpu, memory and disks (write one with `shakedown-agent spec capture`)")
		} else {
			p.yamlErr(err)
		}
		return nil, p.errs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		p.errAt(extra.Line, extra.Column, "", "a second YAML document (after ---); a spec file holds one document")
		return nil, p.errs
	} else if !errors.Is(err, io.EOF) {
		p.yamlErr(err)
		return nil, p.errs
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			p.errAt(1, 1, "", "empty spec: a spec must at least set version, host, cpu, memory and disks")
			return nil, p.errs
		}
		root = root.Content[0]
	}
	if !p.checkTree(root, 0) {
		return nil, p.errs
	}
	s := &Spec{File: file}
	p.spec(root, s)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i], p.errs[j]
			return a.Line < b.Line || (a.Line == b.Line && a.Col < b.Col)
		})
		return nil, p.errs
	}
	return s, nil
}

func position(data []byte, off int) (line, col int) {
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

type parser struct {
	file string
	errs ErrorList
}

func (p *parser) errAt(line, col int, path, format string, a ...any) {
	if len(p.errs) >= 50 {
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, a...)})
}

func (p *parser) err(n *yaml.Node, path, format string, a ...any) {
	p.errAt(n.Line, n.Column, path, format, a...)
}

var yamlLineRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

func (p *parser) yamlErr(err error) {
	msg := err.Error()
	if m := yamlLineRE().FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.errAt(line, 1, "", "YAML syntax: %s", m[2])
		return
	}
	p.errAt(1, 1, "", "YAML syntax: %s", strings.TrimPrefix(msg, "yaml: "))
}

// checkTree refuses anchors, aliases, merge keys, custom tags and nesting
// deeper than the format has, before anything is decoded (alias bombs).
func (p *parser) checkTree(n *yaml.Node, depth int) bool {
	if depth > maxDepth {
		p.err(n, "", "nesting deeper than %d levels; the spec format is flat (see docs/spec.md)", maxDepth)
		return false
	}
	ok := true
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.err(n, "", "anchors (&) and aliases (*) are not allowed in a spec; write each value out")
		return false
	}
	if n.Tag != "" && !strings.HasPrefix(n.Tag, "!!") {
		p.err(n, "", "custom tag %q is not allowed; remove it", n.Tag)
		ok = false
	}
	for _, c := range n.Content {
		if !p.checkTree(c, depth+1) {
			ok = false
		}
	}
	return ok
}

// field is one known key of a mapping.
type field struct {
	name     string
	required bool
	decode   func(v *yaml.Node, path string)
}

// mapping walks a mapping node: unknown keys, duplicate keys and missing
// required keys are errors. It returns false when n is not a mapping.
func (p *parser) mapping(n *yaml.Node, path, hint string, fields []field) bool {
	if n.Kind != yaml.MappingNode {
		p.err(n, path, "%s; %s", describe(n, "a mapping (key: value lines)"), hint)
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.err(k, path, "a key must be a plain word")
			continue
		}
		kp := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			p.err(k, kp, "duplicate key (first set on line %d); keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		var f *field
		for j := range fields {
			if fields[j].name == k.Value {
				f = &fields[j]
			}
		}
		if f == nil {
			p.err(k, kp, "unknown key%s; known keys here: %s", suggest(k.Value, fields), names(fields))
			continue
		}
		f.decode(v, kp)
	}
	for _, f := range fields {
		if _, ok := seen[f.name]; f.required && !ok {
			p.err(n, path, "missing required key %q", f.name)
		}
	}
	return true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func names(fields []field) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}

func suggest(k string, fields []field) string {
	best, bestD := "", 3
	for _, f := range fields {
		if d := editDistance(strings.ToLower(k), f.name); d < bestD {
			best, bestD = f.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// describe says what a node is, for "expected X, found Y" messages.
func describe(n *yaml.Node, want string) string {
	switch {
	case isNull(n):
		return "empty (null), expected " + want
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("found %q, expected %s", clip(n.Value), want)
	case n.Kind == yaml.SequenceNode:
		return "found a list, expected " + want
	case n.Kind == yaml.MappingNode:
		return "found a mapping, expected " + want
	}
	return "expected " + want
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// scalar returns the text of a scalar node exactly as written (YAML 1.1
// surprises like NO or 0x1F stay text).
func (p *parser) scalar(n *yaml.Node, path, hint string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.err(n, path, "%s; %s", describe(n, "a value"), hint)
		return "", false
	}
	switch n.Tag {
	case "!!str", "!!int", "!!float", "!!bool":
	default:
		p.err(n, path, "%s values are not allowed here; %s", n.Tag, hint)
		return "", false
	}
	return n.Value, true
}

// text is a non-empty string (after trimming spaces and NULs).
func (p *parser) text(n *yaml.Node, path, hint string) (string, bool) {
	v, ok := p.scalar(n, path, hint)
	if !ok {
		return "", false
	}
	if Normalize(v) == "" {
		p.err(n, path, "empty value; %s", hint)
		return "", false
	}
	if utf8.RuneCountInString(v) > 256 {
		p.err(n, path, "value longer than 256 characters")
		return "", false
	}
	return Normalize(v), true
}

// integer is a whole number written without quotes, in [lo, hi].
func (p *parser) integer(n *yaml.Node, path string, lo, hi int) (*int, bool) {
	hint := fmt.Sprintf("write a whole number from %d to %d", lo, hi)
	v, ok := p.scalar(n, path, hint)
	if !ok {
		return nil, false
	}
	if n.Tag != "!!int" {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			hint = "write the number without quotes"
		}
		p.err(n, path, "%s; %s", describe(n, "a whole number"), hint)
		return nil, false
	}
	i, err := strconv.Atoi(v)
	if err != nil {
		p.err(n, path, "%q is not a plain decimal number; %s", clip(v), hint)
		return nil, false
	}
	if i < lo || i > hi {
		p.err(n, path, "%d is out of range; %s", i, hint)
		return nil, false
	}
	return &i, true
}

// size is a byte size with a unit.
func (p *parser) size(n *yaml.Node, path string) (*uint64, bool) {
	v, ok := p.scalar(n, path, "write a size with a unit, e.g. 480GB, 1.92TB or 384GiB")
	if !ok {
		return nil, false
	}
	if n.Tag == "!!int" || n.Tag == "!!float" {
		p.err(n, path, "size %s has no unit; write %sGB (decimal, as disk vendors count) or %sGiB (binary)", v, v, v)
		return nil, false
	}
	b, err := stage.ParseSize(v)
	if err != nil {
		p.err(n, path, "%v", err)
		return nil, false
	}
	return &b, true
}

func (p *parser) oneOf(n *yaml.Node, path string, allowed ...string) (string, bool) {
	hint := "write one of " + strings.Join(allowed, ", ")
	v, ok := p.text(n, path, hint)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if v == a {
			return v, true
		}
	}
	p.err(n, path, "%q is not allowed; %s", clip(v), hint)
	return "", false
}

func (p *parser) list(n *yaml.Node, path, hint string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		p.err(n, path, "%s; %s", describe(n, "a list (lines starting with \"- \")"), hint)
		return nil, false
	}
	return n.Content, true
}

func (p *parser) spec(root *yaml.Node, s *Spec) {
	p.mapping(root, "", "a spec is a mapping with version, host, cpu, memory, disks, ... (see docs/spec.md)", []field{
		{"version", true, func(v *yaml.Node, path string) {
			if i, ok := p.integer(v, path, 0, 1<<20); ok {
				if *i != Version {
					p.err(v, path, "unsupported version %d; this agent reads version %d", *i, Version)
				}
				s.Version = *i
			}
		}},
		{"host", true, func(v *yaml.Node, path string) {
			s.Host, _ = p.text(v, path, "write the host id (host_id in inventory.json, e.g. the DMI system UUID)")
		}},
		{"system", false, func(v *yaml.Node, path string) { s.System = p.system(v, path) }},
		{"cpu", true, func(v *yaml.Node, path string) { s.CPU = p.cpu(v, path) }},
		{"memory", true, func(v *yaml.Node, path string) { s.Memory = p.memory(v, path) }},
		{"disks", true, func(v *yaml.Node, path string) { s.Disks = p.disks(v, path) }},
		{"nics", false, func(v *yaml.Node, path string) { s.HasNICs = true; s.NICs = p.nics(v, path) }},
		{"gpus", false, func(v *yaml.Node, path string) { s.GPUs = p.gpus(v, path) }},
		{"thresholds", false, func(v *yaml.Node, path string) { s.Thresholds = p.thresholds(v, path) }},
	})
}

func (p *parser) system(n *yaml.Node, path string) *System {
	var sys System
	set := 0
	hint := "write vendor, product and/or serial as DMI reports them"
	p.mapping(n, path, hint, []field{
		{"vendor", false, func(v *yaml.Node, path string) { sys.Vendor, _ = p.text(v, path, hint); set++ }},
		{"product", false, func(v *yaml.Node, path string) { sys.Product, _ = p.text(v, path, hint); set++ }},
		{"serial", false, func(v *yaml.Node, path string) { sys.Serial, _ = p.text(v, path, hint); set++ }},
	})
	if n.Kind == yaml.MappingNode && set == 0 {
		p.err(n, path, "empty section; set vendor, product or serial, or remove system:")
	}
	return &sys
}

func (p *parser) cpu(n *yaml.Node, path string) *CPU {
	var c CPU
	set := 0
	p.mapping(n, path, "write model, sockets, cores and threads", []field{
		{"model", false, func(v *yaml.Node, path string) {
			c.Model, _ = p.text(v, path, `write the model as /proc/cpuinfo shows it; '*' matches anything, e.g. "Intel(R) Xeon(R) Gold 6130*"`)
			set++
		}},
		{"sockets", false, func(v *yaml.Node, path string) { c.Sockets, _ = p.integer(v, path, 1, 64); set++ }},
		{"cores", false, func(v *yaml.Node, path string) { c.Cores, _ = p.integer(v, path, 1, 1<<16); set++ }},
		{"threads", false, func(v *yaml.Node, path string) { c.Threads, _ = p.integer(v, path, 1, 1<<17); set++ }},
	})
	if n.Kind == yaml.MappingNode && set == 0 {
		p.err(n, path, "empty section; set at least model or cores")
	}
	return &c
}

func (p *parser) memory(n *yaml.Node, path string) *Memory {
	m := Memory{TolerancePercent: DefaultMemoryTolerance}
	set := 0
	p.mapping(n, path, "write total (e.g. 384GiB), dimms and optional slots", []field{
		{"total", false, func(v *yaml.Node, path string) { m.Total, _ = p.size(v, path); set++ }},
		{"tolerance", false, func(v *yaml.Node, path string) {
			hint := "write a percentage, e.g. 3%"
			s, ok := p.scalar(v, path, hint)
			if !ok {
				return
			}
			num, pct := strings.CutSuffix(strings.TrimSpace(s), "%")
			f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if !pct || err != nil || f < 0 || f > 50 {
				p.err(v, path, "%q is not a percentage from 0%% to 50%%; %s", clip(s), hint)
				return
			}
			m.TolerancePercent = f
		}},
		{"dimms", false, func(v *yaml.Node, path string) { m.DIMMs, _ = p.integer(v, path, 0, 1024); set++ }},
		{"slots", false, func(v *yaml.Node, path string) { m.Slots = p.slots(v, path); set++ }},
	})
	if n.Kind == yaml.MappingNode && set == 0 {
		p.err(n, path, "empty section; set at least total")
	}
	return &m
}

func (p *parser) slots(n *yaml.Node, path string) []Slot {
	items, ok := p.list(n, path, "list the slots you care about, each with locator and size, speed or part")
	if !ok {
		return nil
	}
	out := make([]Slot, 0, len(items))
	seen := map[string]int{}
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var sl Slot
		set := 0
		if !p.mapping(it, ip, "write locator: and size:, speed_mts: or part:", []field{
			{"locator", true, func(v *yaml.Node, path string) {
				sl.Locator, _ = p.text(v, path, "write the slot's SMBIOS locator, e.g. DIMM_A1 (dmidecode -t 17)")
			}},
			{"size", false, func(v *yaml.Node, path string) { sl.Size, _ = p.size(v, path); set++ }},
			{"speed_mts", false, func(v *yaml.Node, path string) { sl.SpeedMTs, _ = p.integer(v, path, 1, 100000); set++ }},
			{"part", false, func(v *yaml.Node, path string) {
				sl.Part, _ = p.text(v, path, "write the part number or remove part:")
				set++
			}},
		}) {
			continue
		}
		if set == 0 {
			p.err(it, ip, "slot has only a locator; add size, speed_mts or part")
		}
		if sl.Locator != "" {
			if first, dup := seen[sl.Locator]; dup {
				p.err(it, ip, "slot %q is listed twice (first at line %d)", sl.Locator, first)
			}
			seen[sl.Locator] = it.Line
		}
		out = append(out, sl)
	}
	return out
}

func (p *parser) disks(n *yaml.Node, path string) []Disk {
	items, ok := p.list(n, path, "list the disks, or write disks: [] for a host with none")
	if !ok {
		return nil
	}
	out := make([]Disk, 0, len(items))
	lines := make([]int, 0, len(items))
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		d, ok := p.disk(it, ip)
		if !ok {
			continue
		}
		for j, o := range out {
			if !d.Anonymous && !o.Anonymous && MatchIdentity(d.ID, o.ID) {
				p.err(it, ip, "names the same disk as the entry on line %d; keep one", lines[j])
			}
		}
		out = append(out, d)
		lines = append(lines, it.Line)
	}
	return out
}

const identityHint = "identify a disk by wwn, eui64 or nguid, or by all of vendor, model and serial (as `shakedown-agent spec capture` writes them)"

func (p *parser) disk(n *yaml.Node, path string) (Disk, bool) {
	var d Disk
	anon := false
	idHint := "write the value as `shakedown-agent spec capture` shows it, or remove the key; " + identityHint
	before := len(p.errs)
	ok := p.mapping(n, path, "each disk is a mapping with an identity, size, class and role", []field{
		{"wwn", false, func(v *yaml.Node, path string) { d.ID.WWN, _ = p.text(v, path, idHint) }},
		{"eui64", false, func(v *yaml.Node, path string) { d.ID.EUI64, _ = p.text(v, path, idHint) }},
		{"nguid", false, func(v *yaml.Node, path string) { d.ID.NGUID, _ = p.text(v, path, idHint) }},
		{"vendor", false, func(v *yaml.Node, path string) { d.ID.Vendor, _ = p.text(v, path, idHint) }},
		{"model", false, func(v *yaml.Node, path string) { d.ID.Model, _ = p.text(v, path, idHint) }},
		{"serial", false, func(v *yaml.Node, path string) { d.ID.Serial, _ = p.text(v, path, idHint) }},
		{"anonymous", false, func(v *yaml.Node, path string) {
			if s, ok := p.scalar(v, path, "write anonymous: true"); ok {
				if v.Tag != "!!bool" || s != "true" {
					p.err(v, path, "write anonymous: true, or remove the key")
					return
				}
				anon = true
			}
		}},
		{"size", false, func(v *yaml.Node, path string) { d.Size, _ = p.size(v, path) }},
		{"class", false, func(v *yaml.Node, path string) { d.Class, _ = p.oneOf(v, path, ClassNVMe, ClassSSD, ClassHDD) }},
		{"role", true, func(v *yaml.Node, path string) { d.Role, _ = p.oneOf(v, path, RoleTest, RoleKeep, RoleBoot) }},
		{"firmware", false, func(v *yaml.Node, path string) {
			d.Firmware, _ = p.text(v, path, "write the firmware revision or remove firmware:")
		}},
	})
	if !ok || len(p.errs) > before {
		return d, false
	}
	d.Anonymous = anon
	id := d.ID.normalized()
	hasStrong := id.WWN != "" || id.EUI64 != "" || id.NGUID != ""
	hasAny := d.ID != DiskIdentity{}
	switch {
	case anon && hasAny:
		p.err(n, path, "an anonymous disk has no identity; remove anonymous: or the identity keys")
		return d, false
	case anon && d.Role == RoleTest:
		p.err(n, path, "an anonymous disk can never be tested destructively (nothing proves which disk it is); use role: keep or boot")
		return d, false
	case anon && d.Size == nil:
		p.err(n, path, "an anonymous disk is matched by size; add size:")
		return d, false
	case anon:
		return d, true
	}
	for _, x := range []struct{ name, raw, canon string }{{"wwn", d.ID.WWN, id.WWN}, {"eui64", d.ID.EUI64, id.EUI64}, {"nguid", d.ID.NGUID, id.NGUID}} {
		if x.raw != "" && x.canon == "" {
			p.err(n, path, "%s %q is all zeros, which devices report when they have none; %s", x.name, x.raw, identityHint)
			return d, false
		}
	}
	if !hasStrong && !id.hasSerialTriple() {
		var missing []string
		for _, x := range []struct{ name, v string }{{"vendor", id.Vendor}, {"model", id.Model}, {"serial", id.Serial}} {
			if x.v == "" {
				missing = append(missing, x.name)
			}
		}
		p.err(n, path, "no usable identity (missing %s); %s. Never by kernel name (sda) or by-path", strings.Join(missing, ", "), identityHint)
		return d, false
	}
	return d, true
}

var macRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$`) })
var pciRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$`)
})

func (p *parser) nics(n *yaml.Node, path string) []NIC {
	if isNull(n) {
		p.err(n, path, "empty; list the NICs, write nics: [] for none, or remove nics: to not check them")
		return nil
	}
	items, ok := p.list(n, path, "list the NICs, each with mac or pci")
	if !ok {
		return nil
	}
	out := make([]NIC, 0, len(items))
	seen := map[string]int{}
	for i, it := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		var nic NIC
		before := len(p.errs)
		if !p.mapping(it, ip, "each NIC is a mapping with mac or pci, and optional min_speed_mbps", []field{
			{"mac", false, func(v *yaml.Node, path string) {
				if s, ok := p.text(v, path, "write the permanent MAC, e.g. 3c:ec:ef:01:02:03"); ok {
					if !macRE().MatchString(s) || canonMAC(s) == "00:00:00:00:00:00" {
						p.err(v, path, "%q is not a MAC address; write six hex pairs, e.g. 3c:ec:ef:01:02:03", clip(s))
						return
					}
					nic.MAC = canonMAC(s)
				}
			}},
			{"pci", false, func(v *yaml.Node, path string) {
				if s, ok := p.text(v, path, "write the PCI address, e.g. 0000:3b:00.0"); ok {
					if !pciRE().MatchString(s) {
						p.err(v, path, "%q is not a PCI address; write e.g. 0000:3b:00.0", clip(s))
						return
					}
					nic.PCI = canonPCI(s)
				}
			}},
			{"min_speed_mbps", false, func(v *yaml.Node, path string) { nic.MinSpeedMbps, _ = p.integer(v, path, 1, 10_000_000) }},
			{"driver", false, func(v *yaml.Node, path string) {
				nic.Driver, _ = p.text(v, path, "write the kernel driver name, e.g. ixgbe, or remove driver:")
			}},
		}) || len(p.errs) > before {
			continue
		}
		if nic.MAC == "" && nic.PCI == "" {
			p.err(it, ip, "a NIC needs mac or pci (the interface name is not an identity)")
			continue
		}
		key := nic.Subject()
		if first, dup := seen[key]; dup {
			p.err(it, ip, "%s is listed twice (first at line %d)", key, first)
		}
		seen[key] = it.Line
		out = append(out, nic)
	}
	return out
}

func (p *parser) gpus(n *yaml.Node, path string) *GPUs {
	var g GPUs
	p.mapping(n, path, "write count (0 for none) and optional model", []field{
		{"count", true, func(v *yaml.Node, path string) {
			if c, ok := p.integer(v, path, 0, 64); ok {
				g.Count = *c
			}
		}},
		{"model", false, func(v *yaml.Node, path string) {
			g.Model, _ = p.text(v, path, `write the model, '*' matches anything, e.g. "NVIDIA H100*"`)
		}},
	})
	return &g
}

func (p *parser) thresholds(n *yaml.Node, path string) map[string]string {
	if n.Kind != yaml.MappingNode {
		p.err(n, path, "%s; write name: value lines (names from `shakedown-agent spec defaults`)", describe(n, "a mapping"))
		return nil
	}
	out := map[string]string{}
	var fields []field
	for _, t := range stage.Thresholds {
		fields = append(fields, field{t.Name, false, func(v *yaml.Node, path string) {
			s, ok := p.scalar(v, path, fmt.Sprintf("write a %s in %s (default %s)", t.Kind, t.Unit, t.Default))
			if !ok {
				return
			}
			if (t.Kind == stage.KindFloat || t.Kind == stage.KindInt) && v.Tag != "!!int" && v.Tag != "!!float" {
				p.err(v, path, "%s; write the number without quotes or units (unit: %s)", describe(v, "a number"), t.Unit)
				return
			}
			if err := stage.CheckValue(t.Kind, s); err != nil {
				p.err(v, path, "%v (unit: %s, default %s)", err, t.Unit, t.Default)
				return
			}
			if f, err := strconv.ParseFloat(s, 64); err == nil && f < 0 {
				p.err(v, path, "negative value %s; thresholds are not negative", s)
				return
			}
			out[t.Name] = s
		}})
	}
	p.mapping(n, path, "", fields)
	return out
}

// canonMAC lower-cases a MAC and uses ':' separators.
func canonMAC(s string) string {
	return strings.ReplaceAll(strings.ToLower(Normalize(s)), "-", ":")
}

// canonPCI lower-cases a PCI address and adds the 0000: domain when absent.
func canonPCI(s string) string {
	t := strings.ToLower(Normalize(s))
	if strings.Count(t, ":") == 1 {
		t = "0000:" + t
	}
	return t
}
