// SPDX-License-Identifier: Apache-2.0
//
// Kernel receive ring for RTP/RTCP legs: a TC (TCX ingress) program that
// copies each UDP datagram addressed to a registered edge port into a BPF
// ring buffer and drops the packet, so the edge reads its legs' media from
// shared memory instead of with one epoll pass and one recvfrom(2) per
// datagram. Anything it does not take (other ports, IPv6, IP options,
// fragments, datagrams over MAX_BIG bytes, or a full ring) goes on
// unchanged (TCX_NEXT) to the next program and the leg's socket: nothing
// is lost when the ring cannot take a packet.
//
// Generated into Go by bpf2go (see ../gen.go); the Go side owns the maps.

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define IP_HLEN 20
#define UDP_HLEN 8
#define PROTO_UDP 17

#define IP_OFF ETH_HLEN
#define UDP_OFF (ETH_HLEN + IP_HLEN)
#define PAY_OFF (UDP_OFF + UDP_HLEN)

#ifndef TCX_NEXT
#define TCX_NEXT -1
#endif

/* Record payload sizes: one G.711 20 ms RTP packet (172 bytes) fits the
 * small record; larger datagrams up to MAX_BIG take a big one. */
#define MAX_SMALL 192
#define MAX_BIG 1024

/* The port table is an array indexed by local UDP port (host order): one
 * direct lookup per packet, also for the packets that are not ours. */
struct port_entry {
	__u32 addr; /* local IPv4 address, network order; 0: any (wildcard bind) */
	__u32 used; /* 1: registered */
	__u64 tag;  /* the Go side's value for the port */
};

/* Every record starts with this header; the datagram follows. */
struct rec_hdr {
	__u64 tag;   /* the Go side's value for the port */
	__u32 saddr; /* source IPv4 address, network order */
	__u16 sport; /* source port, network order */
	__u16 len;   /* datagram (UDP payload) length */
};

struct rec_small {
	struct rec_hdr h;
	__u8 data[MAX_SMALL];
};

struct rec_big {
	struct rec_hdr h;
	__u8 data[MAX_BIG];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct port_entry);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 23); /* replaced by the loader (Config.RingBytes) */
} ring SEC(".maps");

/* Counters: 0 taken into the ring, 1 passed on because the ring was
 * full, 2 passed on because the datagram was too big or malformed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		*c += 1;
}

SEC("tc")
int rx_ring(struct __sk_buff *skb)
{
	if (skb->len < PAY_OFF)
		return TCX_NEXT;
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (data + PAY_OFF > end) {
		if (bpf_skb_pull_data(skb, PAY_OFF) < 0)
			return TCX_NEXT;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
		if (data + PAY_OFF > end)
			return TCX_NEXT;
	}
	__u8 *p = data;
	if (*(__u16 *)(p + 12) != bpf_htons(ETH_P_IP))
		return TCX_NEXT;
	/* IPv4 without options, not a fragment, UDP. */
	if (p[IP_OFF] != 0x45 || p[IP_OFF + 9] != PROTO_UDP)
		return TCX_NEXT;
	if (*(__u16 *)(p + IP_OFF + 6) & bpf_htons(0x3fff))
		return TCX_NEXT;

	__u32 port = bpf_ntohs(*(__u16 *)(p + UDP_OFF + 2));
	struct port_entry *e = bpf_map_lookup_elem(&ports, &port);
	if (!e || !e->used)
		return TCX_NEXT;
	if (e->addr != 0 && e->addr != *(__u32 *)(p + IP_OFF + 16))
		return TCX_NEXT;

	/* Lengths must agree: IP total length within the frame, UDP length
	 * equal to the IP payload. */
	__u32 tot = bpf_ntohs(*(__u16 *)(p + IP_OFF + 2));
	__u32 ulen = bpf_ntohs(*(__u16 *)(p + UDP_OFF + 4));
	if (tot > skb->len - ETH_HLEN || ulen != tot - IP_HLEN || ulen < UDP_HLEN) {
		count(2);
		return TCX_NEXT;
	}
	__u32 n = ulen - UDP_HLEN;
	struct rec_hdr h = {
		.tag = e->tag,
		.saddr = *(__u32 *)(p + IP_OFF + 12),
		.sport = *(__u16 *)(p + UDP_OFF),
		.len = n,
	};
	if (n <= MAX_SMALL) {
		struct rec_small *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
		if (!r) {
			count(1);
			return TCX_NEXT;
		}
		r->h = h;
		if (n > 0 && n <= MAX_SMALL && bpf_skb_load_bytes(skb, PAY_OFF, r->data, n) < 0) {
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
			count(2);
			return TCX_NEXT;
		}
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	} else if (n <= MAX_BIG) {
		struct rec_big *r = bpf_ringbuf_reserve(&ring, sizeof(*r), 0);
		if (!r) {
			count(1);
			return TCX_NEXT;
		}
		r->h = h;
		if (n > MAX_BIG || bpf_skb_load_bytes(skb, PAY_OFF, r->data, n) < 0) {
			bpf_ringbuf_discard(r, BPF_RB_NO_WAKEUP);
			count(2);
			return TCX_NEXT;
		}
		bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
	} else {
		count(2);
		return TCX_NEXT;
	}
	count(0);
	return TC_ACT_SHOT;
}

char __license[] SEC("license") = "Dual BSD/GPL";
