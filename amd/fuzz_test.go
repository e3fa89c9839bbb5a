package amd

import (
	"encoding/binary"
	"testing"
)

// FuzzProcess feeds arbitrary audio (and lost-frame marks) to every mode
// and phase: nothing panics and the verdict invariants hold.
func FuzzProcess(f *testing.F) {
	f.Add([]byte{0})
	f.Add(make([]byte, 2*FrameSamples*30))
	seed := make([]byte, 0, 2*8000)
	for _, v := range cat(tone(300, -10, 480, 620), silence(200), dtmfTone(60, 697, 1209, -10, -10), tone(200, -3, 1000)) {
		seed = binary.LittleEndian.AppendUint16(seed, uint16(v))
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		ctl := data[0]
		data = data[1:]
		cfg := DefaultConfig()
		if ctl&1 != 0 {
			cfg.Mode = ModeAsterisk
		}
		phase := PhaseAnswer
		if ctl&2 != 0 {
			phase = PhaseEarly
		}
		cfg.MaxTimeAnalysis = 1000 + int(ctl>>4)*500
		cfg.AnalysisPeriod = min(cfg.AnalysisPeriod, cfg.MaxTimeAnalysis)
		d, err := New(cfg, phase)
		if err != nil {
			t.Fatal(err)
		}
		frame := make([]int16, FrameSamples)
		var was Verdict
		wasFinal := false
		for i := 0; i*2*FrameSamples < len(data) || i < 3; i++ {
			chunk := data[min(len(data), i*2*FrameSamples):min(len(data), (i+1)*2*FrameSamples)]
			for j := range frame {
				frame[j] = 0
				if 2*j+1 < len(chunk) {
					frame[j] = int16(binary.LittleEndian.Uint16(chunk[2*j:]))
				}
			}
			var ev Event
			if len(chunk) > 0 && chunk[0] == 0x5a && ctl&4 != 0 {
				ev = d.Lost()
			} else {
				ev = d.Process(frame)
			}
			pos := d.PositionMS()
			for ; ev.Kind != EventNone; ev = d.Next() {
				if ev.AtMS > pos || ev.AtMS < -frameMS {
					t.Fatalf("event %v at %d ms, position %d", ev.Kind, ev.AtMS, pos)
				}
				if ev.Kind == EventDTMF && ev.Digit == 0 {
					t.Fatal("DTMF event without digit")
				}
			}
			v, final := d.Verdict()
			if wasFinal {
				if !final || v.Result != was.Result || v.DecisionMS != was.DecisionMS || v.SIT != was.SIT {
					t.Fatalf("final verdict changed: %+v -> %+v", was, v)
				}
				if was.BeepMS >= 0 && v.BeepMS != was.BeepMS {
					t.Fatalf("beep moved: %d -> %d", was.BeepMS, v.BeepMS)
				}
			}
			if final {
				if v.Result == ResultNone || v.Result > ResultUnknown || v.DecisionMS > pos || v.DecisionMS <= 0 {
					t.Fatalf("bad verdict %+v at %d", v, pos)
				}
				if v.BeepMS > pos || (v.BeepMS >= 0 && v.Result != ResultMachine) {
					t.Fatalf("bad beep %+v at %d", v, pos)
				}
				if (v.SIT != SITNone) != (v.Result == ResultSIT) {
					t.Fatalf("SIT type %s with result %s", v.SIT, v.Result)
				}
			}
			was, wasFinal = v, final
		}
		v := d.End()
		if v.Result == ResultNone {
			t.Fatal("End left no verdict")
		}
	})
}
