package call

import "math"

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
