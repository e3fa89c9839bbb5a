package carrier

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/media"
	"github.com/dialedge/dialedge/ports"
	"github.com/dialedge/dialedge/sip/sdp"
)

var (
	libOnce  sync.Once
	lib      *audio.Library
	libErr   error
	cacheDir string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "carrier-audio-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testLib is the persona audio, generated once per test binary. Missing
// Debian packages fail the test with the apt-get line (never skip).
func testLib(t *testing.T) *audio.Library {
	t.Helper()
	libOnce.Do(func() {
		cfg := audio.DefaultConfig()
		cfg.CacheDir = cacheDir
		lib, libErr = audio.New(cfg, nil)
		if libErr == nil {
			libErr = lib.Ensure(context.Background())
		}
	})
	if libErr != nil {
		t.Fatalf("persona audio: %v", libErr)
	}
	return lib
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.RTP = ports.Config{Min: 41000, Max: 42999, BindIP: "127.0.0.1"}
	cfg.AnswerDelayMin = 200 * time.Millisecond
	cfg.AnswerDelayMax = 400 * time.Millisecond
	cfg.HumanHold = 2 * time.Second
	cfg.MachineRecord = time.Second
	cfg.FaxHold = 1500 * time.Millisecond
	cfg.RingTimeout = 3 * time.Second
	return cfg
}

func startCarrier(t *testing.T, mut func(*Config)) *Carrier {
	t.Helper()
	cfg := testConfig()
	if mut != nil {
		mut(&cfg)
	}
	c, err := New(cfg, testLib(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// phone is a sipgo UAC with its own media clock, standing in for a dialer.
type phone struct {
	ua    *sipgo.UserAgent
	cli   *sipgo.Client
	dc    *sipgo.DialogClientCache
	clock *media.Clock
}

func newPhone(t *testing.T) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{ua: ua, cli: cli, clock: media.NewClock(media.DefaultClockConfig(), nil)}
	// A fixed Contact port: sipgo rewrites a zero port in place, racing
	// across dialogs. The carrier sends in-dialog requests to the source.
	p.dc = sipgo.NewDialogClientCache(cli, sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "phone", Host: "127.0.0.1", Port: 9}})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "No Dialog", nil))
		}
	})
	t.Cleanup(func() {
		ua.Close()
		p.clock.Close()
	})
	return p
}

// result is what a dialed call saw.
type result struct {
	mu       sync.Mutex
	codes    []int
	early    []int16 // audio before the 200 OK
	answer   []int16 // audio after it
	answered atomic.Bool
	err      error
	dlg      *sipgo.DialogClientSession
	sess     *media.Session
	callID   string
}

func (r *result) onFrame(pcm []int16, lost int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.answered.Load() {
		r.answer = append(r.answer, pcm...)
	} else {
		r.early = append(r.early, pcm...)
	}
}

func (r *result) snapshot() (codes []int, early, answer []int16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.codes...), append([]int16(nil), r.early...), append([]int16(nil), r.answer...)
}

type dialOpts struct {
	tcp      bool
	codecs   []sdp.Codec
	user     string
	password string
	// raw, when set, is the RTP socket to offer; no media session reads it.
	raw *net.UDPConn
}

// dial sends an INVITE to number and waits for the final response (or
// ctx's end, which CANCELs). It ACKs a 200.
func (p *phone) dial(t *testing.T, ctx context.Context, c *Carrier, number string, o dialOpts) *result {
	t.Helper()
	r := &result{}
	conn := o.raw
	var sess *media.Session
	if conn == nil {
		var err error
		conn, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		scfg := media.DefaultSessionConfig()
		scfg.OnFrame = r.onFrame
		if len(o.codecs) == 1 && o.codecs[0].Name == "PCMA" {
			scfg.Codec = media.PCMA
		}
		sess, err = media.NewSession(conn, p.clock, scfg)
		if err != nil {
			t.Fatal(err)
		}
		r.sess = sess
		t.Cleanup(func() { sess.Close() })
	}
	local := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	offer, err := sdp.BuildOffer(sdp.OfferParams{SessionID: 7, SessionVersion: 1, Addr: local, Codecs: o.codecs})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.Addr()
	uri := sip.Uri{Scheme: "sip", User: number, Host: addr.Addr().String(), Port: int(addr.Port())}
	if o.tcp {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	dlg, err := p.dc.Invite(ctx, uri, offer, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	r.dlg = dlg
	r.callID = dlg.InviteRequest.CallID().Value()
	t.Cleanup(func() { dlg.Close() })
	r.err = dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: o.user, Password: o.password,
		OnResponse: func(res *sip.Response) error {
			r.mu.Lock()
			r.codes = append(r.codes, res.StatusCode)
			r.mu.Unlock()
			if len(res.Body()) > 0 && (res.StatusCode == 183 || res.StatusCode == 200) {
				m, err := sdp.ParseAnswer(res.Body(), o.codecs)
				if err != nil {
					return err
				}
				if sess != nil {
					sess.SetRemote(m.Addr)
				}
			}
			if res.StatusCode == 200 {
				r.answered.Store(true)
			}
			return nil
		}})
	if r.err == nil {
		if err := dlg.Ack(context.Background()); err != nil {
			t.Fatalf("ack: %v", err)
		}
	}
	return r
}

func finalCode(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

// record waits for the carrier's record of callID.
func record(t *testing.T, c *Carrier, callID string) CallRecord {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range c.Calls() {
			if r.CallID == callID {
				return r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no call record for %s", callID)
	return CallRecord{}
}

// ---- DSP for assertions ----

func goertzel(pcm []int16, freq float64) float64 {
	w := 2 * math.Pi * freq / 8000
	k := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x) + k*s1 - s2
		s2, s1 = s1, s0
	}
	n := float64(len(pcm))
	return (s1*s1 + s2*s2 - k*s1*s2) / (n * n)
}

func meanSquare(pcm []int16) float64 {
	var e float64
	for _, x := range pcm {
		e += float64(x) * float64(x)
	}
	return e / float64(len(pcm))
}

// share is the fraction of a frame's energy within ±25 Hz of freq.
func share(f []int16, freq float64) float64 {
	e := meanSquare(f)
	if e == 0 {
		return 0
	}
	return 2 * goertzel(f, freq) / e
}

// peak returns the strongest frequency of a frame (25 Hz steps,
// 300-3400 Hz) and its share of the energy.
func peak(f []int16) (float64, float64) {
	best, bestS := 0.0, 0.0
	for hz := 300.0; hz <= 3400; hz += 25 {
		if s := share(f, hz); s > bestS {
			best, bestS = hz, s
		}
	}
	return best, bestS
}

func frames(pcm []int16) [][]int16 {
	var out [][]int16
	for i := 0; i+160 <= len(pcm); i += 160 {
		out = append(out, pcm[i:i+160])
	}
	return out
}

const (
	loudMS  = 1e4  // mean square of a frame with sound in it (rms 100)
	quietMS = 1000 // mean square of line noise (rms ~30)
)

func promptOf(pcm []int16) *media.Prompt { return media.NewPrompt("test", pcm) }
