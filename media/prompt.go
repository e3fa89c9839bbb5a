package media

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/zaf/g711"
)

// Prompt is audio prepared once for playback: 8 kHz mono PCM cut into 20 ms
// frames and pre-encoded for PCMU and PCMA. A Prompt is immutable after
// construction and shared read-only by every session that plays it; it is
// safe for concurrent use.
type Prompt struct {
	name  string
	pcm   []int16
	ulaw  [][]byte
	alaw  [][]byte
	nsamp int
}

// NewPrompt builds a prompt from 8 kHz mono PCM. The samples are copied. The
// last frame is padded with silence to a full 20 ms.
func NewPrompt(name string, pcm []int16) *Prompt {
	nf := (len(pcm) + FrameSamples - 1) / FrameSamples
	p := &Prompt{name: name, nsamp: len(pcm)}
	p.pcm = make([]int16, nf*FrameSamples)
	copy(p.pcm, pcm)
	ub := make([]byte, len(p.pcm))
	ab := make([]byte, len(p.pcm))
	_, _ = EncodeTo(PCMU, ub, p.pcm)
	_, _ = EncodeTo(PCMA, ab, p.pcm)
	p.ulaw = cutFrames(ub)
	p.alaw = cutFrames(ab)
	return p
}

// newPromptG711 builds a prompt from G.711 bytes (as found in a µ-law or
// A-law WAVE file) without re-encoding them: the codec they are in plays
// exactly as recorded; the other law is produced with g711's direct
// table conversion.
func newPromptG711(name string, c Codec, data []byte) *Prompt {
	nf := (len(data) + FrameSamples - 1) / FrameSamples
	p := &Prompt{name: name, nsamp: len(data)}
	raw := make([]byte, nf*FrameSamples)
	copy(raw, data)
	for i := len(data); i < len(raw); i++ {
		raw[i] = c.SilenceByte()
	}
	other := make([]byte, len(raw))
	p.pcm = make([]int16, len(raw))
	_, _ = DecodeTo(c, p.pcm, raw)
	for i, b := range raw {
		if c == PCMU {
			other[i] = g711.Ulaw2AlawFrame(b)
		} else {
			other[i] = g711.Alaw2UlawFrame(b)
		}
	}
	if c == PCMU {
		p.ulaw, p.alaw = cutFrames(raw), cutFrames(other)
	} else {
		p.alaw, p.ulaw = cutFrames(raw), cutFrames(other)
	}
	return p
}

func cutFrames(b []byte) [][]byte {
	fr := make([][]byte, len(b)/FrameSamples)
	for i := range fr {
		fr[i] = b[i*FrameSamples : (i+1)*FrameSamples : (i+1)*FrameSamples]
	}
	return fr
}

// Name returns the name the prompt was created with (the path for loaded
// prompts).
func (p *Prompt) Name() string { return p.name }

// Frames returns the prompt's 20 ms frames (160 bytes each) encoded in c, or
// nil for an unsupported codec. The slices are shared: do not modify them.
func (p *Prompt) Frames(c Codec) [][]byte {
	switch c {
	case PCMU:
		return p.ulaw
	case PCMA:
		return p.alaw
	}
	return nil
}

// FrameCount returns the number of 20 ms frames.
func (p *Prompt) FrameCount() int { return len(p.ulaw) }

// Duration returns the playing time: FrameCount × 20 ms.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.ulaw)) * FrameDuration
}

// PCM returns the prompt's 8 kHz mono samples, padded to whole frames.
// The slice is shared: do not modify it.
func (p *Prompt) PCM() []int16 { return p.pcm }

// LoadPrompt reads a WAVE file that can be played without conversion:
// 8 kHz mono 16-bit PCM, or 8 kHz mono G.711 µ-law/A-law (played as
// recorded). Any other format is rejected with a *FormatError naming what the
// file is and what is accepted.
func LoadPrompt(path string) (*Prompt, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("prompt %q: %w", path, err)
	}
	defer f.Close()
	a, err := parseWAV(f, false)
	if err != nil {
		if fe, ok := err.(*FormatError); ok {
			fe.Path = path
			return nil, fe
		}
		return nil, fmt.Errorf("prompt %q: %w", path, err)
	}
	switch a.Format {
	case WAVFormatMuLaw:
		return newPromptG711(path, PCMU, a.G711), nil
	case WAVFormatALaw:
		return newPromptG711(path, PCMA, a.G711), nil
	}
	return NewPrompt(path, a.PCM), nil
}

// PromptCache loads each prompt file once and hands out the shared *Prompt.
// Concurrent Gets of the same path wait for a single load. Failed loads are
// not cached (the next Get retries). Safe for concurrent use.
type PromptCache struct {
	mu sync.Mutex
	m  map[string]*promptEntry
}

type promptEntry struct {
	done chan struct{}
	p    *Prompt
	err  error
}

// NewPromptCache returns an empty cache.
func NewPromptCache() *PromptCache {
	return &PromptCache{m: make(map[string]*promptEntry)}
}

// Get returns the prompt for path, loading it with LoadPrompt on first use.
func (c *PromptCache) Get(path string) (*Prompt, error) {
	key := filepath.Clean(path)
	c.mu.Lock()
	e, ok := c.m[key]
	if ok {
		c.mu.Unlock()
		<-e.done
		return e.p, e.err
	}
	e = &promptEntry{done: make(chan struct{})}
	c.m[key] = e
	c.mu.Unlock()

	e.p, e.err = LoadPrompt(path)
	if e.err != nil {
		c.mu.Lock()
		delete(c.m, key)
		c.mu.Unlock()
	}
	close(e.done)
	return e.p, e.err
}

// Put stores a prompt built in memory (e.g. generated tones) under name, so
// later Gets of name return it. It replaces any previous entry.
func (c *PromptCache) Put(name string, p *Prompt) {
	e := &promptEntry{done: make(chan struct{}), p: p}
	close(e.done)
	c.mu.Lock()
	c.m[filepath.Clean(name)] = e
	c.mu.Unlock()
}

// Len returns the number of cached prompts (including loads in flight).
func (c *PromptCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
