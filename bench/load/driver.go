package load

import (
	"context"
	"errors"
	"fmt"
	"github.com/dialedge/dialedge/pacing/api"
	apiclient "github.com/dialedge/dialedge/pacing/api/client"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dialedge/dialedge/bench/audio"
	"github.com/dialedge/dialedge/bench/carrier"
	"github.com/dialedge/dialedge/ports/call"
)

// Run runs one bench and returns its summary. It returns an error when the
// run could not be carried out; a finished run with lost results returns
// the summary (ResultsLost > 0) and no error: the caller decides.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	switch cfg.Mode {
	case ModeIVR, ModeSIP:
		return runCalls(ctx, cfg)
	case ModeRelayCompare, ModeBridge:
		return RelayCompare(ctx, cfg)
	}
	return nil, fmt.Errorf("bench %s: %w", cfg.Mode, ErrNotBuilt)
}

// run is the shared state of one calls run (ivr, sip).
type run struct {
	cfg   Config
	log   *slog.Logger
	edge  *EdgeProc
	sim   *carrier.Carrier
	start time.Time

	personas sync.Map // number → persona
	seq      atomic.Int64
	slots    chan struct{}

	mu        sync.Mutex
	accepted  map[string]string // attempt → number
	results   map[string]call.Result
	dups      int
	submitErr int
	lastErr   error
	submitted int
	done      atomic.Int64
	inLoad    atomic.Int64 // results received before the load window closed

	simMu     sync.Mutex
	firstRTP  []float64 // ms, INVITE received → first voiced RTP frame from the edge, at the simulator
	answerRTP []float64 // ms, 200 OK sent → first voiced RTP frame
}

// onSimCallEnd runs on a simulator call goroutine when a call ends.
func (r *run) onSimCallEnd(rec carrier.CallRecord) {
	if rec.FirstVoiceIn.IsZero() {
		return
	}
	r.simMu.Lock()
	defer r.simMu.Unlock()
	r.firstRTP = append(r.firstRTP, float64(rec.FirstVoiceIn.Sub(rec.StartedAt))/1e6)
	if !rec.AnsweredAt.IsZero() {
		r.answerRTP = append(r.answerRTP, float64(rec.FirstVoiceIn.Sub(rec.AnsweredAt))/1e6)
	}
}

func runCalls(ctx context.Context, cfg Config) (sum *Summary, err error) {
	dir := cfg.WorkDir
	if dir == "" {
		d, err := os.MkdirTemp("", "dialedge-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	r := &run{cfg: cfg, log: cfg.Logger.With("component", "bench/load"),
		accepted: map[string]string{}, results: map[string]call.Result{}}

	// Persona audio and the simulator.
	lib, err := audio.New(cfg.Audio, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := lib.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("persona audio: %w", err)
	}
	cc := cfg.Carrier
	cc.Listen = "127.0.0.1:0"
	cc.Seed = cfg.Seed
	cc.Mix = cfg.Mix
	cc.MaxCalls = max(cc.MaxCalls, 2*cfg.Ports+100)
	cc.CallLog = 0 // the driver keeps its own ground truth
	// Thousands of long legs (ivr): the simulator reads them on its clock,
	// no goroutine woken per packet, so it leaves the host's CPU to the
	// edge (send lateness p99 at 1000 ports, loaded machine: 0.99/1.23 ms
	// with a goroutine per leg, 0.57/0.43 driven). bench sip keeps a
	// goroutine per leg: its calls last tens of ms and it times their
	// first packet.
	cc.DrivenReceive = cfg.Mode == ModeIVR
	cc.OnCallEnd = r.onSimCallEnd
	cc.Choose = func(number string) string {
		if p, ok := r.personas.Load(number); ok {
			return p.(string)
		}
		return ""
	}
	r.sim, err = carrier.New(cc, lib, cfg.Logger.With("component", "carrier"))
	if err != nil {
		return nil, err
	}
	if err := r.sim.Start(ctx); err != nil {
		return nil, fmt.Errorf("carrier simulator: %w", err)
	}
	defer r.sim.Close()

	// The prompt the edge plays on every answered call.
	promptDir := filepath.Join(dir, "prompts")
	if err := os.MkdirAll(promptDir, 0o755); err != nil {
		return nil, err
	}
	if err := audio.WriteWAVFile(filepath.Join(promptDir, "bench.wav"), benchPrompt(cfg.Prompt)); err != nil {
		return nil, fmt.Errorf("bench prompt: %w", err)
	}
	calls := map[string]any{"max_calls": cfg.Ports, "prompt_dir": promptDir, "default_prompt": "bench.wav",
		"ring_limit": "15s"}
	if cfg.Mode == ModeSIP {
		// Setup rate: no analysis window before the prompt.
		calls["after_prompt"] = "0s"
		calls["cpa"] = map[string]any{"enabled": false}
	}
	edgeLog := cfg.EdgeLog
	if edgeLog == nil {
		edgeLog = io.Discard
	}
	r.edge, err = StartEdge(ctx, EdgeOptions{
		Command: cfg.EdgeCommand, Dir: dir, Trunk: r.sim.Addr().String(), Settings: cfg.EdgeSettings,
		Config: map[string]any{"calls": calls}, Pprof: cfg.CPUProfile != "", Log: edgeLog,
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := r.edge.Stop(15 * time.Second); serr != nil && err == nil {
			r.log.Warn("stopping edge", "err", serr)
		}
	}()
	return r.drive(ctx)
}

// benchPrompt is a d-long prompt: a 440/660 Hz two-tone pattern with a
// slow amplitude envelope, loud enough to count as voice at the simulator.
func benchPrompt(d time.Duration) []int16 {
	n := int(d.Seconds() * 8000)
	pcm := make([]int16, n)
	for i := range pcm {
		t := float64(i) / 8000
		env := 0.6 + 0.4*math.Sin(2*math.Pi*2*t)
		pcm[i] = int16(6000 * env * (math.Sin(2*math.Pi*440*t) + 0.5*math.Sin(2*math.Pi*660*t)))
	}
	return pcm
}

func (r *run) drive(ctx context.Context) (*Summary, error) {
	cfg := r.cfg
	idle, err := r.edge.Proc()
	if err != nil {
		return nil, fmt.Errorf("edge /proc: %w", err)
	}
	m0, err := r.edge.Scrape(ctx)
	if err != nil {
		return nil, err
	}
	simStart := r.sim.Stats()

	results := make(chan apiclient.Event, 4096)
	sseCtx, stopSSE := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.edge.API.Follow(sseCtx, "", results) }()
	defer func() { stopSSE(); wg.Wait() }()

	r.slots = make(chan struct{}, cfg.Ports)
	for range cfg.Ports {
		r.slots <- struct{}{}
	}
	loadCtx, stopLoad := context.WithTimeout(ctx, cfg.Duration)
	defer stopLoad()
	// The host and the edge are read together at both ends of the window.
	hostStart, hostErr := ReadHostCPU()
	var hostEnd HostCPU
	edgeAtStart, err := r.edge.Proc()
	if err != nil {
		return nil, fmt.Errorf("edge /proc: %w", err)
	}
	r.start = time.Now()
	var subWG sync.WaitGroup
	limiter := newRateLimiter(r.start)
	for range cfg.Submitters {
		subWG.Add(1)
		go func() { defer subWG.Done(); r.submitter(loadCtx, limiter) }()
	}

	// Profile the steady part: after the ramp, to the end of the load.
	var profWG sync.WaitGroup
	profErr := make(chan error, 1)
	if cfg.CPUProfile != "" {
		skip := min(cfg.Duration/4, 10*time.Second)
		profWG.Add(1)
		go func() {
			defer profWG.Done()
			select {
			case <-time.After(skip):
			case <-loadCtx.Done():
				profErr <- errors.New("load ended before the profile started")
				return
			}
			profErr <- r.edge.CPUProfile(ctx, cfg.Duration-skip, cfg.CPUProfile)
		}()
	}

	sampler := time.NewTicker(cfg.Sample)
	defer sampler.Stop()
	prog := newProgress(cfg.Progress, cfg.ProgressTTY, cfg.Mode, cfg.Duration)
	var timeline []Sample
	lastT, lastCPU, lastDone := r.start, idle.CPUSeconds, 0
	var cpuLoadEnd float64
	var loadEnd time.Time
	peakRSS := idle.RSSBytes
	sample := func(now time.Time) {
		ps, perr := r.edge.Proc()
		mm, merr := r.edge.Scrape(ctx)
		done := int(r.done.Load())
		s := Sample{T: now.Sub(r.start).Seconds(), Done: done, Outstanding: r.outstanding()}
		if dt := now.Sub(lastT).Seconds(); dt > 0 {
			s.CPS = float64(done-lastDone) / dt
			if perr == nil {
				s.EdgeCPU = (ps.CPUSeconds - lastCPU) / dt
			}
		}
		if perr == nil {
			lastCPU = ps.CPUSeconds
			s.EdgeRSSMiB = float64(ps.RSSBytes) / (1 << 20)
			peakRSS = max(peakRSS, ps.RSSBytes)
		}
		if merr == nil {
			s.Calls, s.Legs = mm.CallsActive, mm.LegsActive
		}
		lastT, lastDone = now, done
		timeline = append(timeline, s)
		prog.update(s, cfg.Ports)
	}

	loadDone := loadCtx.Done()
	var drainTimer <-chan time.Time
	var edgeErr error
loop:
	for {
		select {
		case ev := <-results:
			r.record(ev.Result, loadDone == nil)
			if cfg.Calls > 0 && int(r.done.Load()) >= cfg.Calls {
				stopLoad() // every capped call is done: the load window ends now
			}
		case now := <-sampler.C:
			sample(now)
		case <-loadDone:
			loadDone = nil
			loadEnd = time.Now()
			if ps, err := r.edge.Proc(); err == nil {
				cpuLoadEnd = ps.CPUSeconds
			}
			if hostErr == nil {
				hostEnd, hostErr = ReadHostCPU()
			}
			subWG.Wait()
			drainTimer = time.After(cfg.Drain)
			if r.outstanding() == 0 {
				break loop
			}
		case <-drainTimer:
			break loop
		case <-r.edge.Exited():
			edgeErr = fmt.Errorf("%w during the run: %v", ErrEdgeExited, r.edge.waitErr)
			break loop
		case <-ctx.Done():
			break loop
		}
		if loadDone == nil && r.outstanding() == 0 {
			break
		}
	}
	stopLoad()
	subWG.Wait()
	if loadEnd.IsZero() {
		loadEnd = time.Now()
		if ps, err := r.edge.Proc(); err == nil {
			cpuLoadEnd = ps.CPUSeconds
		}
		if hostErr == nil {
			hostEnd, hostErr = ReadHostCPU()
		}
	}
	sample(time.Now())
	prog.finish()
	profWG.Wait()
	if edgeErr != nil {
		return nil, edgeErr
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}

	// Final counters, once every result is in.
	m1, err := r.edge.Scrape(ctx)
	if err != nil {
		return nil, err
	}
	end, _ := r.edge.Proc()
	peakRSS = max(peakRSS, end.RSSBytes, end.HWMBytes)
	simEnd := r.sim.Stats()

	sum := r.summarize(m0, m1, simStart, simEnd)
	loadSecs := loadEnd.Sub(r.start).Seconds()
	sum.DurationS = Num(loadSecs)
	sum.CPS = Num(float64(r.inLoad.Load()) / loadSecs)
	sum.EdgeCPUCores = Num((cpuLoadEnd - idle.CPUSeconds) / loadSecs)
	if hostErr == nil {
		sum.Host = hostLoad(hostStart, hostEnd, loadSecs, (cpuLoadEnd-edgeAtStart.CPUSeconds)/loadSecs, runtime.NumCPU())
	} else {
		sum.Notes = append(sum.Notes, "host load not read: "+hostErr.Error())
	}
	sum.EdgeRSSMiB = Num(float64(peakRSS) / (1 << 20))
	sum.EdgeIdleRSSMiB = Num(float64(idle.RSSBytes) / (1 << 20))
	sum.EdgeRSSPerPort = Num(float64(peakRSS-idle.RSSBytes) / 1024 / float64(cfg.Ports))
	if cs := sumCallSeconds(r.results); cs > 0 {
		sum.EdgeCPUPerCall = Num((end.CPUSeconds - idle.CPUSeconds) / cs)
	} else {
		sum.EdgeCPUPerCall = Num(math.NaN())
	}
	for _, s := range timeline {
		sum.PeakLegs = max(sum.PeakLegs, int(s.Legs))
		sum.PeakCalls = max(sum.PeakCalls, int(s.Calls))
	}
	sum.Timeline = timeline
	if cfg.CPUProfile != "" {
		if err := <-profErr; err != nil {
			sum.Notes = append(sum.Notes, "cpu profile not captured: "+err.Error())
		} else {
			sum.Profile = cfg.CPUProfile
		}
	}
	return sum, nil
}

func sumCallSeconds(rs map[string]call.Result) float64 {
	var s float64
	for _, r := range rs {
		if !r.Timings.Dial.IsZero() && !r.Timings.End.IsZero() {
			s += r.Timings.End.Sub(r.Timings.Dial).Seconds()
		}
	}
	return s
}

// outstanding is the number of accepted orders without a result.
func (r *run) outstanding() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id := range r.accepted {
		if _, ok := r.results[id]; !ok {
			n++
		}
	}
	return n
}

// record stores one result and frees its port slot.
func (r *run) record(res call.Result, afterLoad bool) {
	r.mu.Lock()
	if _, seen := r.results[res.AttemptID]; seen {
		r.dups++
		r.mu.Unlock()
		return
	}
	r.results[res.AttemptID] = res
	r.mu.Unlock()
	r.done.Add(1)
	if !afterLoad {
		r.inLoad.Add(1)
	}
	select {
	case r.slots <- struct{}{}:
	default:
	}
}

// submitter takes a free slot, waits for the rate limiter, and submits.
func (r *run) submitter(ctx context.Context, lim *rateLimiter) {
	plan := newPersonaPlan(r.cfg.Mix)
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.slots:
		}
		rate := r.cfg.CPS
		if ramp := r.cfg.RampCPS; ramp > 0 && int(r.seq.Load()) < r.cfg.Ports && (rate == 0 || ramp < rate) {
			rate = ramp
		}
		if !lim.wait(ctx, rate) {
			return
		}
		n := r.seq.Add(1)
		if r.cfg.Calls > 0 && n > int64(r.cfg.Calls) {
			return
		}
		number := fmt.Sprintf("1555%07d", n)
		// Deterministic per call number, whatever submitter draws it.
		rng := rand.New(rand.NewPCG(uint64(r.cfg.Seed), uint64(n)))
		r.personas.Store(number, plan.pick(rng.Float64()))
		acc, err := r.edge.API.Submit(ctx, api.OrderRequest{ContactID: fmt.Sprintf("bench-%d", n), Number: number})
		id := acc.AttemptID
		r.mu.Lock()
		if err != nil {
			if ctx.Err() == nil {
				r.submitErr++
				r.lastErr = err
			}
			r.mu.Unlock()
			select { // give the slot back (never blocks: a late result may have refilled it)
			case r.slots <- struct{}{}:
			default:
			}
			if ctx.Err() != nil {
				return
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return
			}
			continue
		}
		r.accepted[id] = number
		r.submitted++
		r.mu.Unlock()
	}
}

// rateLimiter spaces submissions at a given rate across submitters.
type rateLimiter struct {
	mu   sync.Mutex
	next time.Time
}

func newRateLimiter(t time.Time) *rateLimiter { return &rateLimiter{next: t} }

// wait blocks until the next slot at rate per second (0: no limit);
// false when ctx ended.
func (l *rateLimiter) wait(ctx context.Context, rate float64) bool {
	if rate <= 0 {
		return ctx.Err() == nil
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(time.Duration(float64(time.Second) / rate))
	l.mu.Unlock()
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// summarize turns the collected results and counters into the summary.
func (r *run) summarize(m0, m1 EdgeMetrics, s0, s1 carrier.Stats) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := &Summary{Mode: r.cfg.Mode, Ports: r.cfg.Ports, Results: map[string]int{},
		CallsSubmitted: r.submitted, SubmitErrors: r.submitErr, ResultsDup: r.dups}
	if r.lastErr != nil {
		sum.Notes = append(sum.Notes, "last submit error: "+r.lastErr.Error())
	}
	var conf Confusion
	var setup, decision []float64
	for id, number := range r.accepted {
		res, ok := r.results[id]
		if !ok {
			sum.ResultsLost++
			continue
		}
		sum.CallsCompleted++
		sum.Results[string(res.Result)]++
		p, _ := r.personas.Load(number)
		persona, _ := p.(string)
		conf.Add(persona, string(res.Result))
		if !res.Timings.Answer.IsZero() && !res.Timings.Dial.IsZero() {
			setup = append(setup, float64(res.Timings.Answer.Sub(res.Timings.Dial))/1e6)
		}
		if res.CPA != nil && res.CPA.DecisionMS > 0 {
			decision = append(decision, float64(res.CPA.DecisionMS))
		}
	}
	sort.Float64s(setup)
	sum.SetupSamplesMS = setup
	sum.Setup = quant(setup)
	sum.CPA = CPASummary{Accuracy: Num(conf.Accuracy()), Confusion: conf.Matrix}
	if sum.CPA.Confusion == nil {
		sum.CPA.Confusion = map[string]map[string]int{}
	}
	if len(decision) > 0 {
		sort.Float64s(decision)
		q := quant(decision)
		sum.CPA.DecisionMS = &q
		sum.CPA.Source = "edge results (cpa field) against the simulator's persona for each number"
	} else if r.cfg.Mode == ModeSIP {
		sum.CPA.Source = "sip mode measures setup rate: the edge runs with calls.cpa.enabled=false, so answered calls read LIVE_VOICE"
	} else {
		sum.CPA.Source = "edge results against the simulator's persona for each number; no result carried a CPA verdict (call progress analysis off or not wired into the call path): answered calls read LIVE_VOICE"
	}

	lat := SubBuckets(m1.Lateness, m0.Lateness)
	sum.LatenessBuckets = lat
	sum.Lateness = Quant{P50: Num(HistogramQuantile(0.5, lat) * 1e3), P99: Num(HistogramQuantile(0.99, lat) * 1e3),
		Max: Num(HistogramMax(lat) * 1e3)}
	if math.IsInf(float64(sum.Lateness.Max), 1) && len(lat) > 1 {
		sum.Lateness.Max = Num(lat[len(lat)-2].Upper * 1e3)
		sum.Notes = append(sum.Notes, fmt.Sprintf("rtp_send_lateness_ms.max: some ticks were later than the last finite bucket (%g ms); max shows that bound", lat[len(lat)-2].Upper*1e3))
	}
	sum.LatenessWithin1ms = Num(math.NaN())
	if len(lat) > 0 {
		sum.Lateness.N = int(lat[len(lat)-1].Count)
		for _, b := range lat {
			if b.Upper == 1e-3 && sum.Lateness.N > 0 {
				sum.LatenessWithin1ms = Num(b.Count / float64(sum.Lateness.N))
			}
		}
	}
	sum.Notes = append(sum.Notes, "host: the whole machine over the load window from /proc/stat (busy = user+nice+system+irq+softirq); other_cores = busy − edge − this process (simulator and driver); steal_ratio = hypervisor steal / all CPU time. /proc/stat is sampled per tick and the processes are timed exactly, so other_cores is good to about 0.1 core (and never shown below 0). Compare figures between runs only at similar other_cores and steal_ratio. On loopback the kernel's receive work for a packet runs in its sender's system call: the edge pays for the simulator's receive path and the simulator for the edge's, which roughly cancel at one packet each way per leg and tick")
	sum.Notes = append(sum.Notes, "edge_cpu_cores: the edge process's utime+stime (/proc/<pid>/stat, all threads) over the load window (--duration, ramp included) divided by its length; edge_rss_mib: peak VmRSS/VmHWM; edge_rss_per_port_kib: (peak − idle RSS) / ports")
	sum.Notes = append(sum.Notes, "rtp_send_lateness_ms: per media-clock tick wake-up lateness from the edge's dialedge_rtp_send_lateness_seconds histogram (delta over the run), p50/p99 interpolated inside buckets, max = upper bound of the highest non-empty bucket")

	rc := RTPCounts{EdgeOut: m1.RTPOut - m0.RTPOut, EdgeIn: m1.RTPIn - m0.RTPIn, EdgeRxGaps: m1.RTPLost - m0.RTPLost,
		SimIn: s1.RTPIn - s0.RTPIn, SimOut: s1.RTPOut - s0.RTPOut}
	rc.EdgeToSimLoss = Num(math.NaN())
	if rc.EdgeOut > 0 {
		rc.EdgeToSimLoss = Num(max(0, 1-float64(rc.SimIn)/rc.EdgeOut))
	}
	rc.SimToEdgeGapRatio = Num(math.NaN())
	if d := rc.EdgeIn + rc.EdgeRxGaps; d > 0 {
		rc.SimToEdgeGapRatio = Num(rc.EdgeRxGaps / d)
	}
	sum.RTP = rc
	sum.RTPLossRatio = rc.SimToEdgeGapRatio
	sum.Notes = append(sum.Notes, "rtp_loss_ratio: sequence gaps the edge saw in the simulator's RTP / packets expected (dialedge_rtp_lost_packets_total vs received); rtp.edge_to_sim_loss compares the edge's sent count with the simulator's received count and includes packets still in flight when the simulator ends a leg itself (after the edge's BYE it reads for 20 ms more), so it is not a gap measure")
	r.simMu.Lock()
	first, ans := Quantiles(r.firstRTP, 0.5, 0.99, 1), Quantiles(r.answerRTP, 0.5, 0.99, 1)
	sum.FirstRTP = &Quant{P50: Num(first[0]), P99: Num(first[1]), Max: Num(first[2]), N: len(r.firstRTP)}
	sum.AnswerToRTP = &Quant{P50: Num(ans[0]), P99: Num(ans[1]), Max: Num(ans[2]), N: len(r.answerRTP)}
	r.simMu.Unlock()
	sum.Notes = append(sum.Notes, "first_rtp_ms: at the simulator, from the INVITE's arrival to the first voiced RTP frame of the edge's prompt (includes the ring time in ivr); answer_to_first_rtp_ms: from the simulator's 200 OK to that frame")
	return sum
}

func quant(sorted []float64) Quant {
	if len(sorted) == 0 {
		return Quant{P50: Num(math.NaN()), P99: Num(math.NaN()), Max: Num(math.NaN())}
	}
	return Quant{P50: Num(Percentile(sorted, 0.5)), P99: Num(Percentile(sorted, 0.99)), Max: Num(sorted[len(sorted)-1]), N: len(sorted)}
}
