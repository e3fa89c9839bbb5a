package amd

import "strings"

// ToneSpec is one call progress tone of a plan: its frequencies (one or two,
// Hz, summed) and its cadence as alternating on/off durations in ms starting
// with "on".
type ToneSpec struct {
	Result  Result // ResultRingback, ResultBusy or ResultReorder
	Freqs   []float64
	Cadence []int
}

// TonePlan is a country's (or region's) set of call progress tones.
type TonePlan struct {
	Name  string
	Tones []ToneSpec
}

// tonePlans are the call progress tone plans, held as data (ITU-T E.180
// supplement 2 and national specifications). Never modified.
//
// Where a country uses the same cadence for busy and congestion (Japan,
// Australia) only busy is listed: the two cannot be told apart by ear either,
// and both end the attempt the same way.
var tonePlans = []TonePlan{
	{Name: "us", Tones: []ToneSpec{ // US and Canada (NANP)
		{ResultRingback, []float64{440, 480}, []int{2000, 4000}},
		{ResultBusy, []float64{480, 620}, []int{500, 500}},
		{ResultReorder, []float64{480, 620}, []int{250, 250}},
	}},
	{Name: "uk", Tones: []ToneSpec{
		{ResultRingback, []float64{400, 450}, []int{400, 200, 400, 2000}},
		{ResultBusy, []float64{400}, []int{375, 375}},
		{ResultReorder, []float64{400}, []int{400, 350, 225, 525}},
	}},
	{Name: "cept", Tones: []ToneSpec{ // CEPT recommendation T/CS 20-15, 425 Hz
		{ResultRingback, []float64{425}, []int{1000, 4000}},
		{ResultBusy, []float64{425}, []int{500, 500}},
		{ResultReorder, []float64{425}, []int{250, 250}},
	}},
	{Name: "de", Tones: []ToneSpec{
		{ResultRingback, []float64{425}, []int{1000, 4000}},
		{ResultBusy, []float64{425}, []int{480, 480}},
		{ResultReorder, []float64{425}, []int{240, 240}},
	}},
	{Name: "it", Tones: []ToneSpec{
		{ResultRingback, []float64{425}, []int{1000, 4000}},
		{ResultBusy, []float64{425}, []int{500, 500}},
		{ResultReorder, []float64{425}, []int{200, 200}},
	}},
	{Name: "nl", Tones: []ToneSpec{
		{ResultRingback, []float64{425}, []int{1000, 4000}},
		{ResultBusy, []float64{425}, []int{500, 500}},
		{ResultReorder, []float64{425}, []int{250, 250}},
	}},
	{Name: "fr", Tones: []ToneSpec{
		{ResultRingback, []float64{440}, []int{1500, 3500}},
		{ResultBusy, []float64{440}, []int{500, 500}},
		{ResultReorder, []float64{440}, []int{250, 250}},
	}},
	{Name: "jp", Tones: []ToneSpec{ // 400 Hz (ringback modulated by 16 Hz)
		{ResultRingback, []float64{400}, []int{1000, 2000}},
		{ResultBusy, []float64{400}, []int{500, 500}},
	}},
	{Name: "au", Tones: []ToneSpec{ // ringback 425 Hz modulated by 25 Hz = 400+450
		{ResultRingback, []float64{400, 450}, []int{400, 200, 400, 2000}},
		{ResultBusy, []float64{425}, []int{375, 375}},
	}},
}

// TonePlans returns a copy of the built-in call progress tone plans.
func TonePlans() []TonePlan {
	out := make([]TonePlan, len(tonePlans))
	for i, p := range tonePlans {
		out[i] = TonePlan{Name: p.Name, Tones: make([]ToneSpec, len(p.Tones))}
		for j, t := range p.Tones {
			out[i].Tones[j] = ToneSpec{Result: t.Result,
				Freqs: append([]float64(nil), t.Freqs...), Cadence: append([]int(nil), t.Cadence...)}
		}
	}
	return out
}

func findPlan(name string) *TonePlan {
	for i := range tonePlans {
		if tonePlans[i].Name == name {
			return &tonePlans[i]
		}
	}
	return nil
}

func planNames() string {
	names := make([]string, len(tonePlans))
	for i, p := range tonePlans {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}
