package api

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzDecodeOrder: no input panics; every error is a 4xx FieldError; every
// accepted order satisfies the documented rules.
func FuzzDecodeOrder(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/orders/*.json")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"contactId":"c1","number":"+15551230000"}`))
	f.Add([]byte(`{"contactId":"c1","number":"+15551230000","ringLimit":1e400}`))
	f.Add([]byte(`{"contactId":"c1","number":"+1","metadata":{"":""}}`))
	f.Add([]byte(`{"contactId":"\u0000","number":"\ud800"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, o, err := DecodeOrder(body)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Status < 400 || fe.Status > 499 || fe.Message == "" || (strings.HasPrefix(fe.Message, "unknown field") && fe.Field == "") {
				t.Fatalf("error %#v is not a 4xx FieldError", err)
			}
			return
		}
		if !validID(o.ContactID) || !ValidNumber(o.Number) || (o.CallerID != "" && !ValidNumber(o.CallerID)) {
			t.Fatalf("accepted invalid ids: %+v", o)
		}
		if o.RingLimit < MinRingLimit*time.Second || o.RingLimit > MaxRingLimit*time.Second || o.RingLimit%time.Second != 0 {
			t.Fatalf("accepted ring limit %v", o.RingLimit)
		}
		if len(o.Metadata) > MaxMetadataKeys || o.ContactID != req.ContactID {
			t.Fatalf("order %+v from request %+v", o, req)
		}
		if (o.Flow == "bot") != (o.BotURL != "") || (o.Agent != "" && o.Flow != "agent") ||
			(o.VoicemailPrompt != "" && o.OnMachine != "voicemail") {
			t.Fatalf("accepted inconsistent flow: %+v", o)
		}
		if o.CPA != nil && (o.CPA.MaxTimeAnalysis < o.CPA.AnalysisPeriod || o.CPA.MinSilencePeriod < 100) {
			t.Fatalf("accepted CPA params %+v", *o.CPA)
		}
		// The echo of an accepted order validates to the same order.
		echo := requestFromOrder(o)
		o2, ferr := echo.Validate()
		if ferr != nil || o2.RingLimit != o.RingLimit || o2.Number != o.Number {
			t.Fatalf("echo of %+v does not validate: %v", o, ferr)
		}
	})
}
