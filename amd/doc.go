// Package amd is dialedge's call progress analysis: pure DSP that turns 20 ms
// frames of 8 kHz linear audio into events and one final verdict.
//
// It owns:
//   - call progress tones (ringback, busy, reorder/congestion) matched against
//     tone plans held as data (see TonePlans()), with cadence tolerances;
//   - special information tones: North American three-segment SIT typed IC,
//     VC, NC, RO (and the reserved IO/FU codes) from segment frequencies and
//     lengths, and the ITU SIT (950/1400/1800 Hz);
//   - fax and modem tones: CNG 1100 Hz, CED/ANS 2100 Hz with or without phase
//     reversals, ANSam, the V.21 channel 2 HDLC flag preamble, Bell 2225 Hz;
//   - DTMF to ITU-T Q.24 (frequency deviation, twist, duration, talk-off);
//   - human versus machine after answer, in two modes: "dialedge" (this
//     package's own detector) and "asterisk" (app_amd's state machine with
//     its parameter names and defaults);
//   - terminating tone ("beep") detection after a machine verdict.
//
// Human versus machine ("dialedge" mode, human.go): voice activity against
// an adaptive noise floor (pure tones, DTMF and music excluded; minimum
// statistics over the last 1.44 s lift it to a noise that fluctuates too
// much to be recognised as steady, or a bed that starts with the call), speech
// bursts of at least minimumValidSpeech, then: a greeting followed by
// minSilencePeriod of silence (more after longer greetings) is a human;
// speech still running analysisPeriod after the first word, or a beep after
// speech, is a machine (also shortly after a human verdict: a beep within
// lateBeepGrace of a short greeting's end revises it, once, with a second
// verdict event); music (a level-steady, pause-free bed) is not speech
// and extends the analysis so that the greeting after it decides; no speech
// by maxTimeAnalysis is silence. Robustness: the noise floor falls at most
// 4 dB a frame (digital silence inside babble does not sink it), a steady
// noise-like sound (many zero crossings, no tonal structure) that comes up
// or fluctuates becomes the floor instead of "music", a burst ends when it
// falls 30 dB below the speech level whatever the floor, and a speaker far
// louder than the "speech" before (babble, a TV, music with pauses)
// restarts the greeting at its first word. Beeps (beep.go) are frames whose energy
// sits within ±50 Hz of one frequency, measured to a fraction of a Hz from
// the phase advance across the frame, stable in frequency and level; a
// beep driven into clipping is measured from its zero crossings; after a
// greeting, a tone in the fax answer band (2100, 2225 Hz) shorter than the
// second the fax detector wants there is a beep too (also as a late beep). A
// "greeting" of less than 200 ms of speech followed by silence (a note of
// a music bed, a click) does not make a human verdict.
//
// Input is one frame of FrameSamples int16 samples per call to Process, in
// order, exactly as frames arrive in a call; a frame that never arrived is
// signalled with Lost so that time keeps running. The package does no I/O,
// starts no goroutines and has no clock of its own: time is the count of
// frames. Process and Lost allocate nothing.
//
// Concurrency: a Detector is owned by one goroutine (the call's); none of its
// methods may be called concurrently. Distinct Detectors share only read-only
// tables (the filters, and the call progress tables built once per selection
// of tone plans) and are independent. New, Config, DefaultConfig, TonePlans,
// ParsePhase and the String methods are safe to call from any goroutine.
package amd
