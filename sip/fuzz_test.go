package sip

import (
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/dialedge/dialedge/sip/sdp"
)

// recordingTx is a sip.ServerTransaction that records responses: the fuzz
// target below calls our request handlers without a network.
type recordingTx struct {
	mu        sync.Mutex
	responses []*sip.Response
	done      chan struct{}
}

func newRecordingTx() *recordingTx { return &recordingTx{done: make(chan struct{})} }

func (r *recordingTx) Respond(res *sip.Response) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.responses = append(r.responses, res)
	return nil
}
func (r *recordingTx) Acks() <-chan *sip.Request          { return nil }
func (r *recordingTx) OnCancel(sip.FnTxCancel) bool       { return true }
func (r *recordingTx) Terminate()                         {}
func (r *recordingTx) OnTerminate(sip.FnTxTerminate) bool { return true }
func (r *recordingTx) Done() <-chan struct{}              { return r.done }
func (r *recordingTx) Err() error                         { return nil }
func (r *recordingTx) codes() (out []int) {
	for _, res := range r.responses {
		out = append(out, res.StatusCode)
	}
	return out
}

const fuzzCallID = "fuzzcall@127.0.0.1"

// fuzzEndpoint returns an endpoint (not started: no sockets) holding one
// answered call with local tag "ours" and remote tag "theirs".
func fuzzEndpoint(t testing.TB) (*Endpoint, *Call) {
	cfg := DefaultConfig()
	cfg.Trunk.Address = "127.0.0.1:5060"
	e, err := NewEndpoint(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.contact = sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: 5060}}
	req := DialRequest{Number: "1", CallerID: "2", LocalRTP: testRTP, Codecs: sdp.DefaultCodecs}
	c := newCall(e, req, testRTP, nil, 1, nil, "ours", fuzzCallID)
	c.state, c.answeredOnce, c.remoteTag, c.codec = stateAnswered, true, "theirs", sdp.PCMA
	e.calls[fuzzCallID] = c
	return e, c
}

func reinviteSeed(body string) string {
	return "INVITE sip:127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n" +
		"From: <sip:carrier@127.0.0.1>;tag=theirs\r\n" +
		"To: <sip:2@127.0.0.1>;tag=ours\r\n" +
		"Call-ID: " + fuzzCallID + "\r\n" +
		"CSeq: 7 INVITE\r\n" +
		"Contact: <sip:127.0.0.1:5070>\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + itoa(len(body)) + "\r\n\r\n" + body
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzInboundRequest feeds parsed SIP requests to the endpoint's handlers
// (OPTIONS, INVITE/re-INVITE, BYE) as sipgo's transaction layer would: it
// only passes requests that have Via and CSeq. Every request must get
// exactly one response, with a code from the set we use, and no panic.
func FuzzInboundRequest(f *testing.F) {
	hold, _ := sdp.BuildOffer(sdp.OfferParams{Addr: netip.MustParseAddrPort("127.0.0.1:7000"), Codecs: []sdp.Codec{sdp.PCMA}, Direction: sdp.SendOnly})
	f.Add([]byte(reinviteSeed(string(hold))))
	f.Add([]byte(reinviteSeed("")))
	f.Add([]byte(reinviteSeed("v=0\r\nbroken\r\n")))
	f.Add([]byte(strings.Replace(reinviteSeed(""), "INVITE", "BYE", 1)))
	f.Add([]byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	f.Add([]byte("INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\nCSeq: 1 INVITE\r\nTo: <sip:x>\r\n\r\n"))
	allowed := map[int]bool{200: true, 403: true, 481: true, 488: true, 500: true}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok || req.Via() == nil || req.CSeq() == nil {
			return
		}
		e, _ := fuzzEndpoint(t)
		tx := newRecordingTx()
		switch req.Method {
		case sip.OPTIONS:
			e.onOptions(req, tx)
		case sip.INVITE:
			e.onInvite(req, tx)
		case sip.BYE:
			e.onBye(req, tx)
		default:
			return
		}
		codes := tx.codes()
		if len(codes) != 1 || !allowed[codes[0]] {
			t.Fatalf("responses %v to %q", codes, req.StartLine())
		}
		if req.Method == sip.INVITE && codes[0] == 200 && len(req.Body()) > 0 {
			// A 200 to an offer carries an answer we can parse ourselves.
			if _, err := sdp.ParseAnswer(tx.responses[0].Body(), nil); err != nil {
				t.Fatalf("our answer does not parse: %v\n%s", err, tx.responses[0].Body())
			}
		}
	})
}

func TestInboundHandlers(t *testing.T) {
	hold, _ := sdp.BuildOffer(sdp.OfferParams{Addr: netip.MustParseAddrPort("127.0.0.1:7000"), Codecs: []sdp.Codec{sdp.PCMA}, Direction: sdp.SendOnly})
	cases := []struct {
		name string
		msg  string
		want int
	}{
		{"hold", reinviteSeed(string(hold)), 200},
		{"offerless", reinviteSeed(""), 200},
		{"bad sdp", reinviteSeed("v=0\r\nbroken\r\n"), 488},
		{"wrong tag", strings.Replace(reinviteSeed(string(hold)), "tag=theirs", "tag=other", 1), 481},
		{"new call", strings.Replace(reinviteSeed(""), ";tag=ours", "", 1), 403},
		{"unknown call", strings.Replace(reinviteSeed(""), fuzzCallID, "nope", 1), 481},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, c := fuzzEndpoint(t)
			msg, err := sip.ParseMessage([]byte(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			tx := newRecordingTx()
			e.onInvite(msg.(*sip.Request), tx)
			if codes := tx.codes(); len(codes) != 1 || codes[0] != tc.want {
				t.Fatalf("responses %v, want [%d]", codes, tc.want)
			}
			if tc.name == "hold" {
				c.mu.Lock()
				queued := append([]sdp.Media(nil), c.reinvites...)
				c.reinvites = nil
				c.mu.Unlock()
				if len(queued) != 1 || queued[0].Direction != sdp.SendOnly || !queued[0].Hold {
					t.Fatalf("queued media %+v", queued)
				}
				// A retransmission of the same CSeq gets the same answer, no new event.
				tx2 := newRecordingTx()
				e.onInvite(msg.(*sip.Request), tx2)
				if codes := tx2.codes(); len(codes) != 1 || codes[0] != 200 || string(tx2.responses[0].Body()) != string(tx.responses[0].Body()) {
					t.Fatalf("retransmission answered %v", codes)
				}
				c.mu.Lock()
				n := len(c.reinvites)
				c.mu.Unlock()
				if n != 0 {
					t.Fatal("retransmission queued another event")
				}
				// An older CSeq is refused.
				old, _ := sip.ParseMessage([]byte(strings.Replace(tc.msg, "CSeq: 7", "CSeq: 6", 1)))
				tx3 := newRecordingTx()
				e.onInvite(old.(*sip.Request), tx3)
				if codes := tx3.codes(); len(codes) != 1 || codes[0] != 500 {
					t.Fatalf("old CSeq answered %v, want [500]", codes)
				}
			}
		})
	}
}
