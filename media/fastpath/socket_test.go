//go:build linux

package fastpath

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

func listenIn(tb testing.TB, ns *netns, addr string) *net.UDPConn {
	tb.Helper()
	var c *net.UDPConn
	if err := ns.do(func() (err error) {
		c, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
		return err
	}); err != nil {
		tb.Fatalf("listen %s in %s: %v", addr, ns.name, err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.SetReadBuffer(1 << 20); err != nil {
		tb.Fatal(err)
	}
	return c
}

func localOf(c *net.UDPConn) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

func rtpPacket(b []byte, pt uint8, seq uint16, ts, ssrc uint32, fill byte) []byte {
	b = b[:rtpHLen+160]
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	for i := rtpHLen; i < len(b); i++ {
		b[i] = fill
	}
	return b
}

// recvRTP reads one datagram (deadline d) and returns its sender and
// RTP fields.
func recvRTP(c *net.UDPConn, buf []byte, d time.Duration) (from netip.AddrPort, pt uint8, seq uint16, ts, ssrc uint32, err error) {
	c.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		return from, 0, 0, 0, 0, err
	}
	if n < rtpHLen {
		return from, 0, 0, 0, 0, fmt.Errorf("%d-byte datagram", n)
	}
	return from, buf[1] & 0x7f, binary.BigEndian.Uint16(buf[2:]), binary.BigEndian.Uint32(buf[4:]), binary.BigEndian.Uint32(buf[8:]), nil
}

func expectNothing(tb testing.TB, c *net.UDPConn, who string) {
	tb.Helper()
	buf := make([]byte, 2048)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err == nil {
		tb.Fatalf("%s received a %d-byte datagram from %v; want none", who, n, from)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		tb.Fatal(err)
	}
}

// stream is what the agent must see: one SSRC, seq and ts continuous.
type stream struct {
	ssrc uint32
	seq  uint16
	ts   uint32
	from netip.AddrPort
}

func (s *stream) check(from netip.AddrPort, pt uint8, seq uint16, ts, ssrc uint32) error {
	if from != s.from || ssrc != s.ssrc || seq != s.seq || ts != s.ts || pt != 0 {
		return fmt.Errorf("agent got from %v pt %d seq %d ts %d ssrc %#x; want from %v pt 0 seq %d ts %d ssrc %#x",
			from, pt, seq, ts, ssrc, s.from, s.seq, s.ts, s.ssrc)
	}
	s.seq++
	s.ts += 160
	return nil
}

const burst = 20 // datagrams in flight at most: no socket buffer can overflow

// TestLoopbackRelay: real sockets on the loopback of a private namespace.
// The edge first sends to the agent from userspace, then the kernel path
// takes over mid-stream; the agent sees one continuous stream, the edge
// socket sees none of the forwarded packets, and all of them again after
// RemoveFlow.
func TestLoopbackRelay(t *testing.T) {
	ns, r := openInNetns(t, DefaultConfig())
	cust := listenIn(t, ns, "127.0.0.1:0")
	legA := listenIn(t, ns, "127.0.0.1:0") // edge leg facing the customer
	legB := listenIn(t, ns, "127.0.0.1:0") // edge leg facing the agent
	agt := listenIn(t, ns, "127.0.0.1:0")
	relayStream(t, r, cust, legA, legB, agt, listenIn(t, ns, "127.0.0.1:0"), Flow{})
}

// TestVethRelay: the edge in one namespace, customer and agent in another,
// joined by a veth pair: the program forwards back out of the interface
// the packet came in by, with the Ethernet header filled in by the
// kernel's neighbour table (bpf_redirect_neigh) or from the flow's MACs.
func TestVethRelay(t *testing.T) {
	edge, peers := newNetns(t), newNetns(t)
	ipCmd(t, "-n", edge.name, "link", "add", "fpE", "type", "veth", "peer", "name", "fpP", "netns", peers.name)
	ipCmd(t, "-n", edge.name, "addr", "add", "10.77.0.1/24", "dev", "fpE")
	ipCmd(t, "-n", peers.name, "addr", "add", "10.77.0.2/24", "dev", "fpP")
	ipCmd(t, "-n", peers.name, "addr", "add", "10.77.0.3/24", "dev", "fpP")
	ipCmd(t, "-n", edge.name, "link", "set", "fpE", "up")
	ipCmd(t, "-n", peers.name, "link", "set", "fpP", "up")
	var r *Relay
	var macE, macP net.HardwareAddr
	if err := edge.do(func() (err error) {
		ifc, err := net.InterfaceByName("fpE")
		if err != nil {
			return err
		}
		macE = ifc.HardwareAddr
		r, err = Open(Config{Interfaces: []string{"fpE"}, MaxFlows: 16})
		return err
	}); err != nil {
		t.Fatalf("fastpath.Open on veth: %v", err)
	}
	defer r.Close()
	if err := peers.do(func() error {
		ifc, err := net.InterfaceByName("fpP")
		macP = ifc.HardwareAddr
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		tmpl Flow
	}{
		{"neighbour", Flow{}},
		{"MACs", Flow{Egress: "fpE", DstMAC: macP, SrcMAC: macE}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cust := listenIn(t, peers, "10.77.0.2:0")
			agt := listenIn(t, peers, "10.77.0.3:0")
			legA := listenIn(t, edge, "10.77.0.1:0")
			legB := listenIn(t, edge, "10.77.0.1:0")
			stranger := listenIn(t, peers, "10.77.0.2:0")
			relayStream(t, r, cust, legA, legB, agt, stranger, tc.tmpl)
		})
	}
}

// relayStream runs the three phases through the legs; tmpl gives the
// flow's Egress and MACs.
func relayStream(t *testing.T, r *Relay, cust, legA, legB, agt, stranger *net.UDPConn, tmpl Flow) {
	aAddr, bAddr, custAddr, agtAddr := localOf(legA), localOf(legB), localOf(cust), localOf(agt)
	const before, during, after = 50, 300, 300
	out := make([]byte, 2048)
	buf := make([]byte, 2048)
	want := stream{ssrc: 0x5eed0001, seq: 64000, ts: 0xffff0000, from: bAddr}

	// Userspace edge → agent (prompt, or the bridge before the fast path).
	seq0, ts0 := want.seq, want.ts
	for i := range before {
		if _, err := legB.WriteToUDPAddrPort(rtpPacket(out, 0, seq0+uint16(i), ts0+uint32(i)*160, want.ssrc, 0xff), agtAddr); err != nil {
			t.Fatal(err)
		}
		if i%burst == burst-1 || i == before-1 {
			for range i%burst + 1 {
				from, pt, seq, ts, ssrc, err := recvRTP(agt, buf, 5*time.Second)
				if err != nil {
					t.Fatalf("agent, userspace phase: %v", err)
				}
				if err := want.check(from, pt, seq, ts, ssrc); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	// The customer's stream, and the flow continuing the agent's stream.
	const custSSRC, custSeq, custTS = 0xc0ffee, 100, 8000
	f := tmpl
	f.Local, f.Source, f.PayloadType, f.From, f.To = aAddr, custAddr, 0, bAddr, agtAddr
	f.SSRC, f.SeqOffset, f.TSOffset = want.ssrc, want.seq-custSeq, want.ts-custTS
	if err := r.AddFlow(f); err != nil {
		t.Fatal(err)
	}
	seq, ts := uint16(custSeq), uint32(custTS)
	for i := range during {
		if _, err := cust.WriteToUDPAddrPort(rtpPacket(out, 0, seq, ts, custSSRC, byte(i)), aAddr); err != nil {
			t.Fatal(err)
		}
		seq, ts = seq+1, ts+160
		if i%burst == burst-1 {
			for range burst {
				from, pt, s, tstamp, ssrc, err := recvRTP(agt, buf, 5*time.Second)
				if err != nil {
					t.Fatalf("agent, kernel phase, packet %d: %v", i, err)
				}
				if err := want.check(from, pt, s, tstamp, ssrc); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// RTCP and telephone-event go to the edge's socket, not the agent.
	rtcp := []byte{0x80, 200, 0, 6, 0, 0xc0, 0xff, 0xee, 27: 0} // sender report, 28 bytes
	if _, err := cust.WriteToUDPAddrPort(rtcp, aAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := cust.WriteToUDPAddrPort(rtpPacket(out, 101, seq, ts, custSSRC, 0)[:rtpHLen+4], aAddr); err != nil {
		t.Fatal(err)
	}
	legA.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := legA.ReadFromUDPAddrPort(buf); err != nil || n != len(rtcp) || buf[1] != 200 {
		t.Fatalf("edge socket: want the RTCP packet first, got %d bytes (%x), %v", n, buf[:max(n, 0)], err)
	}
	if from, pt, _, _, _, err := recvRTP(legA, buf, 5*time.Second); err != nil || pt != 101 || from != custAddr {
		t.Fatalf("edge socket: want the telephone-event packet from %v, got pt %d from %v: %v", custAddr, pt, from, err)
	}
	// A foreign source goes up too (strict source is userspace's call).
	if _, err := stranger.WriteToUDPAddrPort(rtpPacket(out, 0, 1, 2, 3, 4), aAddr); err != nil {
		t.Fatal(err)
	}
	if from, _, _, _, ssrc, err := recvRTP(legA, buf, 5*time.Second); err != nil || from != localOf(stranger) || ssrc != 3 {
		t.Fatalf("edge socket: want the foreign packet from %v, got ssrc %d from %v: %v", localOf(stranger), ssrc, from, err)
	}
	expectNothing(t, legA, "edge socket while the flow is installed")
	expectNothing(t, agt, "agent after the RTCP and telephone-event")
	st, err := r.FlowStats(aAddr)
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != during || st.Passed != 2 || st.Foreign != 1 || st.Bytes != during*(ipHLen+udpHLen+rtpHLen+160) {
		t.Errorf("flow stats %+v; want %d packets of %d bytes, 2 passed, 1 foreign", st, during, ipHLen+udpHLen+rtpHLen+160)
	}

	// After RemoveFlow the edge's socket gets everything, unchanged.
	if err := r.RemoveFlow(aAddr); err != nil {
		t.Fatal(err)
	}
	for i := range after {
		if _, err := cust.WriteToUDPAddrPort(rtpPacket(out, 0, seq+uint16(i), ts+uint32(i)*160, custSSRC, 1), aAddr); err != nil {
			t.Fatal(err)
		}
		if i%burst == burst-1 {
			for j := range burst {
				k := i - burst + 1 + j
				from, pt, s, tstamp, ssrc, err := recvRTP(legA, buf, 5*time.Second)
				if err != nil {
					t.Fatalf("edge socket after RemoveFlow, packet %d: %v", k, err)
				}
				if from != custAddr || pt != 0 || s != seq+uint16(k) || tstamp != ts+uint32(k)*160 || ssrc != custSSRC {
					t.Fatalf("edge socket after RemoveFlow: from %v seq %d ts %d ssrc %#x; want the customer's packet unchanged (seq %d)", from, s, tstamp, ssrc, seq+uint16(k))
				}
			}
		}
	}
	expectNothing(t, agt, "agent after RemoveFlow")
}
