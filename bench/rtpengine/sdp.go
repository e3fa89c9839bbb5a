package rtpengine

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrNoAudio means an SDP had no usable audio address.
var ErrNoAudio = errors.New("rtpengine: no audio address in SDP")

// AudioSDP builds a minimal G.711 µ-law SDP offering audio at addr.
func AudioSDP(addr netip.AddrPort, sessID uint64) string {
	ip := addr.Addr().String()
	return "v=0\r\n" +
		"o=- " + strconv.FormatUint(sessID, 10) + " 1 IN IP4 " + ip + "\r\n" +
		"s=dialedge-bench\r\n" +
		"c=IN IP4 " + ip + "\r\n" +
		"t=0 0\r\n" +
		"m=audio " + strconv.Itoa(int(addr.Port())) + " RTP/AVP 0\r\n" +
		"a=rtpmap:0 PCMU/8000\r\n" +
		"a=ptime:20\r\n" +
		"a=sendrecv\r\n"
}

// AudioAddr returns the address of the first audio stream of an SDP: its
// media-level c= line, else the session-level one, with the m=audio port.
func AudioAddr(sdp string) (netip.AddrPort, error) {
	var sessIP, mediaIP netip.Addr
	port := -1
	inAudio := false
	for line := range strings.SplitSeq(sdp, "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.HasPrefix(line, "m="):
			if port >= 0 {
				goto done // only the first audio stream
			}
			f := strings.Fields(line[2:])
			inAudio = len(f) >= 2 && f[0] == "audio"
			if inAudio {
				p, err := strconv.Atoi(f[1])
				if err != nil || p < 0 || p > 65535 {
					return netip.AddrPort{}, fmt.Errorf("%w: m=audio port %q", ErrNoAudio, f[1])
				}
				port = p
			}
		case strings.HasPrefix(line, "c="):
			f := strings.Fields(line[2:])
			if len(f) < 3 {
				return netip.AddrPort{}, fmt.Errorf("%w: c= line %q; want c=IN IP4 address", ErrNoAudio, line)
			}
			ip, err := netip.ParseAddr(strings.SplitN(f[2], "/", 2)[0])
			if err != nil {
				return netip.AddrPort{}, fmt.Errorf("%w: c= address %q", ErrNoAudio, f[2])
			}
			if port >= 0 && inAudio {
				mediaIP = ip
			} else if port < 0 {
				sessIP = ip
			}
		}
	}
done:
	if port < 0 {
		return netip.AddrPort{}, fmt.Errorf("%w: no m=audio line", ErrNoAudio)
	}
	ip := mediaIP
	if !ip.IsValid() {
		ip = sessIP
	}
	if !ip.IsValid() {
		return netip.AddrPort{}, fmt.Errorf("%w: no c= line", ErrNoAudio)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}
