package sdp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Codec is an RTP audio payload format.
type Codec struct {
	Name        string // encoding name as in a=rtpmap, e.g. "PCMU"
	PayloadType uint8  // RTP payload type; static types (<96) need no rtpmap
	ClockRate   uint32 // Hz; 8000 for G.711
}

// String returns "NAME/PT", e.g. "PCMU/0".
func (c Codec) String() string {
	return c.Name + "/" + strconv.Itoa(int(c.PayloadType))
}

// The G.711 codecs dialedge speaks.
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// DefaultCodecs is the offer order used when a caller passes none.
var DefaultCodecs = []Codec{PCMU, PCMA}

// Stream directions (RFC 4566 section 6, RFC 3264 section 6.1).
const (
	SendRecv = "sendrecv"
	SendOnly = "sendonly"
	RecvOnly = "recvonly"
	Inactive = "inactive"
)

// Defaults used when a parameter is zero.
const (
	DefaultDTMFPayloadType = 101
	DefaultPtime           = 20
)

// staticPT maps the RFC 3551 static audio payload types to their encoding,
// used when a description lists a static type without a=rtpmap.
var staticPT = map[uint8]Codec{
	0:  {Name: "PCMU", PayloadType: 0, ClockRate: 8000},
	3:  {Name: "GSM", PayloadType: 3, ClockRate: 8000},
	4:  {Name: "G723", PayloadType: 4, ClockRate: 8000},
	5:  {Name: "DVI4", PayloadType: 5, ClockRate: 8000},
	6:  {Name: "DVI4", PayloadType: 6, ClockRate: 16000},
	7:  {Name: "LPC", PayloadType: 7, ClockRate: 8000},
	8:  {Name: "PCMA", PayloadType: 8, ClockRate: 8000},
	9:  {Name: "G722", PayloadType: 9, ClockRate: 8000},
	10: {Name: "L16", PayloadType: 10, ClockRate: 44100},
	11: {Name: "L16", PayloadType: 11, ClockRate: 44100},
	12: {Name: "QCELP", PayloadType: 12, ClockRate: 8000},
	13: {Name: "CN", PayloadType: 13, ClockRate: 8000},
	14: {Name: "MPA", PayloadType: 14, ClockRate: 90000},
	15: {Name: "G728", PayloadType: 15, ClockRate: 8000},
	18: {Name: "G729", PayloadType: 18, ClockRate: 8000},
}

// MLine summarises one m= line of a parsed description. BuildAnswer uses it to
// reject, with port 0, the streams other than the negotiated audio stream.
type MLine struct {
	Media  string // "audio", "video", ...
	Proto  string // "RTP/AVP", ...
	Format string // first format of the line
}

// Media is the negotiated view of a remote description's audio stream.
type Media struct {
	// Addr is the remote RTP address (media-level c= overrides session-level).
	// Its address is unspecified (0.0.0.0) for RFC 2543 style hold.
	Addr netip.AddrPort
	// Codec is the chosen encoding name as the remote wrote it upper-cased
	// (e.g. "PCMU"), PayloadType its payload type in the remote description
	// and ClockRate its clock rate.
	Codec       string
	PayloadType uint8
	ClockRate   uint32
	// DTMFPayloadType is the remote's telephone-event/8000 payload type, 0 if
	// the remote did not list telephone-event.
	DTMFPayloadType uint8
	// Direction is the remote's effective direction from its own point of
	// view: sendrecv (the default), sendonly, recvonly or inactive. A c= of
	// 0.0.0.0 (RFC 2543 hold) downgrades sendrecv to sendonly and recvonly to
	// inactive, since the remote then receives nothing.
	Direction string
	// Hold reports a hold request: Direction is sendonly or inactive, or the
	// connection address is unspecified.
	Hold bool
	// Ptime is a=ptime in milliseconds, DefaultPtime when absent.
	Ptime int
	// SessionID and SessionVersion come from the remote o= line.
	SessionID, SessionVersion uint64
	// Index is the position of the chosen audio line among Lines.
	Index int
	// Lines lists every m= line of the description, in order.
	Lines []MLine
}

// Reverse returns the direction an answerer uses for an offered direction:
// sendonly becomes recvonly, recvonly becomes sendonly, the others stay.
func Reverse(direction string) string {
	switch direction {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	default:
		return SendRecv
	}
}

// OfferParams describes our side of an offer.
type OfferParams struct {
	SessionID      uint64 // o= sess-id; any value, typically random or time based
	SessionVersion uint64 // o= sess-version; bump on every re-offer
	Username       string // o= username; "-" when empty
	// Addr is our RTP address; it must be a valid IP and port (port 0 is
	// allowed only to reject the stream).
	Addr netip.AddrPort
	// Codecs in preference order; DefaultCodecs when empty.
	Codecs []Codec
	// DTMFPayloadType for telephone-event/8000, 96..127; DefaultDTMFPayloadType
	// when 0.
	DTMFPayloadType uint8
	// Ptime in ms (10..120); DefaultPtime when 0.
	Ptime int
	// Direction: sendrecv (default when empty), sendonly, recvonly or inactive.
	Direction string
}

// AnswerParams describes our side of an answer.
type AnswerParams struct {
	SessionID      uint64
	SessionVersion uint64
	Username       string
	Addr           netip.AddrPort // our RTP address
	Codec          Codec          // the single codec we answer with
	// DTMFPayloadType is the telephone-event PT to answer with (normally the
	// offer's); 0 omits telephone-event.
	DTMFPayloadType uint8
	Ptime           int    // DefaultPtime when 0
	Direction       string // our direction; sendrecv when empty
	// Offer, when set, is the parsed offer: the answer then keeps the offer's
	// m= line count and order, rejecting (port 0) every line but Offer.Index.
	Offer *Media
}

func validDirection(d string) bool {
	switch d {
	case SendRecv, SendOnly, RecvOnly, Inactive:
		return true
	}
	return false
}

func checkCommon(addr netip.AddrPort, ptime *int, direction *string) error {
	if !addr.Addr().IsValid() {
		return fmt.Errorf("%w: Addr %q is not a valid IP address and port", ErrInvalidParams, addr.String())
	}
	if *ptime == 0 {
		*ptime = DefaultPtime
	}
	if *ptime < 10 || *ptime > 120 {
		return fmt.Errorf("%w: Ptime %d out of range, allowed 10..120 ms", ErrInvalidParams, *ptime)
	}
	if *direction == "" {
		*direction = SendRecv
	}
	if !validDirection(*direction) {
		return fmt.Errorf("%w: Direction %q, allowed sendrecv, sendonly, recvonly, inactive", ErrInvalidParams, *direction)
	}
	return nil
}

func checkCodec(c Codec) error {
	if c.Name == "" || strings.ContainsAny(c.Name, " /\r\n\t") {
		return fmt.Errorf("%w: codec name %q must be a non-empty token", ErrInvalidParams, c.Name)
	}
	if c.PayloadType > 127 {
		return fmt.Errorf("%w: codec %s payload type %d, allowed 0..127", ErrInvalidParams, c.Name, c.PayloadType)
	}
	if c.ClockRate == 0 {
		return fmt.Errorf("%w: codec %s clock rate 0, must be positive", ErrInvalidParams, c.Name)
	}
	return nil
}

func newDescription(id, version uint64, user string, addr netip.Addr) *psdp.SessionDescription {
	if user == "" {
		user = "-"
	}
	addrType := "IP4"
	a := addr.Unmap()
	if a.Is6() {
		addrType = "IP6"
	}
	return &psdp.SessionDescription{
		Version: 0,
		Origin: psdp.Origin{
			Username:       user,
			SessionID:      id,
			SessionVersion: version,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: a.String(),
		},
		SessionName: "dialedge",
		ConnectionInformation: &psdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &psdp.Address{Address: a.String()},
		},
		TimeDescriptions: []psdp.TimeDescription{{Timing: psdp.Timing{}}},
	}
}

func audioLine(port uint16, codecs []Codec, dtmf uint8, ptime int, direction string) *psdp.MediaDescription {
	md := &psdp.MediaDescription{
		MediaName: psdp.MediaName{
			Media:  "audio",
			Port:   psdp.RangedPort{Value: int(port)},
			Protos: []string{"RTP", "AVP"},
		},
	}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PayloadType))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, psdp.NewAttribute("rtpmap", pt+" "+c.Name+"/"+strconv.FormatUint(uint64(c.ClockRate), 10)))
	}
	if dtmf != 0 {
		pt := strconv.Itoa(int(dtmf))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes,
			psdp.NewAttribute("rtpmap", pt+" telephone-event/8000"),
			psdp.NewAttribute("fmtp", pt+" 0-16"))
	}
	md.Attributes = append(md.Attributes,
		psdp.NewAttribute("ptime", strconv.Itoa(ptime)),
		psdp.NewPropertyAttribute(direction))
	return md
}

// BuildOffer returns an SDP offer for one audio stream: the codecs in order,
// telephone-event/8000 with fmtp 0-16, a=ptime and the direction attribute.
func BuildOffer(p OfferParams) ([]byte, error) {
	if err := checkCommon(p.Addr, &p.Ptime, &p.Direction); err != nil {
		return nil, err
	}
	codecs := p.Codecs
	if len(codecs) == 0 {
		codecs = DefaultCodecs
	}
	for _, c := range codecs {
		if err := checkCodec(c); err != nil {
			return nil, err
		}
	}
	if p.DTMFPayloadType == 0 {
		p.DTMFPayloadType = DefaultDTMFPayloadType
	}
	if p.DTMFPayloadType < 96 || p.DTMFPayloadType > 127 {
		return nil, fmt.Errorf("%w: DTMFPayloadType %d, allowed 96..127 (dynamic range)", ErrInvalidParams, p.DTMFPayloadType)
	}
	for _, c := range codecs {
		if c.PayloadType == p.DTMFPayloadType {
			return nil, fmt.Errorf("%w: DTMFPayloadType %d collides with codec %s", ErrInvalidParams, p.DTMFPayloadType, c)
		}
	}
	d := newDescription(p.SessionID, p.SessionVersion, p.Username, p.Addr.Addr())
	d.MediaDescriptions = []*psdp.MediaDescription{audioLine(p.Addr.Port(), codecs, p.DTMFPayloadType, p.Ptime, p.Direction)}
	return d.Marshal()
}

// BuildAnswer returns an SDP answer carrying the single chosen codec (and
// telephone-event when DTMFPayloadType is set). With p.Offer set, the other
// m= lines of the offer are answered with port 0 (rejected).
func BuildAnswer(p AnswerParams) ([]byte, error) {
	if err := checkCommon(p.Addr, &p.Ptime, &p.Direction); err != nil {
		return nil, err
	}
	if err := checkCodec(p.Codec); err != nil {
		return nil, err
	}
	if p.DTMFPayloadType != 0 && (p.DTMFPayloadType < 96 || p.DTMFPayloadType > 127) {
		return nil, fmt.Errorf("%w: DTMFPayloadType %d, allowed 0 (none) or 96..127", ErrInvalidParams, p.DTMFPayloadType)
	}
	d := newDescription(p.SessionID, p.SessionVersion, p.Username, p.Addr.Addr())
	audio := audioLine(p.Addr.Port(), []Codec{p.Codec}, p.DTMFPayloadType, p.Ptime, p.Direction)
	if p.Offer == nil || len(p.Offer.Lines) == 0 {
		d.MediaDescriptions = []*psdp.MediaDescription{audio}
		return d.Marshal()
	}
	if p.Offer.Index < 0 || p.Offer.Index >= len(p.Offer.Lines) {
		return nil, fmt.Errorf("%w: Offer.Index %d outside the offer's %d m= lines", ErrInvalidParams, p.Offer.Index, len(p.Offer.Lines))
	}
	for i, l := range p.Offer.Lines {
		if i == p.Offer.Index {
			d.MediaDescriptions = append(d.MediaDescriptions, audio)
			continue
		}
		proto := strings.Split(l.Proto, "/")
		format := l.Format
		if format == "" {
			format = "0"
		}
		d.MediaDescriptions = append(d.MediaDescriptions, &psdp.MediaDescription{
			MediaName: psdp.MediaName{Media: l.Media, Port: psdp.RangedPort{Value: 0}, Protos: proto, Formats: []string{format}},
		})
	}
	return d.Marshal()
}

// ParseAnswer parses the remote answer to our offer. It picks the first
// audio m= line and, in the answer's order, the first codec that we offered
// (matched by encoding name, case-insensitively, and clock rate; static
// payload types need no rtpmap). An answer with no such codec yields an error
// wrapping ErrNoCommonCodec that lists both sides.
func ParseAnswer(body []byte, offered []Codec) (Media, error) {
	if len(offered) == 0 {
		offered = DefaultCodecs
	}
	return parse(body, offered, "answer")
}

// ParseOffer parses a remote offer (an initial INVITE at a UAS, or a
// re-INVITE) and picks, in the offer's preference order, the first codec in
// supported (DefaultCodecs when empty).
func ParseOffer(body []byte, supported []Codec) (Media, error) {
	if len(supported) == 0 {
		supported = DefaultCodecs
	}
	return parse(body, supported, "offer")
}

func parse(body []byte, ours []Codec, kind string) (m Media, err error) {
	// pion/sdp is fuzzed upstream, but a remote body must never take the
	// process down: turn any parser panic into an error.
	defer func() {
		if r := recover(); r != nil {
			m = Media{}
			err = fmt.Errorf("%w: %s: parser failure: %v", ErrMalformed, kind, r)
		}
	}()
	if len(body) == 0 {
		return Media{}, fmt.Errorf("%w: %s: empty body", ErrMalformed, kind)
	}
	var d psdp.SessionDescription
	if err := d.Unmarshal(body); err != nil {
		return Media{}, fmt.Errorf("%w: %s: %v", ErrMalformed, kind, err)
	}
	m.SessionID = d.Origin.SessionID
	m.SessionVersion = d.Origin.SessionVersion
	m.Index = -1
	for i, md := range d.MediaDescriptions {
		l := MLine{Media: md.MediaName.Media, Proto: strings.Join(md.MediaName.Protos, "/")}
		if len(md.MediaName.Formats) > 0 {
			l.Format = md.MediaName.Formats[0]
		}
		m.Lines = append(m.Lines, l)
		if m.Index < 0 && strings.EqualFold(md.MediaName.Media, "audio") {
			m.Index = i
		}
	}
	if m.Index < 0 {
		return Media{}, fmt.Errorf("%w: %s has %d m= lines, none is audio", ErrNoAudio, kind, len(d.MediaDescriptions))
	}
	md := d.MediaDescriptions[m.Index]

	port := md.MediaName.Port.Value
	if port < 0 || port > 65535 {
		return Media{}, fmt.Errorf("%w: %s: m=audio port %d, allowed 0..65535", ErrMalformed, kind, port)
	}
	if port == 0 {
		return Media{}, fmt.Errorf("%w: %s: m=audio port is 0", ErrRejected, kind)
	}
	if !strings.Contains(strings.ToUpper(strings.Join(md.MediaName.Protos, "/")), "RTP/AVP") {
		return Media{}, fmt.Errorf("%w: %s: m=audio proto %q, allowed RTP/AVP", ErrMalformed, kind, strings.Join(md.MediaName.Protos, "/"))
	}

	ci := md.ConnectionInformation
	if ci == nil {
		ci = d.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return Media{}, fmt.Errorf("%w: %s: no c= line at session or audio media level", ErrMalformed, kind)
	}
	if !strings.EqualFold(ci.NetworkType, "IN") {
		return Media{}, fmt.Errorf("%w: %s: c= network type %q, allowed IN", ErrMalformed, kind, ci.NetworkType)
	}
	ip, perr := netip.ParseAddr(ci.Address.Address)
	if perr != nil {
		return Media{}, fmt.Errorf("%w: %s: c= address %q is not an IP address (host names are not resolved)", ErrMalformed, kind, ci.Address.Address)
	}
	ip = ip.Unmap()
	m.Addr = netip.AddrPortFrom(ip, uint16(port))

	// Direction: media level overrides session level.
	m.Direction = SendRecv
	for _, a := range d.Attributes {
		if validDirection(a.Key) {
			m.Direction = a.Key
		}
	}
	for _, a := range md.Attributes {
		if validDirection(a.Key) {
			m.Direction = a.Key
		}
	}
	if ip.IsUnspecified() {
		switch m.Direction {
		case SendRecv:
			m.Direction = SendOnly
		case RecvOnly:
			m.Direction = Inactive
		}
	}
	m.Hold = m.Direction == SendOnly || m.Direction == Inactive || ip.IsUnspecified()

	m.Ptime = DefaultPtime
	if v, ok := md.Attribute("ptime"); ok {
		pt, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || pt <= 0 || pt > 1000 {
			return Media{}, fmt.Errorf("%w: %s: a=ptime %q, want a positive integer of ms", ErrMalformed, kind, v)
		}
		m.Ptime = pt
	}

	// Map each listed format to its codec.
	rtpmap := map[uint8]Codec{}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		c, err := parseRtpmap(a.Value)
		if err != nil {
			return Media{}, fmt.Errorf("%w: %s: %v", ErrMalformed, kind, err)
		}
		rtpmap[c.PayloadType] = c
	}
	var remote []Codec
	chosen := false
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil || n > 127 {
			return Media{}, fmt.Errorf("%w: %s: m=audio format %q is not a payload type 0..127", ErrMalformed, kind, f)
		}
		pt := uint8(n)
		c, ok := rtpmap[pt]
		if !ok {
			c, ok = staticPT[pt]
		}
		if !ok {
			c = Codec{Name: "?", PayloadType: pt}
		}
		remote = append(remote, c)
		if strings.EqualFold(c.Name, "telephone-event") {
			if m.DTMFPayloadType == 0 && (c.ClockRate == 8000 || c.ClockRate == 0) {
				m.DTMFPayloadType = pt
			}
			continue
		}
		if chosen {
			continue
		}
		for _, o := range ours {
			if strings.EqualFold(o.Name, c.Name) && (c.ClockRate == 0 || c.ClockRate == o.ClockRate) {
				m.Codec = strings.ToUpper(c.Name)
				m.PayloadType = pt
				m.ClockRate = o.ClockRate
				chosen = true
				break
			}
		}
	}
	if !chosen {
		return Media{}, fmt.Errorf("%w: offered %s; %s had %s", ErrNoCommonCodec, codecList(ours), kind, codecList(remote))
	}
	return m, nil
}

func codecList(cs []Codec) string {
	if len(cs) == 0 {
		return "none"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ", ")
}

// parseRtpmap parses "<pt> <name>/<rate>[/<channels>]".
func parseRtpmap(v string) (Codec, error) {
	ptStr, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return Codec{}, fmt.Errorf("a=rtpmap:%q, want \"<pt> <name>/<rate>\"", v)
	}
	n, err := strconv.ParseUint(ptStr, 10, 8)
	if err != nil || n > 127 {
		return Codec{}, fmt.Errorf("a=rtpmap:%q payload type, want 0..127", v)
	}
	parts := strings.Split(strings.TrimSpace(rest), "/")
	if len(parts) < 2 || parts[0] == "" {
		return Codec{}, fmt.Errorf("a=rtpmap:%q, want \"<pt> <name>/<rate>\"", v)
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return Codec{}, fmt.Errorf("a=rtpmap:%q clock rate, want a positive integer", v)
	}
	return Codec{Name: parts[0], PayloadType: uint8(n), ClockRate: uint32(rate)}, nil
}
