package portstest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Baresip is a real softphone (Debian baresip) acting as an agent or a
// customer on loopback: it auto-answers, sends a sine as its voice
// (aufile) and dumps the audio it hears (sndfile) to WAV files. No sound
// card is used: the player is an aubridge device nobody reads.
type Baresip struct {
	URI  string // sip:user@127.0.0.1:port
	Dir  string
	cmd  *exec.Cmd
	out  LockedBuffer
	done chan struct{}
}

// LockedBuffer is a bytes.Buffer safe for one writer (a child process's
// output) and concurrent readers (the test polling it).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *LockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is what was written so far.
func (s *LockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// baresipAttempts bounds the restarts after a port race: the ports are
// free when chosen, but another test process may bind one before
// baresip does, and baresip then exits at once ("Address already in
// use").
const baresipAttempts = 5

// baresipReady is how long one start may take to print "baresip is
// ready"; it usually takes well under a second, but CI runs several test
// binaries at once on 2 cores.
const baresipReady = 30 * time.Second

// StartBaresip starts baresip for user with a sine voice of voiceHz at
// speech level (the other side sees it as speech energy). It fails the
// test, never skips, when baresip is missing, and shows baresip's log
// when it does not come up.
func StartBaresip(tb testing.TB, user string, voiceHz float64) *Baresip {
	tb.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		tb.Fatal("baresip not installed: apt-get install -y baresip")
	}
	modDir := "/usr/lib/baresip/modules"
	if _, err := os.Stat(filepath.Join(modDir, "aufile.so")); err != nil {
		modDir = "/usr/lib/x86_64-linux-gnu/baresip/modules"
	}
	dir := tb.TempDir()
	// 300 s of voice: baresip hangs up when its aufile source ends.
	pcm := make([]int16, 8000*300)
	for i := range pcm {
		pcm[i] = int16(5000 * math.Sin(2*math.Pi*voiceHz*float64(i)/8000))
	}
	if err := os.WriteFile(filepath.Join(dir, "voice.wav"), WAV(pcm), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "snd"), 0o755); err != nil {
		tb.Fatal(err)
	}
	acct := fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n", user)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	var logs []string
	for attempt := 1; attempt <= baresipAttempts; attempt++ {
		sipPort := pickSIPPort(tb)
		rtpLo := FreeUDPRun(tb, 20)
		conf := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
sip_trans_def udp
net_interface 127.0.0.1
audio_player aubridge,nul
audio_source aufile,%s
audio_alert aubridge,nul
audio_srate 8000
audio_channels 1
rtp_ports %d-%d
module_path %s
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_app account.so
module_app menu.so
snd_path %s
`, sipPort, filepath.Join(dir, "voice.wav"), rtpLo, rtpLo+19, modDir, filepath.Join(dir, "snd"))
		if err := os.WriteFile(filepath.Join(dir, "config"), []byte(conf), 0o644); err != nil {
			tb.Fatal(err)
		}
		b := &Baresip{Dir: dir, URI: "sip:" + user + "@127.0.0.1:" + strconv.Itoa(sipPort), done: make(chan struct{})}
		b.cmd = exec.Command(bin, "-4", "-f", dir, "-t", "900")
		b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
		if err := b.cmd.Start(); err != nil {
			tb.Fatalf("start baresip: %v", err)
		}
		go func() { _ = b.cmd.Wait(); close(b.done) }()
		switch b.waitReady() {
		case nil:
			tb.Cleanup(b.Stop)
			return b
		case errPortRace:
			logs = append(logs, fmt.Sprintf("attempt %d (sip %d, rtp %d-%d):\n%s", attempt, sipPort, rtpLo, rtpLo+19, b.Output()))
			continue
		default:
			b.Stop()
			tb.Fatalf("baresip for %s did not come up within %v (attempt %d):\n%s", user, baresipReady, attempt, b.Output())
		}
	}
	tb.Fatalf("baresip for %s lost the port race %d times:\n%s", user, baresipAttempts, strings.Join(logs, "\n"))
	return nil
}

// pickSIPPort chooses baresip's SIP port; a test replaces it to force a
// port race.
var pickSIPPort = func(tb testing.TB) int { return FreeUDPRun(tb, 1) }

var (
	errPortRace = errors.New("port taken")
	errNotReady = errors.New("not ready")
)

// waitReady waits for baresip's ready line. It returns errPortRace when
// baresip exited because a port was taken, and errNotReady when it exited
// for another reason or did not come up in time.
func (b *Baresip) waitReady() error {
	deadline := time.After(baresipReady)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if strings.Contains(b.out.String(), "baresip is ready") {
			return nil
		}
		select {
		case <-b.done:
			if strings.Contains(b.out.String(), "Address already in use") {
				return errPortRace
			}
			return errNotReady
		case <-deadline:
			return errNotReady
		case <-tick.C:
		}
	}
}

// Stop ends baresip (idempotent) and waits for it.
func (b *Baresip) Stop() {
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(os.Interrupt)
	select {
	case <-b.done:
	case <-time.After(3 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
}

// Output is baresip's log.
func (b *Baresip) Output() string { return b.out.String() }

// Heard returns the audio the softphone heard (sndfile's decode dump) in
// its calls, concatenated; it waits up to within for the dump to appear.
func (b *Baresip) Heard(tb testing.TB, within time.Duration) []int16 {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		files, _ := filepath.Glob(filepath.Join(b.Dir, "snd", "*dec.wav"))
		var pcm []int16
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			pcm = append(pcm, wavSamples(data)...)
		}
		if len(pcm) > 0 || time.Now().After(deadline) {
			return pcm
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wavSamples returns the 16-bit samples after the "data" chunk header,
// ignoring the declared size (the file may still be open).
func wavSamples(b []byte) []int16 {
	i := bytes.Index(b, []byte("data"))
	if i < 0 || i+8 > len(b) {
		return nil
	}
	b = b[i+8:]
	out := make([]int16, len(b)/2)
	for j := range out {
		out[j] = int16(binary.LittleEndian.Uint16(b[2*j:]))
	}
	return out
}

// WAV is pcm as a 8 kHz mono 16-bit PCM WAV file.
func WAV(pcm []int16) []byte {
	var buf bytes.Buffer
	n := len(pcm) * 2
	buf.WriteString("RIFF")
	_ = binary.Write(&buf, binary.LittleEndian, uint32(36+n))
	buf.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&buf, binary.LittleEndian, v)
	}
	buf.WriteString("data")
	_ = binary.Write(&buf, binary.LittleEndian, uint32(n))
	_ = binary.Write(&buf, binary.LittleEndian, pcm)
	return buf.Bytes()
}
