package rtpengine

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
)

// ErrBencode wraps every bencode decoding error.
var ErrBencode = errors.New("bencode")

// maxDepth bounds nesting when decoding.
const maxDepth = 32

// Encode appends the bencoding of v to dst. Supported: string, []byte,
// int, int64, uint16, bool (as "yes"/"no" strings, the ng convention),
// []any, []string and map[string]any (keys sorted, as bencode requires).
func Encode(dst []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		dst = strconv.AppendInt(dst, int64(len(x)), 10)
		dst = append(dst, ':')
		return append(dst, x...), nil
	case []byte:
		dst = strconv.AppendInt(dst, int64(len(x)), 10)
		dst = append(dst, ':')
		return append(dst, x...), nil
	case int:
		return encInt(dst, int64(x)), nil
	case int64:
		return encInt(dst, x), nil
	case uint16:
		return encInt(dst, int64(x)), nil
	case bool:
		if x {
			return Encode(dst, "yes")
		}
		return Encode(dst, "no")
	case []string:
		dst = append(dst, 'l')
		for _, s := range x {
			dst, _ = Encode(dst, s)
		}
		return append(dst, 'e'), nil
	case []any:
		dst = append(dst, 'l')
		for _, e := range x {
			var err error
			if dst, err = Encode(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, 'e'), nil
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, 'd')
		for _, k := range keys {
			dst, _ = Encode(dst, k)
			var err error
			if dst, err = Encode(dst, x[k]); err != nil {
				return dst, err
			}
		}
		return append(dst, 'e'), nil
	}
	return dst, fmt.Errorf("bencode: cannot encode %T; allowed string, []byte, int, bool, []any, []string, map[string]any", v)
}

func encInt(dst []byte, v int64) []byte {
	dst = append(dst, 'i')
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, 'e')
}

// Decode decodes one bencoded value from b and returns it with the rest
// of b. Byte strings decode to string, integers to int64, lists to []any,
// dictionaries to map[string]any.
func Decode(b []byte) (any, []byte, error) {
	return decode(b, 0)
}

func decode(b []byte, depth int) (any, []byte, error) {
	if depth > maxDepth {
		return nil, b, fmt.Errorf("%w: nested deeper than %d", ErrBencode, maxDepth)
	}
	if len(b) == 0 {
		return nil, b, fmt.Errorf("%w: unexpected end of input", ErrBencode)
	}
	switch c := b[0]; {
	case c == 'i':
		end := indexByte(b, 'e')
		if end < 0 {
			return nil, b, fmt.Errorf("%w: integer without 'e'", ErrBencode)
		}
		n, err := strconv.ParseInt(string(b[1:end]), 10, 64)
		if err != nil {
			return nil, b, fmt.Errorf("%w: integer %q", ErrBencode, b[1:end])
		}
		return n, b[end+1:], nil
	case c >= '0' && c <= '9':
		colon := indexByte(b, ':')
		if colon < 0 || colon > 10 {
			return nil, b, fmt.Errorf("%w: string length without ':'", ErrBencode)
		}
		n, err := strconv.Atoi(string(b[:colon]))
		if err != nil || n < 0 || n > len(b)-colon-1 {
			return nil, b, fmt.Errorf("%w: string length %q beyond the input", ErrBencode, b[:colon])
		}
		return string(b[colon+1 : colon+1+n]), b[colon+1+n:], nil
	case c == 'l':
		rest := b[1:]
		list := []any{}
		for {
			if len(rest) == 0 {
				return nil, b, fmt.Errorf("%w: list without 'e'", ErrBencode)
			}
			if rest[0] == 'e' {
				return list, rest[1:], nil
			}
			v, r, err := decode(rest, depth+1)
			if err != nil {
				return nil, b, err
			}
			list, rest = append(list, v), r
		}
	case c == 'd':
		rest := b[1:]
		dict := map[string]any{}
		for {
			if len(rest) == 0 {
				return nil, b, fmt.Errorf("%w: dictionary without 'e'", ErrBencode)
			}
			if rest[0] == 'e' {
				return dict, rest[1:], nil
			}
			k, r, err := decode(rest, depth+1)
			if err != nil {
				return nil, b, err
			}
			key, ok := k.(string)
			if !ok {
				return nil, b, fmt.Errorf("%w: dictionary key is %T, want a string", ErrBencode, k)
			}
			v, r, err := decode(r, depth+1)
			if err != nil {
				return nil, b, err
			}
			dict[key], rest = v, r
		}
	default:
		return nil, b, fmt.Errorf("%w: unexpected byte %q", ErrBencode, c)
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
