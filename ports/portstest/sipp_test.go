package portstest

import (
	"net"
	"os"
	"strconv"
	"testing"
	"time"
)

func uasArgs(tcp bool) func(SIPpPorts) []string {
	return func(p SIPpPorts) []string {
		t := "u1"
		if tcp {
			t = "t1"
		}
		return []string{"-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(p.SIP), "-mp", strconv.Itoa(p.Media),
			"-cp", strconv.Itoa(p.Control), "-t", t, "-m", "1", "-nostdin", "-timeout", "20s"}
	}
}

// TestStartSIPpRetriesAPortRace gives SIPp a SIP port this test holds on
// the first attempt: SIPp exits with "Unable to bind", and the start is
// retried on a new port that SIPp then holds.
func TestStartSIPpRetriesAPortRace(t *testing.T) {
	orig := pickSIPpPort
	busy, pick, calls := takenFirst(t, func() int { return orig(t, false) })
	pickSIPpPort = func(testing.TB, bool) int { return pick() }
	defer func() { pickSIPpPort = orig }()

	s := StartSIPp(t, SIPpOptions{Args: uasArgs(false), Listens: true})
	if *calls != 2 {
		t.Fatalf("SIP port picked %d times, want 2 (one lost race, one start)", *calls)
	}
	if s.Ports.SIP == busy {
		t.Fatalf("sipp runs on the taken port %d", busy)
	}
	if !Holds(s.cmd.Process.Pid, "udp", s.Ports.SIP) || !Holds(s.cmd.Process.Pid, "udp", s.Ports.Media) {
		t.Fatalf("sipp (pid %d) holds neither its SIP port %d nor its media port %d:\n%s", s.cmd.Process.Pid, s.Ports.SIP, s.Ports.Media, s.Output())
	}
	select {
	case <-s.Done():
		t.Fatalf("sipp exited: %v\n%s", s.Err(), s.Output())
	default:
	}
}

// TestStartSIPpTCPListens waits for a TCP UAS's listener.
func TestStartSIPpTCPListens(t *testing.T) {
	s := StartSIPp(t, SIPpOptions{Args: uasArgs(true), TCP: true, Listens: true})
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+strconv.Itoa(s.Ports.SIP), time.Second)
	if err != nil {
		t.Fatalf("sipp does not accept on its TCP port %d: %v\n%s", s.Ports.SIP, err, s.Output())
	}
	c.Close()
}

// TestStartSIPpOtherFailureIsTheCallers: a SIPp that exits for another
// reason (here an unknown option) is returned, not retried; its exit
// error and output are the caller's to judge.
func TestStartSIPpOtherFailureIsTheCallers(t *testing.T) {
	n := 0
	s := StartSIPp(t, SIPpOptions{Args: func(SIPpPorts) []string { n++; return []string{"-no_such_option"} }})
	<-s.Done()
	if n != 1 || s.Err() == nil || s.LostPortRace() {
		t.Fatalf("starts %d, exit %v, port race %v:\n%s", n, s.Err(), s.LostPortRace(), s.Output())
	}
}

func TestHolds(t *testing.T) {
	u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	up, tp := u.LocalAddr().(*net.UDPAddr).Port, l.Addr().(*net.TCPAddr).Port
	me := os.Getpid()
	if !Holds(me, "udp", up) || !Holds(me, "tcp", tp) {
		t.Fatalf("Holds misses this process's UDP %d or TCP %d", up, tp)
	}
	if Holds(me, "tcp", up) && up != tp {
		t.Fatalf("Holds finds a TCP listener on %d, which only has UDP", up)
	}
	u.Close()
	if Holds(me, "udp", up) {
		t.Fatalf("Holds still finds UDP %d after close", up)
	}
}
