package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func near(a, b, eps float64) bool { return math.Abs(a-b) <= eps }

// RFC 3550 A.8 by hand: timestamps 0,160,320,480 arriving at 1000, 1170,
// 1320, 1500 (timestamp units). Transit 1000, 1010, 1000, 1020; |D| = 10,
// 10, 20. J = 10/16 = 0.625; J += (10 − 0.625)/16 → 1.2109375;
// J += (20 − 1.2109375)/16 → 2.38525390625.
func TestRTPStatsJitterWorkedExample(t *testing.T) {
	var st rtpStats
	arr := []uint32{1000, 1170, 1320, 1500}
	wantJ := []float64{0, 0.625, 1.2109375, 2.38525390625}
	for i, a := range arr {
		st.update(uint16(10+i), uint32(160*i), a, true)
		if !near(st.jitter, wantJ[i], 1e-12) {
			t.Fatalf("after packet %d: J = %v, want %v", i, st.jitter, wantJ[i])
		}
	}
	// Timestamps wrapping around 2^32 give the same answer.
	var w rtpStats
	for i, a := range arr {
		w.update(uint16(65534+i), uint32(0xffffff00+160*i), a+0x12345678, true)
	}
	if !near(w.jitter, wantJ[3], 1e-12) {
		t.Errorf("wrapped: J = %v", w.jitter)
	}
	if w.expected() != 4 || w.extMax() != 65536+1 {
		t.Errorf("wrap: expected %d extMax %d", w.expected(), w.extMax())
	}
}

func TestRTPStatsLossCounts(t *testing.T) {
	var st rtpStats
	for _, seq := range []uint16{100, 101, 103, 103, 102, 106} {
		st.update(seq, 0, 0, false)
	}
	// expected 100..106 = 7, received 6 (with one duplicate): lost 1.
	if st.expected() != 7 || st.received != 6 || st.jitter != 0 {
		t.Errorf("expected %d received %d jitter %v", st.expected(), st.received, st.jitter)
	}
	// The sender restarts its sequence far away: totals carry on.
	for _, seq := range []uint16{30000, 30001, 30003} {
		st.update(seq, 0, 0, false)
	}
	if st.expected() != 7+4 || st.received != 9 {
		t.Errorf("after restart: expected %d received %d, want 11 and 9", st.expected(), st.received)
	}
}

// RFC 3550 6.4.1's example: A = 0xb710:8000 (46864.500 s), LSR =
// 0xb705:2000 (46853.125 s), DLSR = 0x0005:4000 (5.250 s) → RTT =
// 0x0006:2000 = 6.125 s.
func TestRTTWorkedExample(t *testing.T) {
	rtt, ok := RTTFromReport(0xb7108000, 0xb7052000, 0x00054000)
	if !ok || rtt != 6125*time.Millisecond {
		t.Errorf("rtt %v %v, want 6.125s", rtt, ok)
	}
	if _, ok := RTTFromReport(0xb7108000, 0, 0); ok {
		t.Error("LSR 0 must give no RTT")
	}
	if _, ok := RTTFromReport(0xb7000000, 0xb7052000, 0x00054000); ok {
		t.Error("negative RTT accepted")
	}
}

func TestEModelWorkedExamples(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delay     time.Duration
		loss, bpl float64
		r, mos    float64
	}{
		// No impairment: R = 93.2 → MOS = 1 + 3.262 + 93.2·33.2·6.8·7e-6 = 4.409.
		{"clean", 0, 0, BplNoPLC, 93.2, 4.4093},
		// 1 % random loss without PLC: Ie,eff = 95·1/(1 + 4.3) = 17.925 → R = 75.275, MOS 3.833.
		{"1% loss", 0, 1, BplNoPLC, 75.2755, 3.8333},
		// with PLC: 95·1/(1 + 25.1) = 3.640 → R = 89.560,
		// MOS = 1 + 3.1346 + 89.56·29.56·10.44·7e-6 = 4.3281.
		{"1% loss PLC", 0, 1, BplPLC, 89.5602, 4.3281},
		// 200 ms one way: Id = 4.8 + 0.11·22.7 = 7.297 → R = 85.903,
		// MOS = 1 + 3.0066 + 85.903·25.903·14.097·7e-6 = 4.2262.
		{"200ms", 200 * time.Millisecond, 0, BplNoPLC, 85.903, 4.2262},
	} {
		r := EModelR(tc.delay, tc.loss, tc.bpl)
		m := MOSFromR(r)
		if !near(r, tc.r, 1e-3) || !near(m, tc.mos, 1e-3) {
			t.Errorf("%s: R %.4f MOS %.4f, want %.4f %.4f", tc.name, r, m, tc.r, tc.mos)
		}
	}
	if MOSFromR(-5) != 1 || MOSFromR(120) != 4.5 {
		t.Error("MOS not clamped")
	}
}

// hand-built SR with one report block about 0xcafe and an SDES chunk.
func workedSR() []byte {
	b := []byte{
		0x81, 200, 0, 12, // SR, RC 1, length 12 words → 52 bytes
		0x11, 0x22, 0x33, 0x44, // sender SSRC
		0xe1, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, // NTP
		0x00, 0x00, 0x10, 0x00, // RTP ts 4096
		0x00, 0x00, 0x00, 0x32, // 50 packets
		0x00, 0x00, 0x1f, 0x40, // 8000 octets
		0x00, 0x00, 0xca, 0xfe, // block about 0xcafe
		0x40, 0xff, 0xff, 0xfe, // fraction 64 (25 %), cumulative lost -2
		0x00, 0x01, 0x00, 0x05, // ext highest seq
		0x00, 0x00, 0x00, 0x2a, // jitter 42
		0xb7, 0x05, 0x20, 0x00, // LSR
		0x00, 0x05, 0x40, 0x00, // DLSR
		0x81, 202, 0, 2, 0x11, 0x22, 0x33, 0x44, 1, 1, 'x', 0, // SDES
	}
	return b
}

func TestParseRTCPWorked(t *testing.T) {
	var rep RTCPReport
	if err := ParseRTCP(workedSR(), 0xcafe, &rep); err != nil {
		t.Fatal(err)
	}
	want := RTCPReport{SR: true, SenderSSRC: 0x11223344, NTP: 0xe100000180000000, RTPTime: 4096, Packets: 50, Octets: 8000,
		HaveBlock: true, Block: ReportBlock{SSRC: 0xcafe, FractionLost: 64, Lost: -2, HighestSeq: 0x10005, Jitter: 42, LSR: 0xb7052000, DLSR: 0x54000}}
	if rep != want {
		t.Errorf("got  %+v\nwant %+v", rep, want)
	}
	if err := ParseRTCP(workedSR(), 0xbeef, &rep); err != nil || rep.HaveBlock {
		t.Errorf("block about another SSRC reported: %+v %v", rep, err)
	}
	bad := map[string][]byte{
		"short":    {0x80, 201, 0},
		"version":  append([]byte{0x41}, workedSR()[1:]...),
		"length":   workedSR()[:40],
		"first":    {0x81, 202, 0, 1, 0, 0, 0, 1},
		"rc":       {0x85, 201, 0, 1, 0, 0, 0, 1},
		"trailing": append(workedSR(), 0x80),
	}
	for name, b := range bad {
		if err := ParseRTCP(b, 0xcafe, &rep); !errors.Is(err, ErrMalformedRTCP) {
			t.Errorf("%s: %v, want ErrMalformedRTCP", name, err)
		}
	}
	good := workedSR()
	if a := testing.AllocsPerRun(100, func() { _ = ParseRTCP(good, 0xcafe, &rep) }); a != 0 {
		t.Errorf("ParseRTCP allocs %v", a)
	}
	if a := testing.AllocsPerRun(100, func() { _ = ParseRTCP(bad["first"], 0xcafe, &rep) }); a != 0 {
		t.Errorf("ParseRTCP (malformed) allocs %v", a)
	}
}

// Our report, parsed back: SR fields, loss fraction over the interval
// (RFC 3550 A.3), cumulative loss, jitter, LSR/DLSR.
func TestBuildReportFractionAndRoundTrip(t *testing.T) {
	clk := NewClock(ClockConfig{Interval: time.Hour}, nil)
	defer clk.Close()
	s := newTestSession(t, clk, DefaultSessionConfig())
	var st rtpStats
	for seq := uint16(1); seq <= 8; seq++ { // 1..8 with 3 and 4 missing: expected 8, received 6
		if seq == 3 || seq == 4 {
			continue
		}
		st.update(seq, uint32(seq)*160, uint32(seq)*160+100, true)
	}
	st.jitter = 80
	s.q.publishRecv(0xabc, &st)
	now := time.Unix(1_700_000_000, 500_000_000)
	s.q.lsr.Store(0x12345678)
	s.q.lsrAt.Store(now.Add(-1500 * time.Millisecond).UnixNano())
	s.tx.packets, s.tx.octets = 10, 1600
	var buf [rtcpMaxPacket]byte
	n, sr := s.buildReport(buf[:], now)
	if !sr || n != 80 {
		t.Fatalf("n %d sr %v", n, sr)
	}
	var rep RTCPReport
	if err := ParseRTCP(buf[:n], 0xabc, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.SenderSSRC != s.SSRC() || rep.Packets != 10 || rep.Octets != 1600 || rep.NTP != ntpTime(now) {
		t.Errorf("sender info %+v", rep)
	}
	// fraction = 2·256/8 = 64; cumulative 2; DLSR 1.5 s = 98304/65536.
	b := rep.Block
	if b.FractionLost != 64 || b.Lost != 2 || b.HighestSeq != 8 || b.Jitter != 80 || b.LSR != 0x12345678 || b.DLSR != 98304 {
		t.Errorf("block %+v", b)
	}
	if string(buf[n-18:n-1]) != fmt.Sprintf("dialedge-%08x", s.SSRC()) {
		t.Errorf("CNAME %q", buf[n-18:n-1])
	}
	// Next interval: 4 more expected, all received → fraction 0, cumulative still 2.
	for seq := uint16(9); seq <= 12; seq++ {
		st.update(seq, 0, 0, false)
	}
	s.q.publishRecv(0xabc, &st)
	s.tx.packets = 0 // nothing sent: RR
	n, sr = s.buildReport(buf[:], now)
	if err := ParseRTCP(buf[:n], 0xabc, &rep); err != nil || sr || rep.SR {
		t.Fatal(err, sr)
	}
	if rep.Block.FractionLost != 0 || rep.Block.Lost != 2 || rep.Block.HighestSeq != 12 {
		t.Errorf("second block %+v", rep.Block)
	}
	if a := testing.AllocsPerRun(50, func() { s.buildReport(buf[:], now) }); a != 0 {
		t.Errorf("buildReport allocs %v", a)
	}
	// Incoming RR about us → remote figures and RTT.
	var in [rtcpMaxPacket]byte
	m, _ := s.buildReport(in[:], now)
	binary.BigEndian.PutUint32(in[8:], s.SSRC()) // make the block about us
	_ = m
	binary.BigEndian.PutUint32(in[24:], 0) // LSR 0: no RTT
	s.handleRTCP(in[:m], netip.MustParseAddrPort("127.0.0.1:5001"), now, &rep)
	if q := s.Quality(); q.RemoteReports != 1 || q.RemoteLost != 2 || q.RTT != 0 {
		t.Errorf("after RR: %+v", q)
	}
}

// Two real sessions with RTCP sockets exchange SR/RR: each learns the
// other's reports and an RTT.
func TestSessionRTCPEndToEnd(t *testing.T) { forEachReceiveMode(t, testSessionRTCPEndToEnd) }

func testSessionRTCPEndToEnd(t *testing.T, pl *Poller) {
	checkLeaks(t)
	clk := clockFor(pl)
	defer clk.Close()
	pair := func() (*net.UDPConn, *net.UDPConn) {
		for range 50 {
			r := listen(t)
			p := addrOf(r).Port()
			if p%2 != 0 {
				r.Close()
				continue
			}
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: int(p) + 1})
			if err != nil {
				r.Close()
				continue
			}
			return r, c
		}
		t.Fatal("no even/odd port pair")
		return nil, nil
	}
	ar, ac := pair()
	br, bc := pair()
	cfg := DefaultSessionConfig()
	cfg.RTCPInterval = 100 * time.Millisecond
	cfg.Poller = pl
	cfg.RTCPConn = ac
	cfg.Remote = addrOf(br)
	a, err := NewSession(ar, clk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	cfg.RTCPConn = bc
	cfg.Remote = addrOf(ar)
	b, err := NewSession(br, clk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	waitFor(t, "RTT from SR/RR exchange", func() bool {
		qa, qb := a.Quality(), b.Quality()
		return qa.RemoteReports >= 2 && qb.RemoteReports >= 2 && qa.SRSent > 0 && qb.SRSent > 0 && qa.RTT > 0 && qb.RTT > 0
	})
	q := a.Quality()
	if q.RTT > time.Second || q.RemoteFractionLost != 0 || q.Received == 0 || q.MOS < 4.3 {
		t.Errorf("quality %+v", q)
	}
	if st := a.Stats(); st.RTCPIn == 0 || st.RTCPOut == 0 || st.RTCPMalformed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func FuzzParseRTCP(f *testing.F) {
	f.Add(workedSR())
	f.Add([]byte{0x80, 201, 0, 1, 0, 0, 0, 1})
	f.Add([]byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0xca, 0xfe, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		var rep RTCPReport
		err := ParseRTCP(b, 0xcafe, &rep)
		if err != nil && !errors.Is(err, ErrMalformedRTCP) {
			t.Fatalf("error %v does not wrap ErrMalformedRTCP", err)
		}
		if err == nil && rep.HaveBlock && rep.Block.SSRC != 0xcafe {
			t.Fatal("block about the wrong SSRC")
		}
	})
}

func TestWriteRTCPSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParseRTCP")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"sr-sdes":   workedSR(),
		"rr-empty":  {0x80, 201, 0, 1, 0, 0, 0, 1},
		"rr-block":  {0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0xca, 0xfe, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5},
		"bye-first": {0x81, 203, 0, 1, 0, 0, 0, 1},
	} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", string(b))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
