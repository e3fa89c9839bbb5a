// SPDX-License-Identifier: Apache-2.0
//
// In-kernel RTP relay for bridged legs whose codecs match: a TC (TCX
// ingress) program that rewrites an RTP packet addressed to one edge leg
// into the packet the other leg would have sent, and redirects it out.
// Everything it does not forward goes up the stack unchanged (TC_ACT_OK).
//
// Generated into Go by bpf2go (see ../gen.go); the Go side owns the map.

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define IP_HLEN 20
#define UDP_HLEN 8
#define RTP_HLEN 12
#define PROTO_UDP 17

#define IP_OFF ETH_HLEN
#define UDP_OFF (ETH_HLEN + IP_HLEN)
#define RTP_OFF (UDP_OFF + UDP_HLEN)
#define MIN_LEN (RTP_OFF + RTP_HLEN)

/* flow_value.flags */
#define FLAG_SET_MAC 1      /* write dst_mac/src_mac into the Ethernet header */
#define FLAG_NEIGH 2        /* bpf_redirect_neigh: the kernel fills in L2 */
#define FLAG_DROP_FOREIGN 4 /* drop (not pass up) packets from a foreign source */
#define FLAG_MATCH_SSRC 8   /* forward only packets with SSRC in_ssrc */

#define SOURCE_SET (1ULL << 48)

/* Addresses and ports in network byte order, as on the wire. */
struct flow_key {
	__u32 addr; /* local IPv4 address of the edge leg */
	__u16 port; /* local UDP port of the edge leg */
	__u16 pad;  /* zero */
};

struct flow_value {
	__u32 src_addr;   /* new IP source (the other leg's local address) */
	__u32 dst_addr;   /* new IP destination (the other leg's peer) */
	__u16 src_port;   /* new UDP source port, network order */
	__u16 dst_port;   /* new UDP destination port, network order */
	__u32 ssrc;       /* new SSRC, host order */
	__u32 in_ssrc;    /* expected input SSRC (FLAG_MATCH_SSRC), host order */
	__u32 ts_off;     /* added to the RTP timestamp, host order */
	__u16 seq_off;    /* added to the RTP sequence number, host order */
	__u8 pt;          /* payload type forwarded; others pass up */
	__u8 flags;       /* FLAG_* */
	__u32 ifindex;    /* egress interface */
	__u8 dst_mac[6];  /* FLAG_SET_MAC: new Ethernet destination */
	__u8 src_mac[6];  /* FLAG_SET_MAC: new Ethernet source (follows dst_mac) */
	/* Expected source: saddr | sport << 32 | SOURCE_SET (both network
	 * order), or 0 until the first RTP packet latches it. */
	__u64 source;
	/* Counters, updated atomically. */
	__u64 packets; /* forwarded */
	__u64 bytes;   /* forwarded IP bytes */
	__u64 foreign; /* from a source other than the latched one */
	__u64 passed;  /* addressed to the flow but not forwarded (not RTP v2,
	                  other payload type, other SSRC, malformed) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096); /* replaced by the loader (Config.MaxFlows) */
	__type(key, struct flow_key);
	__type(value, struct flow_value);
} flows SEC(".maps");

static __always_inline int pass_up(struct flow_value *v)
{
	__sync_fetch_and_add(&v->passed, 1);
	return TC_ACT_OK;
}

SEC("tc")
int rtp_relay(struct __sk_buff *skb)
{
	if (skb->len < MIN_LEN)
		return TC_ACT_OK;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (data + MIN_LEN > end) {
		/* Headers not in the linear part: pull them, then reload. */
		if (bpf_skb_pull_data(skb, MIN_LEN) < 0)
			return TC_ACT_OK;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (data + MIN_LEN > end)
			return TC_ACT_OK;
	}
	__u8 *p = data;
	if (*(__u16 *)(p + 12) != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	/* IPv4 without options, not a fragment, UDP. */
	if (p[IP_OFF] != 0x45 || p[IP_OFF + 9] != PROTO_UDP)
		return TC_ACT_OK;
	if (*(__u16 *)(p + IP_OFF + 6) & bpf_htons(0x3fff))
		return TC_ACT_OK;

	struct flow_key key = {
		.addr = *(__u32 *)(p + IP_OFF + 16),
		.port = *(__u16 *)(p + UDP_OFF + 2),
		.pad = 0,
	};
	struct flow_value *v = bpf_map_lookup_elem(&flows, &key);
	if (!v)
		return TC_ACT_OK;

	/* Lengths must agree: IP total length within the frame, UDP length
	 * equal to the IP payload, room for the RTP header. */
	__u32 tot = bpf_ntohs(*(__u16 *)(p + IP_OFF + 2));
	__u32 ulen = bpf_ntohs(*(__u16 *)(p + UDP_OFF + 4));
	if (tot > skb->len - ETH_HLEN || ulen != tot - IP_HLEN || ulen < UDP_HLEN + RTP_HLEN)
		return pass_up(v);
	__u8 *rtp = p + RTP_OFF;
	if ((rtp[0] >> 6) != 2 || (rtp[1] & 0x7f) != v->pt)
		return pass_up(v);

	__u64 src = (__u64) * (__u32 *)(p + IP_OFF + 12) |
		    ((__u64) * (__u16 *)(p + UDP_OFF) << 32) | SOURCE_SET;
	__u64 want = v->source;
	if (want == 0) {
		want = __sync_val_compare_and_swap(&v->source, 0, src);
		if (want == 0)
			want = src; /* we latched it */
	}
	if (want != src) {
		__sync_fetch_and_add(&v->foreign, 1);
		return (v->flags & FLAG_DROP_FOREIGN) ? TC_ACT_SHOT : TC_ACT_OK;
	}

	__u32 old_rtp[3], new_rtp[3];
	__builtin_memcpy(old_rtp, rtp, RTP_HLEN);
	if ((v->flags & FLAG_MATCH_SSRC) && bpf_ntohl(old_rtp[2]) != v->in_ssrc)
		return pass_up(v);

	__u32 old_ip[2], new_ip[2];
	__builtin_memcpy(old_ip, p + IP_OFF + 12, 8);
	new_ip[0] = v->src_addr;
	new_ip[1] = v->dst_addr;
	__u16 old_ports[2], new_ports[2];
	__builtin_memcpy(old_ports, p + UDP_OFF, 4);
	new_ports[0] = v->src_port;
	new_ports[1] = v->dst_port;

	/* RTP: byte 0-1 unchanged, then seq, timestamp, SSRC. */
	__u16 seq = bpf_ntohs(*(__u16 *)(rtp + 2)) + v->seq_off;
	__u32 ts = bpf_ntohl(old_rtp[1]) + v->ts_off;
	__builtin_memcpy(new_rtp, old_rtp, 2);
	*(__u16 *)((__u8 *)new_rtp + 2) = bpf_htons(seq);
	new_rtp[1] = bpf_htonl(ts);
	new_rtp[2] = bpf_htonl(v->ssrc);

	/* From here on packet pointers are invalid (helpers may move data). */
	__s64 d3 = bpf_csum_diff(old_ip, sizeof(old_ip), new_ip, sizeof(new_ip), 0);
	__s64 d4 = bpf_csum_diff((__u32 *)old_ports, 4, (__u32 *)new_ports, 4, 0);
	if (d3 < 0 || d4 < 0)
		return pass_up(v);
	d4 = bpf_csum_diff(old_rtp, sizeof(old_rtp), new_rtp, sizeof(new_rtp), (__u32)d4);
	if (d4 < 0)
		return pass_up(v);

	if (bpf_skb_store_bytes(skb, IP_OFF + 12, new_ip, sizeof(new_ip), 0) ||
	    bpf_l3_csum_replace(skb, IP_OFF + 10, 0, (__u32)d3, 0) ||
	    bpf_skb_store_bytes(skb, UDP_OFF, new_ports, sizeof(new_ports), 0) ||
	    bpf_skb_store_bytes(skb, RTP_OFF, new_rtp, sizeof(new_rtp), 0) ||
	    bpf_l4_csum_replace(skb, UDP_OFF + 6, 0, (__u32)d3,
				BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0) ||
	    bpf_l4_csum_replace(skb, UDP_OFF + 6, 0, (__u32)d4, BPF_F_MARK_MANGLED_0))
		return TC_ACT_SHOT; /* half-rewritten: never deliver it */
	if ((v->flags & FLAG_SET_MAC) && bpf_skb_store_bytes(skb, 0, v->dst_mac, 12, 0))
		return TC_ACT_SHOT;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, tot);
	if (v->flags & FLAG_NEIGH)
		return bpf_redirect_neigh(v->ifindex, 0, 0, 0);
	return bpf_redirect(v->ifindex, 0);
}

char __license[] SEC("license") = "Apache-2.0";
