// Package noise holds the coloured-noise filter shared by the CPA corpus
// generator (amd/corpus) and the detector's tests.
package noise

// Pink is Paul Kellet's pink-noise filter (a -3 dB/octave slope: most of
// its energy at low frequencies, like a line's rumble). The zero value is
// ready; feed it white samples one by one.
type Pink struct{ b0, b1, b2, b3, b4, b5, b6 float64 }

// Next filters one white sample w.
func (p *Pink) Next(w float64) float64 {
	p.b0 = 0.99886*p.b0 + w*0.0555179
	p.b1 = 0.99332*p.b1 + w*0.0750759
	p.b2 = 0.96900*p.b2 + w*0.1538520
	p.b3 = 0.86650*p.b3 + w*0.3104856
	p.b4 = 0.55000*p.b4 + w*0.5329522
	p.b5 = -0.7616*p.b5 - w*0.0168980
	y := p.b0 + p.b1 + p.b2 + p.b3 + p.b4 + p.b5 + p.b6 + w*0.5362
	p.b6 = w * 0.115926
	return y
}
