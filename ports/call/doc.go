// Package call runs dial attempts and the agents they are bridged to.
//
// It owns:
//
//   - one goroutine per attempt (Manager.Dial) holding all of its state:
//     port slot, RTP lease, INVITE, early-media and answer-phase call
//     progress analysis, the LIVE_VOICE flow (message, agent bridge with
//     zip tone or safe-harbour abandon, bot stream), the voicemail drop after
//     the beep has ended, BYE, and exactly one Result to the sink;
//   - the agent desk (agents.go): registered agents (AgentSpec: id, SIP URI
//     of the phone, campaigns), one goroutine per reservation call that
//     dials the phone directly, holds it in silence, times wrap-up and ends
//     on idle, logout, the agent's BYE or shutdown; live answers claim the
//     longest-idle available agent within Agents.AbandonGrace of the answer;
//     desktop events (AgentEvent) fan out to bounded subscriber channels;
//   - bot streams (bot.go): a WebSocket client per streamed call, Twilio
//     Media Streams JSON frames, a reader and a writer goroutine owned by
//     the call; the caller's frames cross from the receive goroutine
//     through a bounded channel (dropped and counted when the bot lags).
//
// Concurrency: every exported method of *Manager is safe for concurrent
// use. Drain waits for attempts, then ends the reservation calls; Close
// ends everything and waits for every goroutine; both are idempotent.
package call
