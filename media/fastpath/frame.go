package fastpath

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// frame is an Ethernet/IPv4/UDP/RTP frame as the program sees it on TC
// ingress. The tests and the fuzz target use it as the reference model of
// the program; it aliases the input.
type frame struct {
	dstMAC, srcMAC [6]byte
	ipHeader       []byte // 20 bytes
	src, dst       netip.AddrPort
	ttl            uint8
	ipChecksum     uint16
	udpLen         uint16
	udpChecksum    uint16
	udp            []byte // UDP header and payload (udpLen bytes)
	// RTP fixed header
	version, pt uint8
	marker      bool
	seq         uint16
	ts, ssrc    uint32
}

const (
	ethHLen = 14
	ipHLen  = 20
	udpHLen = 8
	rtpHLen = 12
	minLen  = ethHLen + ipHLen + udpHLen + rtpHLen
)

// parseFrame decodes b with the program's rules: IPv4 without options,
// not a fragment, UDP whose length equals the IP payload, a 12-byte RTP
// header. It says what was wrong otherwise.
func parseFrame(b []byte) (frame, error) {
	var f frame
	if len(b) < minLen {
		return f, fmt.Errorf("%w: %d bytes; need at least %d (Ethernet+IPv4+UDP+RTP headers)", ErrMalformed, len(b), minLen)
	}
	copy(f.dstMAC[:], b[0:6])
	copy(f.srcMAC[:], b[6:12])
	if et := binary.BigEndian.Uint16(b[12:]); et != 0x0800 {
		return f, fmt.Errorf("%w: ethertype %#04x; need IPv4 (0x0800)", ErrMalformed, et)
	}
	ip := b[ethHLen:]
	if ip[0] != 0x45 {
		return f, fmt.Errorf("%w: IP version/IHL byte %#02x; need IPv4 without options (0x45)", ErrMalformed, ip[0])
	}
	if ip[9] != 17 {
		return f, fmt.Errorf("%w: IP protocol %d; need UDP (17)", ErrMalformed, ip[9])
	}
	if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
		return f, fmt.Errorf("%w: IP fragment", ErrMalformed)
	}
	tot := int(binary.BigEndian.Uint16(ip[2:]))
	ulen := int(binary.BigEndian.Uint16(ip[ipHLen+4:]))
	if tot > len(b)-ethHLen || ulen != tot-ipHLen || ulen < udpHLen+rtpHLen {
		return f, fmt.Errorf("%w: IP total length %d, UDP length %d, frame %d bytes; need UDP length = IP length - 20 >= 20 within the frame", ErrMalformed, tot, ulen, len(b))
	}
	f.ipHeader = ip[:ipHLen]
	f.ttl = ip[8]
	f.ipChecksum = binary.BigEndian.Uint16(ip[10:])
	f.src = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), binary.BigEndian.Uint16(ip[20:]))
	f.dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), binary.BigEndian.Uint16(ip[22:]))
	f.udpLen = uint16(ulen)
	f.udpChecksum = binary.BigEndian.Uint16(ip[26:])
	f.udp = ip[ipHLen : ipHLen+ulen]
	rtp := f.udp[udpHLen:]
	f.version = rtp[0] >> 6
	f.marker = rtp[1]&0x80 != 0
	f.pt = rtp[1] & 0x7f
	f.seq = binary.BigEndian.Uint16(rtp[2:])
	f.ts = binary.BigEndian.Uint32(rtp[4:])
	f.ssrc = binary.BigEndian.Uint32(rtp[8:])
	return f, nil
}

// onesSum adds b as big-endian 16-bit words (odd length padded) to sum.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// ipv4Checksum is the header checksum of h (20 bytes) with its checksum
// field taken as zero.
func ipv4Checksum(h []byte) uint16 {
	s := onesSum(0, h[:10])
	s = onesSum(s, h[12:20])
	return ^fold(s)
}

// udpChecksum is the IPv4 UDP checksum of udp (header and payload) with
// its checksum field taken as zero; 0 is sent as 0xffff (RFC 768).
func udpChecksum(src, dst netip.Addr, udp []byte) uint16 {
	s4, d4 := src.As4(), dst.As4()
	s := onesSum(0, s4[:])
	s = onesSum(s, d4[:])
	s += 17 + uint32(len(udp))
	s = onesSum(s, udp[:6])
	s = onesSum(s, udp[8:])
	c := ^fold(s)
	if c == 0 {
		c = 0xffff
	}
	return c
}
