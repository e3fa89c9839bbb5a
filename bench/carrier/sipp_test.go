package carrier

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dialedge/dialedge/ports/portstest"
)

// sipp runs one call of scenario (a file in testdata, with replacements
// applied) against the carrier and returns sipp's exit error and output.
// Tests fail, never skip, when sipp is missing.
func sipp(t *testing.T, c *Carrier, scenario, service string, replace map[string]string, extra ...string) (error, string) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", scenario))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range replace {
		src = bytes.ReplaceAll(src, []byte(k), []byte(v))
	}
	dir := t.TempDir()
	sf := filepath.Join(dir, scenario)
	if err := os.WriteFile(sf, src, 0o644); err != nil {
		t.Fatal(err)
	}
	sp := portstest.StartSIPp(t, portstest.SIPpOptions{Dir: dir, Timeout: 30 * time.Second,
		Args: func(p portstest.SIPpPorts) []string {
			args := append([]string{"-sf", sf, "-m", "1", "-l", "1", "-i", "127.0.0.1",
				"-p", fmt.Sprint(p.SIP), "-mp", fmt.Sprint(p.Media), "-cp", fmt.Sprint(p.Control),
				"-s", service, "-timeout", "20s", "-timeout_error", "-nostdin", "-max_recv_loops", "1000"}, extra...)
			return append(args, c.Addr().String())
		}})
	err, _ = sp.Wait(30 * time.Second) // StartSIPp's timeout kills it by then
	return err, sp.Output()
}

func TestSIPp(t *testing.T) {
	c := startCarrier(t, func(cfg *Config) { cfg.Codecs = []string{"PCMU"} })
	for _, tc := range []struct {
		name, scenario, service string
		replace                 map[string]string
		extra                   []string
		want                    func(CallRecord) bool
	}{
		{"busy_486", "uac_final.xml", "busy-5551000", map[string]string{"FINAL_CODE": "486"},
			[]string{"-key", "codec", "0", "-key", "codecname", "PCMU"},
			func(r CallRecord) bool { return r.Persona == "busy" && r.FinalCode == 486 }},
		{"sit_404", "uac_final.xml", "sit.vc-5551001", map[string]string{"FINAL_CODE": "404"},
			[]string{"-key", "codec", "0", "-key", "codecname", "PCMU"},
			func(r CallRecord) bool { return r.SIT == "VC" && r.FinalCode == 404 && r.PacketsOut > 50 }},
		{"pcma_only_488", "uac_final.xml", "human-5551002", map[string]string{"FINAL_CODE": "488"},
			[]string{"-key", "codec", "8", "-key", "codecname", "PCMA"}, nil},
		{"human_bye", "uac_answer_bye.xml", "human-5551003", nil, nil,
			func(r CallRecord) bool { return r.Answered && r.EndedBy == EndedByRemote && r.PacketsOut > 40 }},
		{"human_bye_tcp", "uac_answer_bye.xml", "human-5551004", nil, []string{"-t", "t1"},
			func(r CallRecord) bool { return r.Answered && r.EndedBy == EndedByRemote && r.Transport == "TCP" }},
		{"noanswer_cancel", "uac_cancel.xml", "noanswer-5551005", nil, nil,
			func(r CallRecord) bool { return r.FinalCode == 487 && r.EndedBy == EndedByCancel && r.PacketsOut > 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err, out := sipp(t, c, tc.scenario, tc.service, tc.replace, tc.extra...)
			if err != nil {
				t.Fatalf("sipp: %v\n%s", err, tail(out, 40))
			}
			if tc.want == nil {
				return
			}
			num, _, _ := strings.Cut(tc.service, "@")
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				for _, r := range c.Calls() {
					if r.Number == num {
						if !tc.want(r) {
							t.Errorf("record %+v", r)
						}
						return
					}
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Errorf("no record for %s in %+v", num, c.Calls())
		})
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
