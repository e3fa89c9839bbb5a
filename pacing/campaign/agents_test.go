package campaign

import (
	"testing"
	"time"

	"github.com/dialedge/dialedge/pacing/engine"
	"github.com/dialedge/dialedge/ports/call"
)

// TestApplySpec: the campaign's flow, prompts and CPA parameters reach the
// order (they were validated and stored, and now also applied).
func TestApplySpec(t *testing.T) {
	s := DefaultSpec()
	s.ID, s.CampaignType = "c", engine.Predictive
	s.MessagePrompt, s.VoicemailPrompt, s.SafeHarbourPrompt = "m.wav", "vm.wav", "sh.wav"
	s.CPA.AMDEnabled, s.CPA.TerminatingToneDetect, s.CPA.MaxTimeAnalysis = false, false, 4000
	s.NoAnswerRingLimit = 20
	var o call.Order
	applySpec(s, &o)
	if o.Flow != call.FlowAgent || o.Prompt != "m.wav" || o.VoicemailPrompt != "vm.wav" || o.SafeHarbourPrompt != "sh.wav" ||
		o.OnMachine != call.OnMachineVoicemail || o.RingLimit != 20*time.Second {
		t.Errorf("agent campaign order %+v", o)
	}
	if o.CPA == nil || !o.CPA.Enabled || o.CPA.AMD || o.CPA.TerminatingTone || o.CPA.MaxTimeAnalysis != 4000 {
		t.Errorf("cpa %+v", o.CPA)
	}
	s.CampaignType, s.BotURL, s.VoicemailPrompt = engine.ProgressiveIVR, "ws://127.0.0.1:9/bot", ""
	o = call.Order{}
	applySpec(s, &o)
	if o.Flow != call.FlowBot || o.BotURL != "ws://127.0.0.1:9/bot" || o.OnMachine != "" {
		t.Errorf("bot campaign order %+v", o)
	}
	s.BotURL = ""
	o = call.Order{}
	applySpec(s, &o)
	if o.Flow != call.FlowMessage {
		t.Errorf("IVR campaign flow %q", o.Flow)
	}
}

func TestBotURLValidation(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{`{"id":"b","campaignType":"progressive_ivr","botUrl":"http://x/bot"}`, "botUrl"},
		{`{"id":"b","campaignType":"progressive","botUrl":"ws://127.0.0.1/bot"}`, "botUrl"},
	} {
		_, err := DecodeSpec([]byte(tc.body), DefaultSpec())
		fe, ok := err.(*FieldError)
		if !ok || fe.Field != tc.field || fe.Allowed == "" {
			t.Errorf("%s: %v, want a FieldError on %s", tc.body, err, tc.field)
		}
	}
	if _, err := DecodeSpec([]byte(`{"id":"b","campaignType":"predictive_ivr","botUrl":"wss://bot.example/stream"}`), DefaultSpec()); err != nil {
		t.Error(err)
	}
}
