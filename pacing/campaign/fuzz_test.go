package campaign

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F, glob string) {
	f.Helper()
	paths, _ := filepath.Glob(glob)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeSpec: no input panics; every error is a *FieldError naming a
// field and what is allowed; every accepted spec validates again.
func FuzzDecodeSpec(f *testing.F) {
	addSeeds(f, "testdata/specs/*.json")
	f.Add([]byte(`{"id":"x","dialingRate":1e400}`))
	f.Add([]byte(`{"id":"x","validCampaignTimes":{"windows":[{"days":["mon"],"start":"24:00","end":"24:00"}]}}`))
	f.Add([]byte(`{"id":"x","callProgressAnalysisParams":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := DecodeSpec(body, DefaultSpec())
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Allowed == "" || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %#v is not a FieldError naming field and allowed", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted spec does not validate: %v", err)
		}
		if s.NoAnswerRingLimit < 15 {
			t.Fatalf("accepted ring limit %d", s.NoAnswerRingLimit)
		}
	})
}

// FuzzDecodeContacts: no input panics; errors are *FieldError; accepted
// contacts validate and stay within the batch limit.
func FuzzDecodeContacts(f *testing.F) {
	addSeeds(f, "testdata/contacts/*.json")
	f.Add([]byte(`{"contacts":[{"id":"a","number":"+1","notBefore":"x"}]}`))
	f.Add([]byte(`[{"id":"a","number":"123","metadata":{"k":"\u0000"}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := DecodeContacts(body, 50)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Allowed == "" {
				t.Fatalf("error %#v is not a FieldError naming field and allowed", err)
			}
			return
		}
		if len(list) == 0 || len(list) > 50 {
			t.Fatalf("%d contacts accepted", len(list))
		}
		for _, c := range list {
			if err := c.Validate(); err != nil {
				t.Fatalf("accepted contact %+v: %v", c, err)
			}
		}
	})
}
