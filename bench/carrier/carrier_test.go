package carrier

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dialedge/dialedge/sip/sdp"
)

// TestPersonas dials each persona (forced by the number) with a sipgo UAC
// and checks the SIP and the audio a dialer would see.
func TestPersonas(t *testing.T) {
	c := startCarrier(t, nil)
	p := newPhone(t)

	t.Run("human", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "human.hello_en-1001", dialOpts{})
		if r.err != nil {
			t.Fatalf("human: %v (codes %v)", r.err, r.codes)
		}
		time.Sleep(1800 * time.Millisecond)
		if err := r.dlg.Bye(ctx); err != nil {
			t.Fatalf("bye: %v", err)
		}
		codes, _, answer := r.snapshot()
		if !slices.Contains(codes, 180) || !slices.Contains(codes, 183) || codes[len(codes)-1] != 200 {
			t.Errorf("codes %v, want 180, 183 then 200", codes)
		}
		fs := frames(answer)
		if len(fs) < 60 {
			t.Fatalf("%d frames after answer, want >= 60", len(fs))
		}
		v, _ := testLib(t).Variant("human", "hello_en")
		endSpeech := int((v.SpeechEnd + 200*time.Millisecond) / (20 * time.Millisecond))
		loud := 0
		for _, f := range fs[:min(endSpeech, len(fs))] {
			if meanSquare(f) > loudMS {
				loud++
			}
		}
		if loud < 10 {
			t.Errorf("%d loud frames during hello, want >= 10", loud)
		}
		for i, f := range fs[endSpeech:] {
			if ms := meanSquare(f); ms > quietMS {
				t.Fatalf("frame %d after the hello has mean square %.0f, want silence (< %d)", endSpeech+i, ms, quietMS)
			}
		}
		rec := record(t, c, r.callID)
		if !rec.Answered || rec.FinalCode != 200 || rec.EndedBy != EndedByRemote || rec.Persona != "human" || rec.Variant != "hello_en" {
			t.Errorf("record %+v", rec)
		}
		if rec.PacketsOut < 50 || rec.PacketsIn < 20 {
			t.Errorf("record packets in %d out %d, want RTP both ways", rec.PacketsIn, rec.PacketsOut)
		}
	})

	t.Run("human_hangs_up_after_hold", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "human.0-1002", dialOpts{tcp: true})
		if r.err != nil {
			t.Fatalf("human over tcp: %v", r.err)
		}
		select {
		case <-r.dlg.Context().Done():
		case <-ctx.Done():
			t.Fatal("the human never hung up")
		}
		rec := record(t, c, r.callID)
		if rec.EndedBy != EndedByLocal || rec.Transport != "TCP" || rec.Variant != "hello_en" {
			t.Errorf("record %+v, want ended by local over TCP, variant index 0", rec)
		}
	})

	t.Run("machine", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "machine.recorded_beep_en-1003", dialOpts{})
		if r.err != nil {
			t.Fatalf("machine: %v", r.err)
		}
		// Leave a "message" while it records.
		drop, _ := testLib(t).Variant("human", "greeting_sarah")
		v, _ := testLib(t).Variant("machine", "recorded_beep_en")
		time.AfterFunc(v.BeepAt+v.BeepLen, func() { r.sess.Play(promptOf(drop.Answer)) })
		select {
		case <-r.dlg.Context().Done():
		case <-ctx.Done():
			t.Fatal("the machine never hung up")
		}
		_, _, answer := r.snapshot()
		fs := frames(answer)
		speech, beepStart, beepLen := 0, -1, 0
		run := 0
		for i, f := range fs {
			ms := meanSquare(f)
			_, s := peak(f)
			tonal := ms > loudMS && s > 0.8
			if tonal {
				run++
				if run == 10 && beepStart < 0 && speech > 50 {
					beepStart = i - 9
				}
			} else {
				if beepStart >= 0 && beepLen == 0 && run > 0 {
					beepLen = run
				}
				run = 0
			}
			if ms > loudMS && !tonal && beepStart < 0 {
				speech++
			}
		}
		if speech < 50 {
			t.Errorf("%d speech frames in the greeting, want >= 50", speech)
		}
		if beepStart < 0 {
			t.Fatalf("no beep (>= 200 ms pure tone) after the greeting")
		}
		at := time.Duration(beepStart) * 20 * time.Millisecond
		if d := at - v.BeepAt; d < -300*time.Millisecond || d > 300*time.Millisecond {
			t.Errorf("beep at %v, variant says %v", at, v.BeepAt)
		}
		rec := record(t, c, r.callID)
		if rec.EndedBy != EndedByLocal || !rec.Answered {
			t.Errorf("record %+v, want answered and ended by the machine", rec)
		}
		if rec.VoiceFramesIn < 10 {
			t.Errorf("carrier heard %d voiced frames of our message, want >= 10", rec.VoiceFramesIn)
		}
		if rec.BeepEnd != v.BeepAt+v.BeepLen || rec.FirstVoiceIn.Sub(rec.AnsweredAt) < rec.BeepEnd {
			t.Errorf("first voice at %v after answer, beep ends %v: want our message after the beep",
				rec.FirstVoiceIn.Sub(rec.AnsweredAt), rec.BeepEnd)
		}
	})

	t.Run("fax", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "fax.ced-1004", dialOpts{})
		if r.err != nil {
			t.Fatalf("fax: %v", r.err)
		}
		select {
		case <-r.dlg.Context().Done():
		case <-ctx.Done():
			t.Fatal("the fax never hung up")
		}
		_, _, answer := r.snapshot()
		ced := 0
		for _, f := range frames(answer) {
			if meanSquare(f) > loudMS && share(f, 2100) > 0.8 {
				ced++
			}
		}
		if ced < 100 {
			t.Errorf("%d frames of 2100 Hz, want >= 100 (2 s of CED)", ced)
		}
	})

	t.Run("busy", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "busy.plain-1005", dialOpts{})
		if code := finalCode(r.err); code != 486 {
			t.Fatalf("busy: %v, want 486", r.err)
		}
		rec := record(t, c, r.callID)
		if rec.FinalCode != 486 || rec.EndedBy != EndedByRejected || rec.PacketsOut != 0 {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("busy_inband", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "busy.inband-1006", dialOpts{})
		if code := finalCode(r.err); code != 486 {
			t.Fatalf("busy: %v, want 486", r.err)
		}
		codes, early, _ := r.snapshot()
		if !slices.Contains(codes, 183) {
			t.Errorf("codes %v, want a 183", codes)
		}
		tone := 0
		for _, f := range frames(early) {
			if share(f, 480)+share(f, 620) > 0.8 {
				tone++
			}
		}
		if tone < 40 {
			t.Errorf("%d busy-tone frames, want >= 40", tone)
		}
	})

	t.Run("noanswer_cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		r := p.dial(t, ctx, c, "noanswer.ring_us-1007", dialOpts{})
		if r.err == nil {
			t.Fatal("noanswer answered")
		}
		codes, early, answer := r.snapshot()
		if slices.Contains(codes, 200) || len(answer) != 0 {
			t.Errorf("codes %v and %d samples after answer: want no 200", codes, len(answer))
		}
		if !slices.Contains(codes, 180) || !slices.Contains(codes, 183) {
			t.Errorf("codes %v, want 180 and 183", codes)
		}
		ring := 0
		for _, f := range frames(early) {
			if share(f, 440)+share(f, 480) > 0.8 {
				ring++
			}
		}
		if ring < 25 {
			t.Errorf("%d ringback frames, want >= 25", ring)
		}
		rec := record(t, c, r.callID)
		if rec.FinalCode != 487 || rec.EndedBy != EndedByCancel || rec.Answered {
			t.Errorf("record %+v, want 487 by cancel", rec)
		}
	})

	t.Run("noanswer_timeout", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "noanswer-1008", dialOpts{})
		if code := finalCode(r.err); code != 480 {
			t.Fatalf("noanswer after ring_timeout: %v, want 480", r.err)
		}
	})

	t.Run("sit", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "sit.ic-1009", dialOpts{})
		if code := finalCode(r.err); code != 404 {
			t.Fatalf("sit: %v, want 404", r.err)
		}
		codes, early, _ := r.snapshot()
		if !slices.Contains(codes, 183) {
			t.Errorf("codes %v, want 183", codes)
		}
		seen := map[float64]int{}
		speech := 0
		for _, f := range frames(early) {
			for _, hz := range []float64{913.8, 1370.6, 1776.7} {
				if meanSquare(f) > loudMS && share(f, hz) > 0.7 {
					seen[hz]++
				}
			}
			if _, s := peak(f); meanSquare(f) > loudMS && s < 0.5 {
				speech++
			}
		}
		for _, hz := range []float64{913.8, 1370.6, 1776.7} {
			if seen[hz] < 8 {
				t.Errorf("SIT segment %g Hz in %d frames, want >= 8", hz, seen[hz])
			}
		}
		if speech < 50 {
			t.Errorf("%d announcement frames, want >= 50", speech)
		}
		rec := record(t, c, r.callID)
		if rec.SIT != "IC" || rec.FinalCode != 404 {
			t.Errorf("record %+v", rec)
		}
	})

	t.Run("no_common_codec", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "human-1010", dialOpts{codecs: []sdp.Codec{{Name: "G729", PayloadType: 18, ClockRate: 8000}}})
		if code := finalCode(r.err); code != 488 {
			t.Fatalf("G.729-only offer: %v, want 488", r.err)
		}
	})

	t.Run("pcma", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r := p.dial(t, ctx, c, "human-1011", dialOpts{codecs: []sdp.Codec{sdp.PCMA}})
		if r.err != nil {
			t.Fatal(r.err)
		}
		time.Sleep(1200 * time.Millisecond)
		_ = r.dlg.Bye(ctx)
		_, _, answer := r.snapshot()
		loud := 0
		for _, f := range frames(answer) {
			if meanSquare(f) > loudMS {
				loud++
			}
		}
		if rec := record(t, c, r.callID); rec.Codec != "PCMA" || loud < 5 {
			t.Errorf("codec %s, %d loud frames: want PCMA audio", rec.Codec, loud)
		}
	})

}
