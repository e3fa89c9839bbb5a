// Package fastpath is the kernel fast path for bridged RTP legs whose codecs
// match: an eBPF program on TCX ingress (github.com/cilium/ebpf) rewrites
// each RTP packet addressed to one edge leg into the packet the other leg
// would have sent (IP and UDP addresses, SSRC, sequence number and
// timestamp offsets, IP and UDP checksums) and redirects it out of the
// egress interface, the way rtpengine's kernel module forwards — without a
// system call, a copy to userspace or a goroutine wake-up per packet.
//
// A flow is keyed by the edge leg's local IPv4 address and UDP port. Only
// IPv4 UDP RTP version 2 packets with the flow's payload type from the
// flow's (possibly latched) source are forwarded; everything else — RTCP,
// telephone-event, foreign sources, malformed or truncated packets, IPv6 —
// goes up the stack unchanged to the leg's userspace socket, so the
// userspace session keeps handling RTCP, DTMF and SSRC changes.
//
// The package owns the BPF objects and the TCX links it attaches; Close
// detaches and frees all of them. All methods of Relay are safe for
// concurrent use. When eBPF is unavailable, Open returns an error wrapping
// ErrNotSupported or ErrPermission, and the caller keeps using the
// userspace relay (media.SharedRelay / media.Bridge).
package fastpath
