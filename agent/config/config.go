// Package config resolves what a run does: the profile (safe, quick, full), each
// stage's enablement, timeout and parameters, and the thresholds. Values come,
// lowest precedence first, from the stage's declared defaults for the profile,
// the YAML config file, then command-line flags. Every key is checked against
// the stage registry: an unknown key is an error that names the key, its file
// position and the keys that are known.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/shakedown/shakedown/agent/stage"
)

// Profiles, in order of intensity.
const (
	Safe  = "safe"  // no destructive step: Storage read-only
	Quick = "quick" // minutes
	Full  = "full"  // the seed's durations
)

// Profiles lists the valid profile names.
var Profiles = []string{Safe, Quick, Full}

// ValidProfile reports whether p names a profile.
func ValidProfile(p string) bool {
	for _, x := range Profiles {
		if x == p {
			return true
		}
	}
	return false
}

// StageSettings is the resolved configuration of one stage.
type StageSettings struct {
	Name    string        `json:"name"`
	Enabled bool          `json:"enabled"`
	Timeout time.Duration `json:"timeout"`
	Params  stage.Params  `json:"params,omitempty"`
}

// Config is a resolved run configuration.
type Config struct {
	Profile    string                    `json:"profile"`
	Stages     map[string]*StageSettings `json:"stages"` // by stage.Key(name)
	Thresholds stage.Params              `json:"thresholds"`
	// Source is the config file, if any.
	Source string `json:"source,omitempty"`

	order []string
}

// JSON renders the resolved config (stored with the run).
func (c *Config) JSON() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Stage returns the settings for a stage name (nil if it is not in the order).
func (c *Config) Stage(name string) *StageSettings { return c.Stages[stage.Key(name)] }

// Order returns the stage names the config was built for.
func (c *Config) Order() []string { return c.order }

// MaxConfigBytes caps the config file size.
const MaxConfigBytes = 1 << 20

// New returns the defaults of a profile for the stages in order (the engine's
// fixed stage list). Stages that are not registered get an entry too (their
// run is recorded as skipped: not implemented).
func New(profile string, order []string) (*Config, error) {
	if !ValidProfile(profile) {
		return nil, fmt.Errorf("profile %q: unknown (use one of %s)", profile, strings.Join(Profiles, ", "))
	}
	c := &Config{Profile: profile, Stages: map[string]*StageSettings{}, Thresholds: stage.ThresholdDefaults(), order: order}
	for _, name := range order {
		ss := &StageSettings{Name: name, Enabled: true, Params: stage.Params{}}
		if s, ok := stage.Lookup(name); ok {
			ss.Timeout = s.DefaultTimeout()
			for _, p := range stage.ParamsOf(s) {
				ss.Params[p.Name] = p.DefaultFor(profile)
			}
		}
		c.Stages[stage.Key(name)] = ss
	}
	return c, nil
}

// Load builds the config: defaults for the profile, then the file (if path is
// not empty). profile "" means: the file's profile, else safe.
func Load(path, profile string, order []string) (*Config, error) {
	var doc *yaml.Node
	if path != "" {
		var err error
		doc, err = readDoc(path)
		if err != nil {
			return nil, err
		}
	}
	if profile == "" && doc != nil {
		if v := mapValue(doc, "profile"); v != nil {
			if !ValidProfile(v.Value) {
				return nil, perr(path, v, "profile", "unknown profile %q (use one of %s)", v.Value, strings.Join(Profiles, ", "))
			}
			profile = v.Value
		}
	}
	if profile == "" {
		profile = Safe
	}
	c, err := New(profile, order)
	if err != nil {
		if path != "" {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, err
	}
	if doc != nil {
		c.Source = path
		if err := c.apply(path, doc); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func readDoc(path string) (*yaml.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(b) > MaxConfigBytes {
		return nil, fmt.Errorf("%s: config larger than %d bytes", path, MaxConfigBytes)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s: config file is empty (delete it or write at least 'profile: safe')", path)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: the config must be a mapping with keys profile, stages, thresholds", path)
	}
	return doc.Content[0], nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

type posError struct {
	file      string
	line, col int
	key       string
	msg       string
}

func (e *posError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.file, e.line, e.col, e.key, e.msg)
}

func perr(file string, n *yaml.Node, key, format string, a ...any) error {
	return &posError{file: file, line: n.Line, col: n.Column, key: key, msg: fmt.Sprintf(format, a...)}
}

func scalar(file string, n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", perr(file, n, key, "must be a single value, not a list or mapping")
	}
	if n.Tag == "!!null" {
		return "", perr(file, n, key, "has no value (write a value or delete the key)")
	}
	return n.Value, nil
}

// pairs calls fn for each key/value of mapping m, refusing duplicate keys.
// key is the dotted config path of the pair (prefix + key).
func pairs(file string, m *yaml.Node, prefix string, fn func(k, v *yaml.Node, key string) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		if seen[k.Value] {
			return perr(file, k, key, "duplicate key")
		}
		seen[k.Value] = true
		if err := fn(k, v, key); err != nil {
			return err
		}
	}
	return nil
}

func (c *Config) apply(file string, root *yaml.Node) error {
	return pairs(file, root, "", func(k, v *yaml.Node, _ string) error {
		switch k.Value {
		case "profile":
			p, err := scalar(file, v, "profile")
			if err != nil {
				return err
			}
			if !ValidProfile(p) {
				return perr(file, v, "profile", "unknown profile %q (use one of %s)", p, strings.Join(Profiles, ", "))
			}
		case "stages":
			if err := c.applyStages(file, v); err != nil {
				return err
			}
		case "thresholds":
			if err := c.applyThresholds(file, v); err != nil {
				return err
			}
		default:
			return perr(file, k, k.Value, "unknown key (known: profile, stages, thresholds)")
		}
		return nil
	})
}

func (c *Config) applyStages(file string, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return perr(file, n, "stages", "must be a mapping of stage name to settings")
	}
	return pairs(file, n, "stages.", func(k, v *yaml.Node, key string) error {
		ss, ok := c.Stages[stage.Key(k.Value)]
		if !ok || k.Value != stage.Key(k.Value) {
			return perr(file, k, key, "unknown stage (known: %s)", strings.Join(c.stageKeys(), ", "))
		}
		if v.Kind != yaml.MappingNode {
			return perr(file, v, key, "must be a mapping (enabled, timeout, and the stage's parameters)")
		}
		params := map[string]stage.Param{}
		if s, ok := stage.Lookup(ss.Name); ok {
			for _, p := range stage.ParamsOf(s) {
				params[p.Name] = p
			}
		}
		return pairs(file, v, key+".", func(pk, pv *yaml.Node, pkey string) error {
			val, err := scalar(file, pv, pkey)
			if err != nil {
				return err
			}
			if err := ss.set(pk.Value, val, params); err != nil {
				var ue unknownKey
				if errors.As(err, &ue) {
					return perr(file, pk, pkey, "%v", err)
				}
				return perr(file, pv, pkey, "%v", err)
			}
			return nil
		})
	})
}

type unknownKey struct{ error }

func (ss *StageSettings) set(name, val string, params map[string]stage.Param) error {
	switch name {
	case "enabled":
		if err := stage.CheckValue(stage.KindBool, val); err != nil {
			return err
		}
		ss.Enabled, _ = strconv.ParseBool(val)
		return nil
	case "timeout":
		d, err := time.ParseDuration(val)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration (write e.g. 90s, 10m, 2h)", val)
		}
		ss.Timeout = d
		return nil
	}
	p, ok := params[name]
	if !ok {
		known := []string{"enabled", "timeout"}
		for n := range params {
			known = append(known, n)
		}
		sort.Strings(known[2:])
		return unknownKey{fmt.Errorf("unknown key (known: %s)", strings.Join(known, ", "))}
	}
	if err := stage.CheckValue(p.Kind, val); err != nil {
		return err
	}
	ss.Params[name] = val
	return nil
}

func (c *Config) applyThresholds(file string, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return perr(file, n, "thresholds", "must be a mapping of threshold name to value")
	}
	return pairs(file, n, "thresholds.", func(k, v *yaml.Node, key string) error {
		val, err := scalar(file, v, key)
		if err != nil {
			return err
		}
		if err := c.SetThreshold(k.Value, val); err != nil {
			return perr(file, k, key, "%v", err)
		}
		return nil
	})
}

// SetThreshold overrides one threshold after checking its name and value.
func (c *Config) SetThreshold(name, val string) error {
	t, ok := stage.LookupThreshold(name)
	if !ok {
		var names []string
		for _, t := range stage.Thresholds {
			names = append(names, t.Name)
		}
		return fmt.Errorf("unknown threshold (known: %s)", strings.Join(names, ", "))
	}
	if err := stage.CheckValue(t.Kind, val); err != nil {
		return err
	}
	c.Thresholds[name] = val
	return nil
}

func (c *Config) stageKeys() []string {
	var out []string
	for _, n := range c.order {
		out = append(out, stage.Key(n))
	}
	return out
}

// Flags are the command-line overrides generated from the registry:
// --stage.<stage>.<param>, --stage.<stage>.timeout, --stage.<stage>.enabled,
// --stage.skip=a,b and --threshold.<name>.
type Flags struct {
	set  map[string]*string
	skip *string
}

// RegisterFlags declares the generated flags on fs for the stages in order.
func RegisterFlags(fs *flag.FlagSet, order []string) *Flags {
	f := &Flags{set: map[string]*string{}}
	for _, name := range order {
		key := stage.Key(name)
		f.set["stage."+key+".timeout"] = fs.String("stage."+key+".timeout", "", fmt.Sprintf("[%s] timeout of one attempt (default: the stage's)", name))
		f.set["stage."+key+".enabled"] = fs.String("stage."+key+".enabled", "", fmt.Sprintf("[%s] run the stage (true/false)", name))
		if s, ok := stage.Lookup(name); ok {
			for _, p := range stage.ParamsOf(s) {
				def := p.Default
				var byp []string
				for _, pr := range Profiles {
					if v, ok := p.ByProfile[pr]; ok {
						byp = append(byp, pr+"="+v)
					}
				}
				help := fmt.Sprintf("[%s] %s (%s; default %s", name, p.Help, p.Kind, def)
				if len(byp) > 0 {
					help += "; " + strings.Join(byp, ", ")
				}
				help += ")"
				f.set["stage."+key+"."+p.Name] = fs.String("stage."+key+"."+p.Name, "", help)
			}
		}
	}
	f.skip = fs.String("stage.skip", "", "comma-separated stages not to run (recorded as skipped: disabled)")
	for _, t := range stage.Thresholds {
		f.set["threshold."+t.Name] = fs.String("threshold."+t.Name, "", fmt.Sprintf("[threshold] %s (%s, default %s)", t.Help, t.Unit, t.Default))
	}
	return f
}

// Apply writes the flags that were given onto c.
func (f *Flags) Apply(c *Config) error {
	if f == nil {
		return nil
	}
	keys := make([]string, 0, len(f.set))
	for k := range f.set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := *f.set[k]
		if v == "" {
			continue
		}
		if name, ok := strings.CutPrefix(k, "threshold."); ok {
			if err := c.SetThreshold(name, v); err != nil {
				return fmt.Errorf("--%s: %w", k, err)
			}
			continue
		}
		rest := strings.TrimPrefix(k, "stage.")
		skey, param, _ := strings.Cut(rest, ".")
		ss := c.Stages[skey]
		if ss == nil {
			return fmt.Errorf("--%s: unknown stage", k)
		}
		params := map[string]stage.Param{}
		if s, ok := stage.Lookup(ss.Name); ok {
			for _, p := range stage.ParamsOf(s) {
				params[p.Name] = p
			}
		}
		if err := ss.set(param, v, params); err != nil {
			return fmt.Errorf("--%s: %w", k, err)
		}
	}
	if *f.skip != "" {
		for _, s := range strings.Split(*f.skip, ",") {
			s = strings.TrimSpace(s)
			ss := c.Stages[stage.Key(s)]
			if ss == nil {
				return fmt.Errorf("--stage.skip: unknown stage %q (known: %s)", s, strings.Join(c.stageKeys(), ", "))
			}
			ss.Enabled = false
		}
	}
	return nil
}
