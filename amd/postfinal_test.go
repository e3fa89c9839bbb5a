package amd

import "testing"

// A digit pressed after the final verdict is reported only with
// DTMFAfterVerdict; one pressed before it always is.
func TestDTMFAfterVerdict(t *testing.T) {
	digit := func() []int16 { return cat(dtmfTone(100, 770, 1336, -10, -10), silence(200)) } // '5'
	// "Hello?" then silence: a human verdict; then digit '5'.
	pcm := cat(silence(300), digit(), prompt(t, "hello-world.wav"), silence(1500), digit(), silence(500))
	for _, after := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.DTMFAfterVerdict = after
		d := newDet(t, cfg, PhaseAnswer)
		r := feed(t, d, pcm, 0, 1, false)
		if !r.final {
			t.Fatalf("after=%v: no final verdict (%+v)", after, r.verdict)
		}
		want := "5"
		if after {
			want = "55"
		}
		if got := r.digits(); got != want {
			t.Errorf("DTMFAfterVerdict=%v: digits %q, want %q (verdict %v at %d ms)", after, got, want, r.verdict.Result, r.verdict.DecisionMS)
		}
	}
}

// BenchmarkProcessListening is the answer phase after a machine verdict,
// while the detector still listens for the beep: most of a voicemail
// call's analysed frames. The call path runs it without DTMF.
func BenchmarkProcessListening(b *testing.B) {
	pcm := prompt(b, "vm-intro.wav")
	fr := frames(pcm)
	for _, after := range []bool{true, false} {
		name := "dtmf"
		if !after {
			name = "beep-only"
		}
		b.Run(name, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.DTMFAfterVerdict = after
			d := newDet(b, cfg, PhaseAnswer)
			start := func() {
				d.Reset(PhaseAnswer)
				d.decide(ResultMachine, "bench", SITNone)
			}
			start()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Process(fr[i%len(fr)])
				if i%len(fr) == len(fr)-1 {
					start()
				}
			}
		})
	}
}
