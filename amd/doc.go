// Package amd is dialedge's call progress analysis: pure DSP that turns 20 ms
// frames of 8 kHz linear audio into events and one final verdict.
//
// It owns:
//   - call progress tones (ringback, busy, reorder/congestion) matched against
//     tone plans held as data (see TonePlans), with cadence tolerances;
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
// Input is one frame of FrameSamples int16 samples per call to Process, in
// order, exactly as frames arrive in a call; a frame that never arrived is
// signalled with Lost so that time keeps running. The package does no I/O,
// starts no goroutines and has no clock of its own: time is the count of
// frames. Process and Lost allocate nothing.
//
// Concurrency: a Detector is owned by one goroutine (the call's); none of its
// methods may be called concurrently. Distinct Detectors share only read-only
// tables and are independent. Config, DefaultConfig, TonePlans and the String
// methods are safe to call from any goroutine.
package amd
