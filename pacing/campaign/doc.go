// Package campaign is the campaign runtime: it connects the pacing engine
// (pacing/engine) to the call manager (ports/call) through the durable
// outbox (pacing/outbox).
//
// It owns:
//
//   - the campaign document of the control API (Spec: the Webex dialer
//     fields of DESIGN 3.3, validated with engine.Settings.Validate plus
//     calling windows, prompts, URLs) and contact batches (Contact);
//   - one goroutine per campaign that is not stopped (runner): each tick it
//     asks the engine how many dials to place, pulls that many due contacts
//     from the outbox queue (notBefore respected), holds back those outside
//     their calling window (validCampaignTimes, in the contact's time zone)
//     or under a redial lock (72 h after an abandon, the rest of the day
//     after an answering machine) by rescheduling them, resolves the caller
//     ID (outdialANI < contact callerId < pre-dial webhook answer,
//     time-boxed), and dispatches each as one attempt (outbox.Dispatch: the
//     queue entry and the pending attempt change in one commit) to the
//     Dialer. It learns how calls ended by reading the outbox's result log,
//     which also works across restarts;
//   - a dialing-list fetcher per campaign (dialingListFetchURL; bounded
//     size, timeouts);
//   - result webhooks: one goroutine per configured webhook, delivering the
//     outbox events in order with exponential backoff and a durable cursor
//     (agent events too with agent_events);
//   - the agent-event recorder (agentlog.go): when the agent desk is an
//     AgentEventSource, one goroutine writes every agent event to the
//     outbox log in batches, where GET /v1/events replays it.
//
// A campaign loop's engine starts with the abandon windows of the outbox
// (the last 30 days, engine.RecordPastLive), so a restart or an update does
// not reset what pacing is held against.
//
// Agent modes (agents.go) run when Deps.Agents (the call manager's agent
// desk) is set: each pacing tick first tells the engine every agent state
// change and every new agent connect of the campaign's attempts, as they
// happen (so talk and wrap-up are measured live); progressive and
// predictive then dial per available agent; push_preview offers due
// records to the agents the engine picks (ReserveAgent, a "preview" event);
// preview hands a record to an agent that asks (RequestPreview); both dial
// on AcceptPreview for that agent and requeue on DeclinePreview. Orders get
// the campaign's flow (agent, message, or bot with botUrl), prompts
// (message, voicemail, safe harbour) and callProgressAnalysisParams.
// Without an agent desk, agent-mode campaigns are stored paused with
// ReasonNoAgents and Resume answers ErrNoAgents.
//
// Concurrency: every exported method of *Runtime is safe for concurrent
// use. The runtime owns its goroutines (context + WaitGroup); Close stops
// and waits for them and is idempotent. The engine of each campaign is used
// under that campaign's mutex.
package campaign
