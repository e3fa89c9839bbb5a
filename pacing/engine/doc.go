// Package engine is the pacing core of a campaign: the six Webex dialer modes
// (preview, push_preview, progressive, predictive, progressive_ivr,
// predictive_ivr), the predictive forecast and its feedback loop, and the
// abandon accounting over the rolling 30-day (FTC) and 24-hour (Ofcom)
// windows, paced against the stricter configured one.
//
// The engine is pure logic: it owns no goroutine and reads time only from the
// Clock it is given, so the same code runs in the edge and, on a simulated
// clock, in the pacing simulator (pacing/sim). The caller tells it every event
// (agent state changes, dial placed, answered, call-progress verdict,
// connected, abandoned, ended) and asks Decide how many new dials to place.
// The caller enforces the timers (the 2 s abandon grace, the ring limit);
// Settings.NoAnswerRingLimit is validated to be at least 15 s.
//
// Concurrency: an *Engine is not safe for concurrent use. One campaign loop
// owns it and serialises every call. Settings and Config are plain values.
package engine
