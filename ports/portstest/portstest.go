// Package portstest finds free loopback ports for tests that start real
// peers (SIPp, baresip) which bind several ports from one base.
package portstest

import (
	"net"
	"strconv"
	"testing"
)

// FreeUDPRun returns an even loopback port p such that UDP p..p+span-1
// are free right now (SIPp's -mp binds audio RTP at p and video RTP at
// p+2, with their RTCP ports: span 4). Another process may still take
// one before the caller binds it; the window is short.
func FreeUDPRun(tb testing.TB, span int) int {
	tb.Helper()
	for range 200 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			tb.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port &^ 1
		c.Close()
		if p < 1024 || p+span > 65536 {
			continue
		}
		var held []*net.UDPConn
		ok := true
		for i := range span {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + i})
			if err != nil {
				ok = false
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if ok {
			return p
		}
	}
	tb.Fatalf("no %d free UDP ports in a row on 127.0.0.1", span)
	return 0
}

// FreeUDPTCP returns a loopback port free for both UDP and TCP right now
// (a SIP peer that serves both transports on one port).
func FreeUDPTCP(tb testing.TB) int {
	tb.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	tb.Fatal("no port free for both UDP and TCP on 127.0.0.1")
	return 0
}
