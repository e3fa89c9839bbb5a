package call

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports/portstest"
)

// testBot is a real WebSocket server on loopback speaking the Twilio Media
// Streams convention: it records what it receives, answers the start with
// a 1 kHz tone (or an escalate), and stops after stopAfter media frames.
type testBot struct {
	srv       *httptest.Server
	escalate  bool
	stopAfter int

	mu      sync.Mutex
	events  []string
	start   botMsg
	inbound []int16
	done    chan struct{}
}

func newTestBot(t *testing.T, escalate bool, stopAfter int) *testBot {
	b := &testBot{escalate: escalate, stopAfter: stopAfter, done: make(chan struct{})}
	b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *testBot) url() string { return "ws" + strings.TrimPrefix(b.srv.URL, "http") + "/stream" }

func (b *testBot) serve(w http.ResponseWriter, r *http.Request) {
	defer close(b.done)
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	media := 0
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return
		}
		var m botMsg
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		b.mu.Lock()
		b.events = append(b.events, m.Event)
		b.mu.Unlock()
		switch m.Event {
		case "start":
			b.mu.Lock()
			b.start = m
			b.mu.Unlock()
			if b.escalate {
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"event":"escalate"}`))
				continue
			}
			// 1 s of 1 kHz, 20 ms per media message.
			for i := 0; i < 50; i++ {
				pcm := make([]int16, 160)
				for j := range pcm {
					pcm[j] = int16(6000 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000))
				}
				ulaw := make([]byte, 160)
				_, _ = mediaEncode(ulaw, pcm)
				msg, _ := json.Marshal(botMsg{Event: "media", StreamSID: m.StreamSID, Media: &botMedia{Payload: base64.StdEncoding.EncodeToString(ulaw)}})
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					return
				}
			}
		case "media":
			raw, err := base64.StdEncoding.DecodeString(m.Media.Payload)
			if err != nil || len(raw) != 160 {
				return
			}
			pcm := make([]int16, 160)
			_, _ = mediaDecode(pcm, raw)
			b.mu.Lock()
			b.inbound = append(b.inbound, pcm...)
			b.mu.Unlock()
			media++
			if b.stopAfter > 0 && media == b.stopAfter {
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"event":"stop"}`))
			}
		case "stop":
			return
		}
	}
}

func mediaEncode(dst []byte, pcm []int16) (int, error) { return media.EncodeTo(media.PCMU, dst, pcm) }
func mediaDecode(dst []int16, b []byte) (int, error)   { return media.DecodeTo(media.PCMU, dst, b) }

// A live answer streams to the bot both ways: the bot hears the caller's
// 700 Hz voice, the caller hears the bot's 1 kHz tone; the bot's stop ends
// the call, streamed_to_bot.
func TestBotStreamBothWays(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() { checkGoroutines(t, before) })
	cust := portstest.StartBaresip(t, "cust1", 700)
	bot := newTestBot(t, false, 150) // stop after 3 s of caller audio
	r := newRig(t, rigOpts{trunk: strings.TrimPrefix(cust.URI, "sip:cust1@")})
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "cust1", Flow: FlowBot, BotURL: bot.url(),
		CPA: &OrderCPA{Enabled: false}, Metadata: map[string]string{"lang": "en"}}, "a1"); err != nil {
		t.Fatal(err)
	}
	res := r.result(t, 30*time.Second)
	if res.Result != LiveVoice || res.Disposition != StreamedToBot || res.Bot == nil {
		t.Fatalf("result %s disposition %q bot %+v cause %q, want LIVE_VOICE streamed_to_bot", res.Result, res.Disposition, res.Bot, res.Cause)
	}
	if res.Bot.FramesToBot < 150 || res.Bot.FramesFromBot != 50 || res.Bot.Error != "" {
		t.Errorf("bot stats %+v, want >= 150 frames to the bot, 50 from it, no error", res.Bot)
	}
	<-bot.done
	bot.mu.Lock()
	events, start, inbound := strings.Join(bot.events, ","), bot.start, append([]int16(nil), bot.inbound...)
	bot.mu.Unlock()
	if !strings.HasPrefix(events, "connected,start,media") {
		t.Errorf("bot events %s, want connected,start,media...", events)
	}
	if start.Start == nil || start.Start.MediaFormat.Encoding != "audio/x-mulaw" || start.Start.CustomParameters["lang"] != "en" || start.StreamSID == "" {
		t.Errorf("start %+v, want mu-law format and the contact metadata", start.Start)
	}
	if i := FirstAudible(inbound, 300); i < 0 || ToneShare(inbound[i+1600:i+8000], 700) < 0.6 {
		t.Errorf("bot did not hear the caller's 700 Hz (first audible %d of %d samples)", i, len(inbound))
	}
	heard := cust.Heard(t, 5*time.Second)
	if j := FirstAudible(heard, 300); j < 0 || j+4000 > len(heard) || ToneShare(heard[j+800:j+4000], 1000) < 0.6 {
		t.Errorf("caller did not hear the bot's 1 kHz tone (first audible %d of %d samples)", j, len(heard))
	}
}

// The bot escalates to a live agent: the call is bridged to the baresip
// agent and its IVR port (the only one) is free at once for the next call.
func TestBotEscalationFreesPort(t *testing.T) {
	car := StartCarrier(t, nil)
	agent := portstest.StartBaresip(t, "agent1", 1000)
	bot := newTestBot(t, true, 0)
	r := newRig(t, rigOpts{trunk: car.Addr().String(), cfg: func(c *Config) { c.MaxCalls = 1 }})
	if _, err := r.m.RegisterAgent(AgentSpec{ID: "agent1", SIPURI: agent.URI}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.AgentReady("agent1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentAvailable, 10*time.Second)
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k1", Number: "human-1", Flow: FlowBot, BotURL: bot.url()}, "a1"); err != nil {
		t.Fatal(err)
	}
	waitAgent(t, r.m, "agent1", AgentTalking, 20*time.Second)
	// One port: this call can only run because the escalation freed it.
	if err := r.m.Dial(Order{CampaignID: "c1", ContactID: "k2", Number: "busy-2"}, "a2"); err != nil {
		t.Fatal(err)
	}
	first := r.result(t, 30*time.Second)
	if first.AttemptID != "a2" || first.Result != Busy {
		t.Fatalf("first result %s %s, want a2 BUSY while a1 is still with the agent", first.AttemptID, first.Result)
	}
	second := r.result(t, 30*time.Second)
	if second.AttemptID != "a1" || second.Result != LiveVoice || second.Disposition != Bridged || second.Agent != "agent1" ||
		second.Bot == nil || !second.Bot.Escalated {
		t.Fatalf("a1: %s %q agent %q bot %+v, want LIVE_VOICE bridged agent1 after escalation", second.Result, second.Disposition, second.Agent, second.Bot)
	}
}

func FuzzParseBotMessage(f *testing.F) {
	for _, s := range []string{`{"event":"media","media":{"payload":"//79/Q=="}}`, `{"event":"clear"}`, `{"event":"dtmf","dtmf":{"digit":"5"}}`,
		`{"event":"escalate"}`, `{"event":"stop"}`, `{"event":"media"}`, `{"event":"media","media":{"payload":"***"}}`, `[]`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, pcm, err := parseBotMessage(data)
		if err == nil && msg.Event == "media" && len(pcm) == 0 {
			t.Fatalf("media message %q accepted without audio", data)
		}
	})
}
