package corpus

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/sync/errgroup"
)

// Channels a call can be sent through after its noise is added and before
// its G.711 round trip (Config.Channel): the telephone network's own
// processing, a stress test of the detector like Config.SNRShiftDB. The
// corpus's voices are already filtered gently to the telephone band (2-pole
// 250 Hz high pass, 3400 Hz low pass); its noise is not.
const (
	// ChannelNone is the corpus as designed.
	ChannelNone = "none"
	// ChannelG712 is a steep 300-3400 Hz band pass (a 2.5 dB-ripple-free
	// FIR, sox's sinc) over the whole call, speech and noise: the
	// telephone channel at its narrowest. Low voices lose their
	// fundamental and the sibilants lose their top.
	ChannelG712 = "g712"
	// ChannelGSM is a GSM 06.10 full-rate encode and decode (a 2G mobile
	// leg, 13 kbit/s RPE-LTP): tones come out with a vocoder's noise.
	ChannelGSM = "gsm"
	// ChannelAMR is an AMR-NB 12.2 kbit/s encode and decode (a 3G/4G
	// mobile leg, ACELP).
	ChannelAMR = "amr"
)

// Channels lists the valid Config.Channel values ("" means none).
var Channels = []string{ChannelNone, ChannelG712, ChannelGSM, ChannelAMR}

// channelPipes returns the sox invocations that carry a channel, one
// process per stage, raw 16-bit 8 kHz mono in and out.
func channelPipes(ch string) [][]string {
	raw := []string{"-t", "raw", "-e", "signed", "-b", "16", "-r", "8000", "-c", "1"}
	stage := func(in, out []string, effects ...string) []string {
		// -D: no dither (sox dithers with a random seed otherwise, and
		// the same Config must build the same calls)
		a := append(append(append([]string{"-D"}, in...), "-"), out...)
		return append(append(a, "-"), effects...)
	}
	codec := func(enc, dec []string) [][]string { return [][]string{stage(raw, enc), stage(dec, raw)} }
	switch ch {
	case ChannelG712:
		return [][]string{stage(raw, raw, "sinc", "300-3400")}
	case ChannelGSM:
		return codec([]string{"-t", "gsm"}, []string{"-t", "gsm"})
	case ChannelAMR:
		return codec([]string{"-t", "amr-nb", "-C", "7"}, []string{"-t", "amr-nb"}) // mode 7: 12.2 kbit/s
	}
	return nil
}

// applyChannel sends pcm through the channel in place. The result keeps
// pcm's length (a codec's last partial frame is padded with silence).
func applyChannel(ctx context.Context, pcm []int16, ch string) error {
	b := encodeS16(pcm)
	for _, args := range channelPipes(ch) {
		var out, errb bytes.Buffer
		cmd := exec.CommandContext(ctx, "sox", args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(b), &out, &errb
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("channel %s: sox %s: %v: %s", ch, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
		}
		b = out.Bytes()
	}
	n := copy(pcm, decodeS16(b))
	clear(pcm[n:])
	return nil
}

// applyChannels sends every call's audio through the channel, workers at
// once.
func applyChannels(ctx context.Context, calls []Call, ch string, workers int) error {
	if ch == "" || ch == ChannelNone {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range calls {
		c := &calls[i]
		g.Go(func() error {
			if err := applyChannel(ctx, c.PCM, ch); err != nil {
				return fmt.Errorf("%s: %w", c.ID, err)
			}
			return nil
		})
	}
	return g.Wait()
}
