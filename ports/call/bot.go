package call

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dialedge/dialedge/media"
)

// BotConfig configures media streams to IVR bots (Order.Flow "bot").
//
// The stream follows the Twilio Media Streams convention: dialedge is the
// WebSocket client and sends text frames {"event":"connected"}, then
// {"event":"start", "streamSid", "start":{"callSid","tracks":["inbound"],
// "customParameters":{metadata}, "mediaFormat":{"encoding":"audio/x-mulaw",
// "sampleRate":8000,"channels":1}}}, one {"event":"media","media":{"track":
// "inbound","chunk","timestamp","payload": base64 µ-law}} per 20 ms of the
// caller's audio, {"event":"dtmf","dtmf":{"digit"}} per caller digit and
// {"event":"stop"} at the end. The bot sends {"event":"media","media":
// {"payload": base64 µ-law}} to speak (queued and played in order),
// {"event":"clear"} to cut what is queued, {"event":"dtmf","dtmf":{"digit"}}
// to send a digit to the caller, and two dialedge extensions:
// {"event":"escalate"} hands the caller to a live agent (and frees the IVR
// port), {"event":"stop"} (or closing the socket) ends the call.
type BotConfig struct {
	// ConnectTimeout bounds the WebSocket handshake. 100ms..30s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// QueueFrames buffers the caller's frames toward a slow bot; beyond it
	// frames are dropped and counted. 4..1000.
	QueueFrames int `yaml:"queue_frames"`
	// MaxMessageBytes caps one message from the bot. 1 KiB..1 MiB.
	MaxMessageBytes int64 `yaml:"max_message_bytes"`
	// MaxQueuedAudio caps the bot's audio waiting to be played. 1s..5m.
	MaxQueuedAudio time.Duration `yaml:"max_queued_audio"`
}

// DefaultBotConfig returns the defaults.
func DefaultBotConfig() BotConfig {
	return BotConfig{ConnectTimeout: 3 * time.Second, QueueFrames: 100, MaxMessageBytes: 64 << 10, MaxQueuedAudio: time.Minute}
}

// Validate names the first invalid field.
func (c BotConfig) Validate() error {
	switch {
	case c.ConnectTimeout < 100*time.Millisecond || c.ConnectTimeout > 30*time.Second:
		return fmt.Errorf("connect_timeout: %v out of range; allowed 100ms..30s", c.ConnectTimeout)
	case c.QueueFrames < 4 || c.QueueFrames > 1000:
		return fmt.Errorf("queue_frames: %d out of range; allowed 4..1000", c.QueueFrames)
	case c.MaxMessageBytes < 1024 || c.MaxMessageBytes > 1<<20:
		return fmt.Errorf("max_message_bytes: %d out of range; allowed 1024..1048576", c.MaxMessageBytes)
	case c.MaxQueuedAudio < time.Second || c.MaxQueuedAudio > 5*time.Minute:
		return fmt.Errorf("max_queued_audio: %v out of range; allowed 1s..5m", c.MaxQueuedAudio)
	}
	return nil
}

// BotStats is what the result reports about a bot stream.
type BotStats struct {
	StreamSID     string `json:"stream_sid"`
	FramesToBot   uint64 `json:"frames_to_bot"`
	FramesFromBot uint64 `json:"frames_from_bot"`
	DroppedToBot  uint64 `json:"dropped_to_bot"`
	Escalated     bool   `json:"escalated,omitempty"`
	Error         string `json:"error,omitempty"`
}

// validBotURL accepts ws:// and wss:// URLs with a host.
func validBotURL(s string) error {
	if s == "" {
		return errors.New("empty; want a ws:// or wss:// URL")
	}
	if len(s) > 2048 {
		return fmt.Errorf("%d characters; allowed up to 2048", len(s))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return fmt.Errorf("%q: want a ws:// or wss:// URL with a host", s)
	}
	return nil
}

type botEventKind int

const (
	botStarted botEventKind = iota
	botFailed               // connect failed
	botEscalate
	botClear
	botDigit
	botEnded // stop event or socket closed
)

type botEvent struct {
	kind  botEventKind
	digit byte
	err   error
}

// botStream is one call's WebSocket to its bot. Its two goroutines (reader
// and writer) are owned by the call: close stops and waits for them.
type botStream struct {
	cfg    BotConfig
	sid    string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	frames chan [media.FrameSamples]byte // caller audio, µ-law; receive goroutine → writer
	digits chan byte                     // caller digits → writer
	events chan botEvent                 // → call goroutine
	more   chan struct{}                 // cap 1: bot audio queued

	mu      sync.Mutex
	pending []int16 // bot audio to play, 8 kHz PCM

	toBot, fromBot, dropped atomic.Uint64
	escalated               bool // call goroutine only
	errText                 atomic.Pointer[string]
}

// frame is called on the session's receive goroutine; it does not block
// or allocate.
func (b *botStream) frame(pcm []int16) {
	var f [media.FrameSamples]byte
	if _, err := media.EncodeTo(media.PCMU, f[:], pcm); err != nil {
		return
	}
	select {
	case b.frames <- f:
	default:
		b.dropped.Add(1)
	}
}

func (b *botStream) digit(d byte) {
	select {
	case b.digits <- d:
	default:
	}
}

func (b *botStream) event(ev botEvent) {
	select {
	case b.events <- ev:
	case <-b.ctx.Done():
	}
}

func (b *botStream) setErr(err error) {
	s := err.Error()
	b.errText.Store(&s)
}

// takePending returns the queued bot audio and empties the queue.
func (b *botStream) takePending() []int16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.pending
	b.pending = nil
	return p
}

func (b *botStream) stats() *BotStats {
	st := &BotStats{StreamSID: b.sid, FramesToBot: b.toBot.Load(), FramesFromBot: b.fromBot.Load(),
		DroppedToBot: b.dropped.Load(), Escalated: b.escalated}
	if e := b.errText.Load(); e != nil {
		st.Error = *e
	}
	return st
}

type botStart struct {
	StreamSID        string            `json:"streamSid"`
	CallSID          string            `json:"callSid"`
	AccountSID       string            `json:"accountSid"`
	Tracks           []string          `json:"tracks"`
	CustomParameters map[string]string `json:"customParameters,omitempty"`
	MediaFormat      struct {
		Encoding   string `json:"encoding"`
		SampleRate int    `json:"sampleRate"`
		Channels   int    `json:"channels"`
	} `json:"mediaFormat"`
}

type botMedia struct {
	Track     string `json:"track,omitempty"`
	Chunk     string `json:"chunk,omitempty"`
	Timestamp string `json:"timestamp,omitempty"`
	Payload   string `json:"payload"`
}

type botDTMF struct {
	Track string `json:"track,omitempty"`
	Digit string `json:"digit"`
}

type botMsg struct {
	Event          string    `json:"event"`
	SequenceNumber string    `json:"sequenceNumber,omitempty"`
	StreamSID      string    `json:"streamSid,omitempty"`
	Protocol       string    `json:"protocol,omitempty"`
	Version        string    `json:"version,omitempty"`
	Start          *botStart `json:"start,omitempty"`
	Media          *botMedia `json:"media,omitempty"`
	DTMF           *botDTMF  `json:"dtmf,omitempty"`
}

// startBot opens the stream for a live answer (FlowBot).
func (l *callLoop) startBot() {
	a, m := l.a, l.a.m
	ctx, cancel := context.WithCancel(m.ctx)
	b := &botStream{cfg: m.cfg.Bot, sid: "MZ" + a.res.AttemptID, ctx: ctx, cancel: cancel,
		frames: make(chan [media.FrameSamples]byte, m.cfg.Bot.QueueFrames), digits: make(chan byte, 16),
		events: make(chan botEvent, 8), more: make(chan struct{}, 1)}
	l.bot, l.botMore, l.botEvents = b, b.more, b.events
	a.res.Disposition = StreamedToBot
	l.disposition = StreamedToBot
	start := botMsg{Event: "start", SequenceNumber: "1", StreamSID: b.sid, Start: &botStart{StreamSID: b.sid,
		CallSID: a.res.AttemptID, Tracks: []string{"inbound"}, CustomParameters: a.order.Metadata}}
	start.Start.MediaFormat.Encoding, start.Start.MediaFormat.SampleRate, start.Start.MediaFormat.Channels = "audio/x-mulaw", 8000, 1
	b.wg.Add(1)
	go b.run(a.order.BotURL, start, m)
}

// run connects, then reads (this goroutine) and writes (a second one).
func (b *botStream) run(u string, start botMsg, m *Manager) {
	defer b.wg.Done()
	cctx, ccancel := context.WithTimeout(b.ctx, b.cfg.ConnectTimeout)
	conn, _, err := websocket.Dial(cctx, u, nil)
	ccancel()
	if err != nil {
		b.setErr(fmt.Errorf("connect: %w", err))
		b.event(botEvent{kind: botFailed, err: err})
		return
	}
	defer conn.CloseNow()
	conn.SetReadLimit(b.cfg.MaxMessageBytes)
	for _, msg := range []botMsg{{Event: "connected", Protocol: "Call", Version: "1.0.0"}, start} {
		if err := writeJSON(b.ctx, conn, msg); err != nil {
			b.setErr(fmt.Errorf("start: %w", err))
			b.event(botEvent{kind: botFailed, err: err})
			return
		}
	}
	b.event(botEvent{kind: botStarted})
	b.wg.Add(1)
	go b.writer(conn, m)
	b.reader(conn, m)
}

func writeJSON(ctx context.Context, conn *websocket.Conn, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, data)
}

func (b *botStream) writer(conn *websocket.Conn, m *Manager) {
	defer b.wg.Done()
	seq, chunk := 2, 0
	var enc [256]byte
	for {
		var msg botMsg
		select {
		case <-b.ctx.Done():
			// Tell the bot the call ended, briefly and best effort.
			sctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_ = writeJSON(sctx, conn, botMsg{Event: "stop", SequenceNumber: strconv.Itoa(seq), StreamSID: b.sid})
			_ = conn.Close(websocket.StatusNormalClosure, "call ended")
			cancel()
			return
		case f := <-b.frames:
			chunk++
			n := base64.StdEncoding.EncodedLen(len(f))
			base64.StdEncoding.Encode(enc[:n], f[:])
			msg = botMsg{Event: "media", StreamSID: b.sid, Media: &botMedia{Track: "inbound", Chunk: strconv.Itoa(chunk),
				Timestamp: strconv.Itoa((chunk - 1) * 20), Payload: string(enc[:n])}}
			b.toBot.Add(1)
			m.deps.Metrics.BotFrames.WithLabelValues("to_bot").Inc()
		case d := <-b.digits:
			msg = botMsg{Event: "dtmf", StreamSID: b.sid, DTMF: &botDTMF{Track: "inbound_track", Digit: string(d)}}
		}
		msg.SequenceNumber = strconv.Itoa(seq)
		seq++
		if err := writeJSON(b.ctx, conn, msg); err != nil {
			if b.ctx.Err() == nil {
				b.setErr(fmt.Errorf("write: %w", err))
				b.event(botEvent{kind: botEnded, err: err})
			}
			return
		}
	}
}

func (b *botStream) reader(conn *websocket.Conn, m *Manager) {
	maxSamples := int(b.cfg.MaxQueuedAudio / time.Second * media.SampleRate)
	for {
		_, data, err := conn.Read(b.ctx)
		if err != nil {
			if b.ctx.Err() == nil {
				if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
					b.setErr(fmt.Errorf("read: %w", err))
				}
				b.event(botEvent{kind: botEnded, err: err})
			}
			return
		}
		msg, pcm, err := parseBotMessage(data)
		if err != nil {
			b.setErr(err)
			continue
		}
		switch msg.Event {
		case "media":
			b.mu.Lock()
			if len(b.pending)+len(pcm) <= maxSamples {
				b.pending = append(b.pending, pcm...)
			}
			b.mu.Unlock()
			frames := uint64((len(pcm) + media.FrameSamples - 1) / media.FrameSamples)
			b.fromBot.Add(frames)
			m.deps.Metrics.BotFrames.WithLabelValues("from_bot").Add(float64(frames))
			select {
			case b.more <- struct{}{}:
			default:
			}
		case "clear":
			b.takePending()
			b.event(botEvent{kind: botClear})
		case "dtmf":
			if msg.DTMF != nil && len(msg.DTMF.Digit) == 1 {
				b.event(botEvent{kind: botDigit, digit: msg.DTMF.Digit[0]})
			}
		case "escalate":
			b.event(botEvent{kind: botEscalate})
		case "stop":
			b.event(botEvent{kind: botEnded})
			return
		}
	}
}

// parseBotMessage decodes one text frame from a bot; for "media" it also
// returns the decoded audio (8 kHz PCM from base64 µ-law).
func parseBotMessage(data []byte) (botMsg, []int16, error) {
	var msg botMsg
	if err := json.Unmarshal(data, &msg); err != nil {
		return msg, nil, fmt.Errorf("bot message: %w", err)
	}
	if msg.Event != "media" {
		return msg, nil, nil
	}
	if msg.Media == nil {
		return msg, nil, errors.New(`bot media message without "media"`)
	}
	raw, err := base64.StdEncoding.DecodeString(msg.Media.Payload)
	if err != nil || len(raw) == 0 {
		return msg, nil, errors.New("bot media payload: want base64 µ-law, not empty")
	}
	pcm := make([]int16, len(raw))
	if _, err := media.DecodeTo(media.PCMU, pcm, raw); err != nil {
		return msg, nil, fmt.Errorf("bot media payload: %w", err)
	}
	return msg, pcm, nil
}

// close ends the stream and waits for its goroutines.
func (b *botStream) close() {
	b.cancel()
	b.wg.Wait()
}

// botPlay starts the queued bot audio if nothing is playing.
func (l *callLoop) botPlay() {
	b, a := l.bot, l.a
	if b == nil || a.sess == nil || a.sess.Playing() {
		return
	}
	pcm := b.takePending()
	if len(pcm) == 0 {
		return
	}
	l.playDone = a.sess.Play(media.NewPrompt("bot", pcm))
}

// botEvent acts on what the bot stream reports.
func (l *callLoop) botEvent(ev botEvent) {
	a := l.a
	switch ev.kind {
	case botStarted:
		a.botSink.Store(l.bot)
		a.log.Info("bot stream started", "stream", l.bot.sid)
	case botFailed:
		// No bot: the caller still hears the message.
		a.log.Warn("bot stream failed; playing the message instead", "err", ev.err)
		l.stopBot()
		a.res.Cause = "bot: " + ev.err.Error()
		l.play(IVRCompleted)
		a.res.Disposition = ""
	case botClear:
		a.sess.StopPlayback()
	case botDigit:
		if _, err := a.sess.SendDTMF(ev.digit, 100*time.Millisecond); err != nil {
			a.log.Warn("bot dtmf", "digit", string(ev.digit), "err", err)
		}
	case botEscalate:
		l.bot.escalated = true
		l.stopBot()
		a.sess.StopPlayback()
		l.playDone = nil
		a.releaseSlot() // the IVR port is free for the next call
		a.order.Flow = FlowAgent
		l.agentDeadline = time.Time{}
		a.res.Disposition = ""
		a.log.Info("bot escalated the call to an agent")
		l.seekAgent()
	case botEnded:
		a.res.Disposition = StreamedToBot
		l.hangup()
	}
}

// stopBot ends the bot stream (if any) and keeps its stats in the result.
func (l *callLoop) stopBot() {
	b := l.bot
	if b == nil {
		return
	}
	l.a.botSink.Store(nil)
	b.close()
	l.a.res.Bot = b.stats()
	l.bot, l.botMore, l.botEvents = nil, nil, nil
}
