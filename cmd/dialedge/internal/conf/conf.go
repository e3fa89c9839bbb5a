// Package conf loads plain config structs in the order DESIGN 3.1 fixes:
// YAML file, then DIALEDGE_… environment, then command-line settings. Keys
// are the structs' yaml tags, dotted for nesting ("sip.trunk.address"). An
// unknown key anywhere is an error that names it and lists the keys allowed
// at that level. It is not safe for concurrent use on the same destination.
package conf

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadYAML decodes data into dst (a pointer to a struct holding defaults),
// rejecting unknown keys with a message naming the key, its line and the
// allowed keys.
func LoadYAML(data []byte, dst any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: defaults
	}
	root := doc.Content[0]
	if err := checkKeys(root, reflect.TypeOf(dst).Elem(), ""); err != nil {
		return err
	}
	if err := root.Decode(dst); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

func checkKeys(n *yaml.Node, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("config: line %d: %s must be a mapping of keys (%s)", n.Line, orRoot(prefix), strings.Join(fieldKeys(t), ", "))
	}
	fields := fieldMap(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, ok := fields[k.Value]
		if !ok {
			return fmt.Errorf("config: line %d: unknown key %q; allowed keys under %s: %s",
				k.Line, join(prefix, k.Value), orRoot(prefix), strings.Join(fieldKeys(t), ", "))
		}
		if err := checkKeys(v, f.Type, join(prefix, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func tagName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

func fieldMap(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if n := tagName(f); n != "" {
			m[n] = f
		}
	}
	return m
}

func fieldKeys(t reflect.Type) []string {
	var ks []string
	for k := range fieldMap(t) {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Keys lists every settable dotted key of dst's type, sorted.
func Keys(dst any) []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(time.Time{}) {
			out = append(out, prefix)
			return
		}
		for _, k := range fieldKeys(t) {
			walk(fieldMap(t)[k].Type, join(prefix, k))
		}
	}
	walk(reflect.TypeOf(dst), "")
	return out
}

// EnvName is the environment variable for a dotted key:
// "sip.trunk.address" → DIALEDGE_SIP_TRUNK_ADDRESS.
func EnvName(prefix, key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return prefix + strings.ToUpper(r.Replace(key))
}

// ApplyEnv sets every key whose environment variable (prefix + key) is in
// environ. A variable with the prefix that matches no key is an error, so
// a typo never passes silently.
func ApplyEnv(environ []string, prefix string, dst any) error {
	byEnv := map[string]string{}
	for _, k := range Keys(dst) {
		byEnv[EnvName(prefix, k)] = k
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, prefix) {
			continue
		}
		key, known := byEnv[name]
		if !known {
			return fmt.Errorf("config: environment variable %s matches no config key; %s", name, suggest(name, byEnv))
		}
		if err := Set(dst, key, val); err != nil {
			return fmt.Errorf("%w (from %s)", err, name)
		}
	}
	return nil
}

func suggest(name string, byEnv map[string]string) string {
	var names []string
	for n := range byEnv {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 4
	for _, n := range names {
		if d := distance(name, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" {
		return "did you mean " + best + "?"
	}
	return "allowed: " + strings.Join(names, ", ")
}

// distance is the Levenshtein distance, for "did you mean" hints.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ErrUnknownKey is wrapped by Set for a key that does not exist.
var ErrUnknownKey = errors.New("unknown config key")

// Set assigns a value given as text to the dotted key in dst.
func Set(dst any, key, value string) error {
	v := reflect.ValueOf(dst).Elem()
	parts := strings.Split(key, ".")
	for i, p := range parts {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return fmt.Errorf("config: %w %q: %s is not a section", ErrUnknownKey, key, strings.Join(parts[:i], "."))
		}
		f, ok := fieldMap(v.Type())[p]
		if !ok {
			return fmt.Errorf("config: %w %q; allowed keys under %s: %s", ErrUnknownKey, key,
				orRoot(strings.Join(parts[:i], ".")), strings.Join(fieldKeys(v.Type()), ", "))
		}
		v = v.FieldByIndex(f.Index)
	}
	if err := setScalar(v, value); err != nil {
		return fmt.Errorf("config: key %s: %w", key, err)
	}
	return nil
}

func setScalar(v reflect.Value, s string) error {
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (examples: 500ms, 32s, 2m)", s)
		}
		v.SetInt(int64(d))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean (true or false)", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a non-negative integer", s)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	default:
		// Maps, slices and anything structured: parse the text as YAML.
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			return err
		}
		p := reflect.New(v.Type())
		if len(n.Content) > 0 {
			if err := n.Content[0].Decode(p.Interface()); err != nil {
				return err
			}
		}
		v.Set(p.Elem())
	}
	return nil
}

// SetAll applies "key=value" settings in order (from repeated --set flags).
func SetAll(dst any, settings []string) error {
	for _, kv := range settings {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("config: --set %q: want key=value, for example sip.trunk.address=127.0.0.1:5070", kv)
		}
		if err := Set(dst, strings.TrimSpace(k), val); err != nil {
			return err
		}
	}
	return nil
}

// Marshal renders dst as YAML (for `dialedge serve --print-config`).
func Marshal(dst any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(dst); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}
