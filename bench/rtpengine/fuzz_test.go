package rtpengine

import "testing"

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"d6:result2:oke", "li1ei2ee", "4:spam", "i-3e", "d3:sdp5:v=0\r\ne", "l"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, rest, err := Decode(b)
		if err != nil {
			return
		}
		if len(rest) > len(b) {
			t.Fatal("rest longer than input")
		}
		// What decodes re-encodes, and decodes to the same thing.
		enc, err := Encode(nil, normalize(v))
		if err != nil {
			t.Fatalf("re-encode %#v: %v", v, err)
		}
		if _, _, err := Decode(enc); err != nil {
			t.Fatalf("decode of re-encoding %q: %v", enc, err)
		}
	})
}

func normalize(v any) any {
	switch x := v.(type) {
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normalize(x[k])
		}
	}
	return v
}

func FuzzAudioAddr(f *testing.F) {
	for _, s := range []string{"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n", "m=audio 1 RTP/AVP 0\nc=IN IP6 ::1\n", "c=IN\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = AudioAddr(s)
	})
}
