//go:build linux

package fastpath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

const (
	actOK       = 0 // TC_ACT_OK
	actShot     = 2 // TC_ACT_SHOT
	actRedirect = 7 // TC_ACT_REDIRECT
)

// pkt describes a test frame.
type pkt struct {
	src, dst      netip.AddrPort
	version       uint8 // 0 means 2
	pt            uint8
	marker        bool
	seq           uint16
	ts, ssrc      uint32
	payload       []byte
	ttl           uint8
	noUDPChecksum bool
	srcMAC        [6]byte
	dstMAC        [6]byte
}

// bytes builds the Ethernet/IPv4/UDP/RTP frame with correct checksums.
func (p pkt) bytes() []byte {
	if p.version == 0 {
		p.version = 2
	}
	if p.ttl == 0 {
		p.ttl = 64
	}
	ulen := udpHLen + rtpHLen + len(p.payload)
	b := make([]byte, ethHLen+ipHLen+ulen)
	copy(b[0:6], p.dstMAC[:])
	copy(b[6:12], p.srcMAC[:])
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[ethHLen:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipHLen+ulen))
	binary.BigEndian.PutUint16(ip[4:], 0x1234)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8] = p.ttl
	ip[9] = 17
	s4, d4 := p.src.Addr().As4(), p.dst.Addr().As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], ipv4Checksum(ip[:ipHLen]))
	udp := ip[ipHLen:]
	binary.BigEndian.PutUint16(udp[0:], p.src.Port())
	binary.BigEndian.PutUint16(udp[2:], p.dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(ulen))
	rtp := udp[udpHLen:]
	rtp[0] = p.version << 6
	rtp[1] = p.pt & 0x7f
	if p.marker {
		rtp[1] |= 0x80
	}
	binary.BigEndian.PutUint16(rtp[2:], p.seq)
	binary.BigEndian.PutUint32(rtp[4:], p.ts)
	binary.BigEndian.PutUint32(rtp[8:], p.ssrc)
	copy(rtp[rtpHLen:], p.payload)
	if !p.noUDPChecksum {
		binary.BigEndian.PutUint16(udp[6:], udpChecksum(p.src.Addr(), p.dst.Addr(), udp))
	}
	return b
}

var (
	edgeA    = netip.MustParseAddrPort("10.0.0.1:4000") // customer leg
	edgeB    = netip.MustParseAddrPort("10.0.0.1:4002") // agent leg
	customer = netip.MustParseAddrPort("10.0.0.9:5000")
	agent    = netip.MustParseAddrPort("10.0.0.7:6000")
	macA     = net.HardwareAddr{2, 0, 0, 0, 0, 0xa}
	macB     = net.HardwareAddr{2, 0, 0, 0, 0, 0xb}
)

// testFlows: customer→agent with a fixed source; agent→customer latching,
// with MACs, SSRC match and foreign drop.
func testFlows() []Flow {
	return []Flow{
		{Local: edgeA, Source: customer, PayloadType: 0, From: edgeB, To: agent,
			SSRC: 0xdeadbeef, SeqOffset: 1000, TSOffset: 0xfffff000},
		{Local: edgeB, PayloadType: 8, MatchSSRC: true, InSSRC: 0x11223344, From: edgeA, To: customer,
			SSRC: 0x0badcafe, SeqOffset: 0xffff, TSOffset: 160, DstMAC: macB, SrcMAC: macA, DropForeign: true},
	}
}

// openInNetns opens a Relay on the loopback of a fresh namespace.
func openInNetns(tb testing.TB, cfg Config) (*netns, *Relay) {
	tb.Helper()
	ns := newNetns(tb)
	var r *Relay
	if err := ns.do(func() (err error) { r, err = Open(cfg); return err }); err != nil {
		tb.Fatalf("fastpath.Open in netns %s: %v", ns.name, err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return ns, r
}

// modelState is the Go model of the program's per-flow state.
type modelState struct {
	f       Flow
	latched netip.AddrPort
	st      FlowStats
}

// model runs the program's rules in Go: the verdict, and for a redirect
// the expected frame (checksums updated incrementally like the kernel).
func model(in []byte, flows map[netip.AddrPort]*modelState) (uint32, []byte) {
	if len(in) < minLen || binary.BigEndian.Uint16(in[12:]) != 0x0800 {
		return actOK, nil
	}
	ip := in[ethHLen:]
	if ip[0] != 0x45 || ip[9] != 17 || binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		return actOK, nil
	}
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(ip[22:]))
	m := flows[dst]
	if m == nil {
		return actOK, nil
	}
	fr, err := parseFrame(in)
	if err != nil || fr.version != 2 || fr.pt != m.f.PayloadType {
		m.st.Passed++
		return actOK, nil
	}
	want := m.f.Source
	if !want.IsValid() {
		if !m.latched.IsValid() {
			m.latched = fr.src
		}
		want = m.latched
	}
	if fr.src != want {
		m.st.Foreign++
		if m.f.DropForeign {
			return actShot, nil
		}
		return actOK, nil
	}
	if m.f.MatchSSRC && fr.ssrc != m.f.InSSRC {
		m.st.Passed++
		return actOK, nil
	}
	m.st.Packets++
	m.st.Bytes += uint64(binary.BigEndian.Uint16(ip[2:]))
	out := bytes.Clone(in)
	oip := out[ethHLen:]
	oudp := oip[ipHLen:]
	f4, t4 := m.f.From.Addr().As4(), m.f.To.Addr().As4()
	copy(oip[12:16], f4[:])
	copy(oip[16:20], t4[:])
	binary.BigEndian.PutUint16(oudp[0:], m.f.From.Port())
	binary.BigEndian.PutUint16(oudp[2:], m.f.To.Port())
	rtp := oudp[udpHLen:]
	binary.BigEndian.PutUint16(rtp[2:], fr.seq+m.f.SeqOffset)
	binary.BigEndian.PutUint32(rtp[4:], fr.ts+m.f.TSOffset)
	binary.BigEndian.PutUint32(rtp[8:], m.f.SSRC)
	if m.f.DstMAC != nil {
		copy(out[0:6], m.f.DstMAC)
		copy(out[6:12], m.f.SrcMAC)
	}
	// RFC 1624 eqn. 3 over the changed words: HC' = ~(~HC + ~m + m').
	binary.BigEndian.PutUint16(oip[10:], incremental(fr.ipChecksum, ip[12:20], oip[12:20]))
	if fr.udpChecksum != 0 {
		old := append(append(bytes.Clone(ip[12:20]), ip[20:24]...), ip[28:40]...)
		nw := append(append(bytes.Clone(oip[12:20]), oip[20:24]...), oip[28:40]...)
		c := incremental(fr.udpChecksum, old, nw)
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(oudp[6:], c)
	}
	return actRedirect, out
}

func incremental(hc uint16, old, nw []byte) uint16 {
	s := uint32(^hc)
	for i := 0; i+1 < len(old); i += 2 {
		s += uint32(^binary.BigEndian.Uint16(old[i:]))
		s += uint32(binary.BigEndian.Uint16(nw[i:]))
	}
	return ^fold(s)
}

// sameChecksum: one's complement has two zeros, 0x0000 and 0xffff.
func sameChecksum(a, b uint16) bool {
	return a == b || (a == 0 || a == 0xffff) && (b == 0 || b == 0xffff)
}

// diffFrames compares two frames, checksum fields modulo the two zeros.
func diffFrames(got, want []byte) error {
	if bytes.Equal(got, want) {
		return nil
	}
	if len(got) != len(want) || len(got) < minLen {
		return fmt.Errorf("length %d, want %d\n got %x\nwant %x", len(got), len(want), got, want)
	}
	const ipSum, udpSum = ethHLen + 10, ethHLen + ipHLen + 6
	for i := range got {
		if i == ipSum || i == udpSum || i == ipSum+1 || i == udpSum+1 {
			continue
		}
		if got[i] != want[i] {
			return fmt.Errorf("byte %d: %#02x, want %#02x\n got %x\nwant %x", i, got[i], want[i], got, want)
		}
	}
	for _, off := range []int{ipSum, udpSum} {
		g, w := binary.BigEndian.Uint16(got[off:]), binary.BigEndian.Uint16(want[off:])
		if !sameChecksum(g, w) {
			return fmt.Errorf("checksum at %d: %#04x, want %#04x", off, g, w)
		}
	}
	return nil
}

func run(tb testing.TB, r *Relay, in []byte) (uint32, []byte) {
	tb.Helper()
	ret, out, err := runErr(r, in)
	if err != nil {
		tb.Fatalf("BPF_PROG_TEST_RUN: %v", err)
	}
	return ret, out
}

func runErr(r *Relay, in []byte) (uint32, []byte, error) {
	out := make([]byte, len(in)+256)
	opts := ebpf.RunOptions{Data: in, DataOut: out}
	ret, err := r.objs.RtpRelay.Run(&opts)
	return ret, opts.DataOut, err
}

// TestRewriteExact checks every header field of a forwarded packet and
// both checksums against a fresh Go computation.
func TestRewriteExact(t *testing.T) {
	_, r := openInNetns(t, DefaultConfig())
	for _, f := range testFlows() {
		if err := r.AddFlow(f); err != nil {
			t.Fatal(err)
		}
	}
	payload := bytes.Repeat([]byte{0xd5, 0x55, 0x7f, 0x13}, 40)
	for _, tc := range []struct {
		name string
		in   pkt
	}{
		{"customer→agent", pkt{src: customer, dst: edgeA, pt: 0, marker: true, seq: 65000, ts: 0x00002000, ssrc: 0x01020304, payload: payload, srcMAC: [6]byte(macB), dstMAC: [6]byte(macA)}},
		{"agent→customer", pkt{src: agent, dst: edgeB, pt: 8, seq: 7, ts: 0xffffff00, ssrc: 0x11223344, payload: payload[:80]}},
		{"no UDP checksum", pkt{src: customer, dst: edgeA, pt: 0, seq: 1, ts: 160, ssrc: 5, payload: payload[:160], noUDPChecksum: true}},
		{"odd payload", pkt{src: customer, dst: edgeA, pt: 0, seq: 2, ts: 320, ssrc: 5, payload: payload[:33]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in.bytes()
			orig := bytes.Clone(in)
			ret, out := run(t, r, in)
			if ret != actRedirect {
				t.Fatalf("verdict %d, want TC_ACT_REDIRECT (7)", ret)
			}
			if !bytes.Equal(in, orig) {
				t.Fatal("input buffer modified")
			}
			var f Flow
			for _, x := range testFlows() {
				if x.Local == tc.in.dst {
					f = x
				}
			}
			got, err := parseFrame(out)
			if err != nil {
				t.Fatalf("output: %v", err)
			}
			in0, _ := parseFrame(orig)
			type hdr struct {
				Src, Dst               netip.AddrPort
				TTL, Version, PT       uint8
				Marker                 bool
				Seq                    uint16
				TS, SSRC               uint32
				UDPLen                 uint16
				Payload                string
				DstMAC, SrcMAC         [6]byte
				IPIDFlagsTOS, TotalLen string
			}
			wantMAC := [2][6]byte{in0.dstMAC, in0.srcMAC}
			if f.DstMAC != nil {
				wantMAC = [2][6]byte{[6]byte(f.DstMAC), [6]byte(f.SrcMAC)}
			}
			want := hdr{f.From, f.To, in0.ttl, 2, in0.pt, in0.marker, in0.seq + f.SeqOffset, in0.ts + f.TSOffset, f.SSRC,
				in0.udpLen, string(in0.udp[udpHLen+rtpHLen:]), wantMAC[0], wantMAC[1],
				fmt.Sprintf("%x", in0.ipHeader[:2]) + fmt.Sprintf("%x", in0.ipHeader[4:10]), fmt.Sprintf("%x", in0.ipHeader[2:4])}
			gotH := hdr{got.src, got.dst, got.ttl, got.version, got.pt, got.marker, got.seq, got.ts, got.ssrc,
				got.udpLen, string(got.udp[udpHLen+rtpHLen:]), got.dstMAC, got.srcMAC,
				fmt.Sprintf("%x", got.ipHeader[:2]) + fmt.Sprintf("%x", got.ipHeader[4:10]), fmt.Sprintf("%x", got.ipHeader[2:4])}
			if gotH != want {
				t.Fatalf("rewritten header:\n got %+v\nwant %+v", gotH, want)
			}
			if c := ipv4Checksum(got.ipHeader); got.ipChecksum != c {
				t.Errorf("IP checksum %#04x, Go computes %#04x", got.ipChecksum, c)
			}
			wantUDP := udpChecksum(got.src.Addr(), got.dst.Addr(), got.udp)
			if tc.in.noUDPChecksum {
				wantUDP = 0 // IPv4 "no checksum" stays so
			}
			if got.udpChecksum != wantUDP {
				t.Errorf("UDP checksum %#04x, Go computes %#04x", got.udpChecksum, wantUDP)
			}
			if len(out) != len(orig) {
				t.Errorf("length %d, want %d", len(out), len(orig))
			}
		})
	}
	st, err := r.FlowStats(edgeA)
	if err != nil {
		t.Fatal(err)
	}
	if st.Packets != 3 || st.Foreign != 0 || st.Passed != 0 || st.Latched != customer {
		t.Errorf("customer flow stats %+v, want 3 packets, source %v", st, customer)
	}
	st, _ = r.FlowStats(edgeB)
	if st.Packets != 1 || st.Latched != agent || st.Bytes != uint64(ipHLen+udpHLen+rtpHLen+80) {
		t.Errorf("agent flow stats %+v, want 1 packet of %d bytes, latched %v", st, ipHLen+udpHLen+rtpHLen+80, agent)
	}
}

// TestPassUnchanged: everything the program does not forward goes up
// unchanged (TC_ACT_OK), or is dropped when the flow says so.
func TestPassUnchanged(t *testing.T) {
	_, r := openInNetns(t, DefaultConfig())
	for _, f := range testFlows() {
		if err := r.AddFlow(f); err != nil {
			t.Fatal(err)
		}
	}
	// Latch the agent flow first.
	if ret, _ := run(t, r, pkt{src: agent, dst: edgeB, pt: 8, ssrc: 0x11223344, payload: make([]byte, 160)}.bytes()); ret != actRedirect {
		t.Fatalf("latching packet: verdict %d", ret)
	}
	good := pkt{src: customer, dst: edgeA, pt: 0, seq: 1, ts: 2, ssrc: 3, payload: make([]byte, 160)}
	mod := func(f func(b []byte) []byte) []byte { return f(good.bytes()) }
	rtcp := good
	rtcp.pt = 200 & 0x7f // 200 = SR; pt field sees 72
	rtcpFrame := rtcp.bytes()
	rtcpFrame[ethHLen+ipHLen+udpHLen+1] = 200
	v1 := good
	v1.version = 1
	te := good
	te.pt = 101
	foreign := good
	foreign.src = netip.MustParseAddrPort("10.0.0.9:5001")
	foreignAddr := good
	foreignAddr.src = netip.MustParseAddrPort("10.0.0.99:5000")
	other := good
	other.dst = netip.MustParseAddrPort("10.0.0.1:4004")
	wrongSSRC := pkt{src: agent, dst: edgeB, pt: 8, ssrc: 0x99, payload: make([]byte, 160)}
	dropped := pkt{src: customer, dst: edgeB, pt: 8, ssrc: 0x11223344, payload: make([]byte, 160)}

	for _, tc := range []struct {
		name    string
		in      []byte
		verdict uint32
	}{
		{"RTCP", rtcpFrame, actOK},
		{"telephone-event", te.bytes(), actOK},
		{"RTP version 1", v1.bytes(), actOK},
		{"foreign port", foreign.bytes(), actOK},
		{"foreign address", foreignAddr.bytes(), actOK},
		{"no flow", other.bytes(), actOK},
		{"other SSRC", wrongSSRC.bytes(), actOK},
		{"foreign dropped", dropped.bytes(), actShot},
		{"truncated below RTP header", good.bytes()[:minLen-1], actOK},
		{"UDP header only", mod(func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[ethHLen+2:], ipHLen+udpHLen)
			binary.BigEndian.PutUint16(b[ethHLen+ipHLen+4:], udpHLen)
			return b
		}), actOK},
		{"IP length beyond frame", mod(func(b []byte) []byte { return b[:len(b)-1] }), actOK},
		{"UDP length mismatch", mod(func(b []byte) []byte { b[ethHLen+ipHLen+5]--; return b }), actOK},
		{"IP options", mod(func(b []byte) []byte { b[ethHLen] = 0x46; return b }), actOK},
		{"fragment", mod(func(b []byte) []byte { b[ethHLen+6] = 0x20; return b }), actOK},
		{"TCP", mod(func(b []byte) []byte { b[ethHLen+9] = 6; return b }), actOK},
		{"IPv6 ethertype", mod(func(b []byte) []byte { b[12], b[13] = 0x86, 0xdd; return b }), actOK},
		{"empty Ethernet", make([]byte, 14), actOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.in)
			ret, out := run(t, r, tc.in)
			if ret != tc.verdict {
				t.Fatalf("verdict %d, want %d", ret, tc.verdict)
			}
			if !bytes.Equal(out, orig) {
				t.Fatalf("frame changed:\n got %x\nwant %x", out, orig)
			}
		})
	}
	st, _ := r.FlowStats(edgeA)
	// passed: RTCP, telephone-event, v1, UDP header only, UDP length mismatch, IP length beyond frame
	if want := (FlowStats{Foreign: 2, Passed: 6, Latched: customer}); st != want {
		t.Errorf("customer flow stats %+v, want %+v", st, want)
	}
	st, _ = r.FlowStats(edgeB)
	if st.Packets != 1 || st.Passed != 1 || st.Foreign != 1 {
		t.Errorf("agent flow stats %+v, want 1 forwarded, 1 passed (SSRC), 1 foreign", st)
	}
}

// TestModelMatchesProgram runs a mixed sequence through the program and
// the Go model (the fuzz target does the same with arbitrary frames).
func TestModelMatchesProgram(t *testing.T) {
	_, r := openInNetns(t, DefaultConfig())
	m := map[netip.AddrPort]*modelState{}
	for _, f := range testFlows() {
		if err := r.AddFlow(f); err != nil {
			t.Fatal(err)
		}
		m[f.Local] = &modelState{f: f}
	}
	for i, in := range seedFrames() {
		checkAgainstModel(t, r, m, in)
		if t.Failed() {
			t.Fatalf("frame %d: %x", i, in)
		}
	}
	for local, ms := range m {
		st, err := r.FlowStats(local)
		if err != nil {
			t.Fatal(err)
		}
		want := ms.st
		want.Latched = ms.f.Source
		if !want.Latched.IsValid() {
			want.Latched = ms.latched
		}
		if st != want {
			t.Errorf("flow %v stats %+v, model %+v", local, st, want)
		}
	}
}

func checkAgainstModel(tb testing.TB, r *Relay, m map[netip.AddrPort]*modelState, in []byte) {
	tb.Helper()
	orig := bytes.Clone(in)
	ret, out, err := runErr(r, in)
	if errors.Is(err, unix.EINVAL) && len(in) < ethHLen+40 {
		// BPF_PROG_TEST_RUN itself rejects an IP ethertype without a
		// whole IP header; such a frame never reaches TC.
		return
	}
	if err != nil {
		tb.Fatalf("BPF_PROG_TEST_RUN: %v", err)
	}
	wantRet, wantOut := model(orig, m)
	if ret != wantRet {
		tb.Fatalf("verdict %d, model %d", ret, wantRet)
	}
	if wantOut == nil {
		wantOut = orig
	}
	if err := diffFrames(out, wantOut); err != nil {
		tb.Fatalf("verdict %d: %v", ret, err)
	}
}

func seedFrames() [][]byte {
	var fs [][]byte
	for i := range 8 {
		p := pkt{src: customer, dst: edgeA, pt: 0, seq: uint16(65530 + i), ts: uint32(i) * 160, ssrc: 42, payload: bytes.Repeat([]byte{byte(i)}, 160)}
		fs = append(fs, p.bytes())
		q := pkt{src: agent, dst: edgeB, pt: 8, seq: uint16(i), ts: 0xfffffe00 + uint32(i)*160, ssrc: 0x11223344, payload: bytes.Repeat([]byte{byte(i)}, 20+i)}
		fs = append(fs, q.bytes())
	}
	te := pkt{src: customer, dst: edgeA, pt: 101, payload: []byte{1, 0x8a, 0, 160}}
	fs = append(fs, te.bytes())
	nocs := pkt{src: customer, dst: edgeA, pt: 0, seq: 9, noUDPChecksum: true, payload: make([]byte, 3)}
	fs = append(fs, nocs.bytes())
	bad := pkt{src: netip.MustParseAddrPort("10.0.0.66:5000"), dst: edgeB, pt: 8, ssrc: 0x11223344, payload: make([]byte, 16)}
	fs = append(fs, bad.bytes())
	return fs
}

func TestAPIErrors(t *testing.T) {
	_, r := openInNetns(t, Config{Interfaces: []string{"lo"}, MaxFlows: 2})
	f := testFlows()[0]
	bad := []struct {
		name string
		mod  func(*Flow)
		want error
	}{
		{"no local", func(f *Flow) { f.Local = netip.AddrPort{} }, ErrInvalidFlow},
		{"unspecified local", func(f *Flow) { f.Local = netip.MustParseAddrPort("0.0.0.0:4000") }, ErrInvalidFlow},
		{"IPv6 to", func(f *Flow) { f.To = netip.MustParseAddrPort("[::1]:4000") }, ErrInvalidFlow},
		{"port 0 from", func(f *Flow) { f.From = netip.MustParseAddrPort("10.0.0.1:0") }, ErrInvalidFlow},
		{"PT 128", func(f *Flow) { f.PayloadType = 128 }, ErrInvalidFlow},
		{"one MAC", func(f *Flow) { f.DstMAC = macA }, ErrInvalidFlow},
		{"short MAC", func(f *Flow) { f.DstMAC, f.SrcMAC = macA[:4], macB }, ErrInvalidFlow},
		{"egress missing", func(f *Flow) { f.Egress = "nosuchif0" }, ErrNoInterface},
	}
	for _, tc := range bad {
		g := f
		tc.mod(&g)
		if err := r.AddFlow(g); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := r.AddFlow(f); err != nil {
		t.Fatal(err)
	}
	if err := r.AddFlow(f); !errors.Is(err, ErrFlowExists) {
		t.Errorf("second add: %v, want ErrFlowExists", err)
	}
	g := testFlows()[1]
	if err := r.AddFlow(g); err != nil {
		t.Fatal(err)
	}
	h := f
	h.Local = netip.MustParseAddrPort("10.0.0.1:4010")
	if err := r.AddFlow(h); !errors.Is(err, ErrFull) {
		t.Errorf("third flow with max_flows 2: %v, want ErrFull", err)
	}
	if err := r.RemoveFlow(h.Local); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("remove unknown: %v", err)
	}
	if _, err := r.FlowStats(h.Local); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("stats unknown: %v", err)
	}
	if err := r.UpdateFlow(h); !errors.Is(err, ErrUnknownFlow) {
		t.Errorf("update unknown: %v", err)
	}
	if err := r.RemoveFlow(f.Local); err != nil {
		t.Fatal(err)
	}
	if err := r.AddFlow(h); err != nil {
		t.Errorf("add after remove: %v", err)
	}
	if r.Flows() != 2 {
		t.Errorf("Flows() = %d", r.Flows())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if err := r.AddFlow(f); !errors.Is(err, ErrClosed) {
		t.Errorf("add after close: %v", err)
	}

	for _, tc := range []struct {
		cfg  Config
		want error
	}{
		{Config{MaxFlows: 10}, ErrInvalidConfig},
		{Config{Interfaces: []string{"lo"}, MaxFlows: 0}, ErrInvalidConfig},
		{Config{Interfaces: []string{"lo", "lo"}, MaxFlows: 1}, ErrInvalidConfig},
		{Config{Interfaces: []string{"nosuchif0"}, MaxFlows: 1}, ErrNoInterface},
	} {
		if _, err := Open(tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("Open(%+v): %v, want %v", tc.cfg, err, tc.want)
		}
	}
}

// TestUpdateFlowKeepsCounters: new offsets apply, counters and the latched
// source stay.
func TestUpdateFlowKeepsCounters(t *testing.T) {
	_, r := openInNetns(t, DefaultConfig())
	f := testFlows()[0]
	f.Source = netip.AddrPort{}
	if err := r.AddFlow(f); err != nil {
		t.Fatal(err)
	}
	p := pkt{src: customer, dst: edgeA, pt: 0, seq: 10, ts: 1600, ssrc: 1, payload: make([]byte, 160)}
	run(t, r, p.bytes())
	f.SeqOffset, f.TSOffset, f.SSRC = 5, 7, 99
	if err := r.UpdateFlow(f); err != nil {
		t.Fatal(err)
	}
	ret, out := run(t, r, p.bytes())
	got, _ := parseFrame(out)
	if ret != actRedirect || got.seq != 15 || got.ts != 1607 || got.ssrc != 99 {
		t.Fatalf("after update: verdict %d seq %d ts %d ssrc %d", ret, got.seq, got.ts, got.ssrc)
	}
	st, _ := r.FlowStats(edgeA)
	if st.Packets != 2 || st.Latched != customer {
		t.Errorf("stats %+v, want 2 packets, latched %v", st, customer)
	}
}

// TestCloseDetaches: Open attaches one program per interface; Close
// detaches it (nothing is left on TCX ingress) and frees the map.
func TestCloseDetaches(t *testing.T) {
	ns := newNetns(t)
	ipCmd(t, "-n", ns.name, "link", "add", "fpd0", "type", "veth", "peer", "name", "fpd1")
	ipCmd(t, "-n", ns.name, "link", "set", "fpd0", "up")
	attached := func() (n int, err error) {
		err = ns.do(func() error {
			for _, name := range []string{"lo", "fpd0"} {
				ifc, err := net.InterfaceByName(name)
				if err != nil {
					return err
				}
				res, err := link.QueryPrograms(link.QueryOptions{Target: ifc.Index, Attach: ebpf.AttachTCXIngress})
				if err != nil {
					return err
				}
				n += len(res.Programs)
			}
			return nil
		})
		return n, err
	}
	var r *Relay
	if err := ns.do(func() (err error) {
		r, err = Open(Config{Interfaces: []string{"lo", "fpd0"}, MaxFlows: 8})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := attached(); err != nil || n != 2 {
		t.Fatalf("after Open: %d programs on TCX ingress (%v); want 2", n, err)
	}
	mapFD := r.objs.Flows.FD()
	if err := r.AddFlow(testFlows()[0]); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := attached(); err != nil || n != 0 {
		t.Fatalf("after Close: %d programs on TCX ingress (%v); want 0", n, err)
	}
	if mapFD >= 0 && r.objs.Flows.FD() >= 0 {
		t.Errorf("flow map still open after Close")
	}
	// A missing interface in the list: nothing stays attached.
	if err := ns.do(func() error {
		_, err := Open(Config{Interfaces: []string{"lo", "nosuchif0"}, MaxFlows: 8})
		if !errors.Is(err, ErrNoInterface) {
			return fmt.Errorf("open with a missing interface: %v, want ErrNoInterface", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := attached(); err != nil || n != 0 {
		t.Fatalf("after a failed Open: %d programs attached (%v)", n, err)
	}
}

// TestConcurrentFlows: the table is safe for concurrent writers and readers.
func TestConcurrentFlows(t *testing.T) {
	_, r := openInNetns(t, Config{Interfaces: []string{"lo"}, MaxFlows: 64})
	errc := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 50 {
				f := testFlows()[0]
				f.Local = netip.AddrPortFrom(f.Local.Addr(), uint16(10000+g*100+i))
				if err := r.AddFlow(f); err != nil {
					errc <- err
					return
				}
				if _, err := r.FlowStats(f.Local); err != nil {
					errc <- err
					return
				}
				_ = r.Flows()
				if err := r.RemoveFlow(f.Local); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if n := r.Flows(); n != 0 {
		t.Fatalf("%d flows left", n)
	}
}
