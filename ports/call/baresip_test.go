package call

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Baresip is a real softphone (Debian baresip) acting as an agent on
// loopback: it auto-answers, sends a WAV file (aufile) as its voice and
// dumps the audio it hears (sndfile) to WAV files. No sound card is used:
// the player is an aubridge device nobody reads. Exported for the
// external e2e tests of this package.
type Baresip struct {
	URI  string // sip:user@127.0.0.1:port
	Dir  string
	cmd  *exec.Cmd
	out  syncBuf
	done chan struct{}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// StartBaresip starts baresip for user with a sine voice of voiceHz (the
// customer side sees it as speech energy). It fails the test, never skips,
// when baresip is missing.
func StartBaresip(t *testing.T, user string, voiceHz float64) *Baresip {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Fatal("baresip not installed: apt-get install -y baresip")
	}
	modDir := "/usr/lib/baresip/modules"
	if _, err := os.Stat(filepath.Join(modDir, "aufile.so")); err != nil {
		modDir = "/usr/lib/x86_64-linux-gnu/baresip/modules"
	}
	dir := t.TempDir()
	b := &Baresip{Dir: dir, done: make(chan struct{})}
	// 300 s of the agent's "voice" (a sine at speech level): baresip hangs
	// up when its aufile source ends.
	pcm := make([]int16, 8000*300)
	for i := range pcm {
		pcm[i] = int16(5000 * math.Sin(2*math.Pi*voiceHz*float64(i)/8000))
	}
	if err := os.WriteFile(filepath.Join(dir, "voice.wav"), wavBytes(pcm), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "snd"), 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t, "udp", 1)
	rtpLo := freePort(t, "udp", 20)
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
		t.Fatal(err)
	}
	acct := fmt.Sprintf("<sip:%s@127.0.0.1>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n", user)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acct), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	b.URI = "sip:" + user + "@127.0.0.1:" + strconv.Itoa(sipPort)
	b.cmd = exec.Command(bin, "-4", "-f", dir, "-t", "900")
	b.cmd.Stdin = nil
	b.cmd.Stdout, b.cmd.Stderr = &b.out, &b.out
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	t.Cleanup(func() { b.Stop() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if bytes.Contains([]byte(b.out.String()), []byte("baresip is ready")) {
			return b
		}
		select {
		case <-b.done:
			t.Fatalf("baresip exited:\n%s", b.out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("baresip not ready within 10 s:\n%s", b.out.String())
	return nil
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

// Heard returns the audio the agent heard (sndfile's decode dump) in its
// calls, concatenated; it waits up to within for the dump to appear.
func (b *Baresip) Heard(t testing.TB, within time.Duration) []int16 {
	t.Helper()
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

func wavBytes(pcm []int16) []byte {
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

// ToneShare is the fraction of a block's energy at hz (Goertzel).
func ToneShare(x []int16, hz float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / 8000
	c := 2 * math.Cos(w)
	var s1, s2, e float64
	for _, v := range x {
		f := float64(v)
		e += f * f
		s0 := f + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	if e == 0 {
		return 0
	}
	return 2 * p / (float64(len(x)) * e)
}

// FirstAudible is the index of the first 20 ms frame with RMS above rms.
func FirstAudible(x []int16, rms float64) int {
	for i := 0; i+160 <= len(x); i += 160 {
		var e float64
		for _, v := range x[i : i+160] {
			e += float64(v) * float64(v)
		}
		if math.Sqrt(e/160) > rms {
			return i
		}
	}
	return -1
}
