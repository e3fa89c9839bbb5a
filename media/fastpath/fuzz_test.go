//go:build linux

package fastpath

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
)

// FuzzParseFrame: the Go parser never panics, and what it accepts is
// consistent with the bytes.
func FuzzParseFrame(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := parseFrame(b)
		if err != nil {
			return
		}
		if len(fr.udp) != int(fr.udpLen) || int(fr.udpLen) < udpHLen+rtpHLen || len(b) < ethHLen+ipHLen+int(fr.udpLen) {
			t.Fatalf("inconsistent lengths: udp %d, udpLen %d, frame %d", len(fr.udp), fr.udpLen, len(b))
		}
		if fr.seq != binary.BigEndian.Uint16(fr.udp[udpHLen+2:]) || fr.src.Port() != binary.BigEndian.Uint16(fr.udp) {
			t.Fatal("fields do not alias the frame")
		}
		if got := decodeSource(encodeSource(fr.src)); got != fr.src {
			t.Fatalf("source round trip %v → %v", fr.src, got)
		}
	})
}

// FuzzProgram is a differential fuzz target: every frame goes through the
// BPF program (BPF_PROG_TEST_RUN) and the Go model, which must agree on
// the verdict and on every output byte (checksums modulo ±0), with the
// flow state (latching, counters) evolving in step. Needs root.
func FuzzProgram(f *testing.F) {
	_, r := openInNetns(f, DefaultConfig())
	m := map[netip.AddrPort]*modelState{}
	for _, fl := range testFlows() {
		if err := r.AddFlow(fl); err != nil {
			f.Fatal(err)
		}
		m[fl.Local] = &modelState{f: fl}
	}
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Add(make([]byte, 14))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 14 || len(b) > 1514 {
			return // BPF_PROG_TEST_RUN wants an Ethernet header and at most about a page; RTP fits one Ethernet frame
		}
		checkAgainstModel(t, r, m, bytes.Clone(b))
	})
}
