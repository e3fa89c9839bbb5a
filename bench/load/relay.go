package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dialedge/dialedge/bench/rtpengine"
)

// relayWarmup is the time the load runs before the measured window.
const relayWarmup = 2 * time.Second

// RelayCompare drives the same bridged RTP load — Ports pairs, each side
// sending one 20 ms packet every 20 ms — through dialedge's userspace
// relay (RelayServer in a child process: cfg.RelayCommand) and then
// through rtpengine in userspace mode, both controlled over the ng
// protocol, and reports forwarded packets per second per CPU core of each
// relay process and their ratio.
func RelayCompare(ctx context.Context, cfg Config) (*Summary, error) {
	sum := &Summary{Mode: cfg.Mode, Ports: cfg.Ports, Results: map[string]int{},
		CPA: CPASummary{Accuracy: Num(math.NaN()), Confusion: map[string]map[string]int{}, Source: "not applicable to relay-compare"}}
	sum.Lateness = Quant{P50: Num(math.NaN()), P99: Num(math.NaN()), Max: Num(math.NaN())}
	sum.Setup = sum.Lateness
	sum.EdgeCPUPerCall, sum.EdgeRSSPerPort, sum.EdgeIdleRSSMiB = Num(math.NaN()), Num(math.NaN()), Num(math.NaN())
	sum.RTP.EdgeToSimLoss, sum.RTP.SimToEdgeGapRatio = Num(math.NaN()), Num(math.NaN())
	logw := cfg.EdgeLog
	if logw == nil {
		logw = io.Discard
	}
	start := time.Now()

	// dialedge first.
	de := RelayRun{Name: "dialedge", Pairs: cfg.Ports}
	if len(cfg.RelayCommand) == 0 {
		de.Unavailable = "no relay command configured"
	} else if err := func() error {
		port, err := freeUDPPort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		engine := cfg.RelayEngine
		if cfg.Mode == ModeBridge {
			engine = EngineBridge
		}
		de.Name = "dialedge-" + engine
		args := append(append([]string(nil), cfg.RelayCommand[1:]...), "--serve-relay", addr, "--relay-engine", engine)
		cmd := exec.Command(cfg.RelayCommand[0], args...)
		cmd.Stdout, cmd.Stderr = logw, logw
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start dialedge relay: %w", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}()
		cl, err := rtpengine.Dial(addr)
		if err != nil {
			return err
		}
		defer cl.Close()
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = cl.Ping(pctx)
		cancel()
		if err != nil {
			return fmt.Errorf("dialedge relay not answering ng ping: %w", err)
		}
		de, err = relayLoad(ctx, cfg, de.Name, cl, cmd.Process.Pid, cfg.Progress)
		return err
	}(); err != nil {
		return nil, fmt.Errorf("relay-compare: dialedge: %w", err)
	}

	if cfg.Mode == ModeBridge {
		sum.RelayRuns = []RelayRun{de}
		sum.DurationS = Num(time.Since(start).Seconds())
		sum.EdgeCPUCores, sum.EdgeRSSMiB = de.CPUCores, de.RSSMiB
		sum.EdgeRSSPerPort = Num(float64(de.RSSMiB) * 1024 / float64(cfg.Ports))
		sum.PeakLegs = 2 * cfg.Ports
		sum.CPS = Num(math.NaN())
		sum.RTPLossRatio = de.LossRatio
		sum.Notes = append(sum.Notes,
			"bridge: "+strconv.Itoa(cfg.Ports)+" customer-agent pairs bridged by dialedge's userspace bridge (media.Bridge between two media.Sessions on the shared clock) in a child process, each side sending one PCMU packet every 20 ms; the pairs are set up over the ng protocol, not over SIP, because ports/call does not bridge calls to agents yet; edge_* fields describe that process; rtp_loss_ratio = 1 − delivered/sent",
			fmt.Sprintf("bridge: forwarded %v pps at %v cores = %v pps per core", de.PPS, de.CPUCores, de.PPSPerCore))
		return sum, nil
	}

	// Then rtpengine, on the same load.
	rt := RelayRun{Name: "rtpengine", Pairs: cfg.Ports}
	dcfg := rtpengine.DefaultDaemonConfig()
	dcfg.Binary = cfg.RTPEngine
	dcfg.Log = logw
	d, err := rtpengine.Start(ctx, dcfg)
	if err != nil {
		if !errors.Is(err, rtpengine.ErrNotInstalled) {
			return nil, fmt.Errorf("relay-compare: %w", err)
		}
		rt.Unavailable = err.Error()
	} else {
		rt, err = relayLoad(ctx, cfg, "rtpengine", d.Client, d.PID, cfg.Progress)
		_ = d.Stop()
		if err != nil {
			return nil, fmt.Errorf("relay-compare: rtpengine: %w", err)
		}
	}
	sum.RelayRuns = []RelayRun{de, rt}
	sum.Relay = &RelayPPS{Dialedge: de.PPSPerCore, RTPEngine: rt.PPSPerCore,
		Ratio: Num(float64(de.PPSPerCore) / float64(rt.PPSPerCore))}
	sum.DurationS = Num(time.Since(start).Seconds())
	sum.EdgeCPUCores, sum.EdgeRSSMiB = de.CPUCores, de.RSSMiB
	sum.PeakLegs = 2 * cfg.Ports
	sum.RTPLossRatio = de.LossRatio
	sum.Notes = append(sum.Notes,
		"relay-compare: both relays get the same load from this process: "+strconv.Itoa(cfg.Ports)+" pairs, each side one RTP packet (PCMU, 20 ms) every 20 ms; each relay is set up over the ng protocol (offer/answer/delete); pps = packets delivered to the far side per second over the measured window, per core = divided by the relay process's CPU (utime+stime from /proc) over the same window",
		"dialedge's relay engine "+cfg.RelayEngine+" (relay: media.Relay, two sockets per call, recvmmsg/sendmmsg, no decoding; shared: media.SharedRelay, one socket for all calls; bridge: media.Bridge between two media.Sessions on the shared clock) runs in a child process; the edge_* fields of this mode describe that process")
	if rt.Unavailable != "" {
		sum.Notes = append(sum.Notes, "rtpengine unavailable: "+rt.Unavailable)
	}
	return sum, nil
}

func freeUDPPort() (int, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// relayPair is one bridged call through the relay under test.
type relayPair struct {
	callID     string
	a, b       *net.UDPConn
	aTo, bTo   netip.AddrPort // where A (B) sends: the relay's ports
	seqA, seqB uint16
}

// relayLoad sets up cfg.Ports calls on the relay over ng, sends RTP on both
// sides, and measures the relay process (pid) over cfg.Duration after a
// warm-up.
func relayLoad(ctx context.Context, cfg Config, name string, ng *rtpengine.Client, pid int, progress io.Writer) (RelayRun, error) {
	run := RelayRun{Name: name, Pairs: cfg.Ports}
	pairs := make([]*relayPair, 0, cfg.Ports)
	var received atomic.Uint64
	var readers sync.WaitGroup
	cleanup := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, p := range pairs {
			_ = ng.Delete(dctx, p.callID, "ft")
		}
		for _, p := range pairs {
			p.a.Close()
			p.b.Close()
		}
		readers.Wait()
	}
	defer cleanup()
	reader := func(c *net.UDPConn) {
		defer readers.Done()
		buf := make([]byte, 2048)
		for {
			if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			received.Add(1)
		}
	}
	for i := range cfg.Ports {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return run, err
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			a.Close()
			return run, err
		}
		_ = a.SetReadBuffer(1 << 20)
		_ = b.SetReadBuffer(1 << 20)
		p := &relayPair{callID: fmt.Sprintf("bench-%s-%d-%d", name, os.Getpid(), i), a: a, b: b}
		pairs = append(pairs, p)
		readers.Add(2)
		go reader(a)
		go reader(b)
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		toB, err := ng.Offer(actx, p.callID, "ft", rtpengine.AudioSDP(a.LocalAddr().(*net.UDPAddr).AddrPort(), uint64(i)), nil)
		if err == nil {
			var toA string
			toA, err = ng.Answer(actx, p.callID, "ft", "tt", rtpengine.AudioSDP(b.LocalAddr().(*net.UDPAddr).AddrPort(), uint64(i)), nil)
			if err == nil {
				p.bTo, err = rtpengine.AudioAddr(toB)
				if err == nil {
					p.aTo, err = rtpengine.AudioAddr(toA)
				}
			}
		}
		cancel()
		if err != nil {
			return run, fmt.Errorf("set up call %d: %w", i, err)
		}
	}

	// Sender: one packet per side per pair every 20 ms, on an absolute schedule.
	var sent atomic.Uint64
	sctx, stop := context.WithCancel(ctx)
	var sender sync.WaitGroup
	sender.Add(1)
	go func() {
		defer sender.Done()
		pkt := make([]byte, 12+cfg.PacketSize)
		for i := 12; i < len(pkt); i++ {
			pkt[i] = 0xff // µ-law silence
		}
		pkt[0] = 0x80
		t0 := time.Now()
		timer := time.NewTimer(0)
		defer timer.Stop()
		for n := int64(0); ; n++ {
			at := t0.Add(time.Duration(n) * 20 * time.Millisecond)
			if d := time.Until(at); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-sctx.Done():
					return
				}
			} else if sctx.Err() != nil {
				return
			} else if -d > 20*time.Millisecond {
				// More than a tick late (CPU starved): skip the missed
				// ticks rather than bursting them out.
				n += int64(-d / (20 * time.Millisecond))
			}
			ts := uint32(n * 160)
			for i, p := range pairs {
				binary.BigEndian.PutUint32(pkt[4:], ts)
				binary.BigEndian.PutUint16(pkt[2:], p.seqA)
				binary.BigEndian.PutUint32(pkt[8:], uint32(2*i+1))
				if _, err := p.a.WriteToUDPAddrPort(pkt, p.aTo); err == nil {
					sent.Add(1)
				}
				p.seqA++
				binary.BigEndian.PutUint16(pkt[2:], p.seqB)
				binary.BigEndian.PutUint32(pkt[8:], uint32(2*i+2))
				if _, err := p.b.WriteToUDPAddrPort(pkt, p.bTo); err == nil {
					sent.Add(1)
				}
				p.seqB++
			}
		}
	}()
	defer func() { stop(); sender.Wait() }()

	select {
	case <-time.After(relayWarmup):
	case <-ctx.Done():
		return run, ctx.Err()
	}
	p0, err := ReadProc(pid)
	if err != nil {
		return run, fmt.Errorf("%s /proc: %w", name, err)
	}
	r0, s0, t0 := received.Load(), sent.Load(), time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.After(cfg.Duration)
	var peakRSS int64
wait:
	for {
		select {
		case <-tick.C:
			ps, err := ReadProc(pid)
			if err != nil {
				return run, fmt.Errorf("%s exited during the run: %w", name, err)
			}
			peakRSS = max(peakRSS, ps.RSSBytes)
			if el := time.Since(t0).Seconds(); progress != nil && (cfg.ProgressTTY || int(el)%5 == 0) {
				lead, end := "", "\n"
				if cfg.ProgressTTY {
					lead, end = "\r", ""
				}
				fmt.Fprintf(progress, "%sbench %s %-16s %5.1fs/%.0fs  pairs %d  sent %8.0f pps  forwarded %8.0f pps  cpu %4.2f %s", lead, cfg.Mode, name, el,
					cfg.Duration.Seconds(), cfg.Ports, float64(sent.Load()-s0)/el, float64(received.Load()-r0)/el, (ps.CPUSeconds-p0.CPUSeconds)/el, end)
			}
		case <-deadline:
			break wait
		case <-ctx.Done():
			return run, ctx.Err()
		}
	}
	if progress != nil && cfg.ProgressTTY {
		fmt.Fprintln(progress)
	}
	p1, err := ReadProc(pid)
	if err != nil {
		return run, fmt.Errorf("%s /proc: %w", name, err)
	}
	r1, s1 := received.Load(), sent.Load()
	secs := time.Since(t0).Seconds()
	run.Sent, run.Received = s1-s0, r1-r0
	run.PPS = Num(float64(run.Received) / secs)
	run.CPUCores = Num((p1.CPUSeconds - p0.CPUSeconds) / secs)
	run.PPSPerCore = Num(math.NaN()) // CPU below /proc's 10 ms resolution: not measurable
	if run.CPUCores > 0 {
		run.PPSPerCore = Num(float64(run.PPS) / float64(run.CPUCores))
	}
	run.LossRatio = Num(max(0, 1-float64(run.Received)/float64(run.Sent)))
	run.RSSMiB = Num(float64(max(peakRSS, p1.RSSBytes)) / (1 << 20))
	return run, nil
}
