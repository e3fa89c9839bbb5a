// Package api is dialedge's HTTP/JSON control API (DESIGN 3.3), served under
// /v1 and described by the OpenAPI 3 document openapi.yaml (embedded, and
// served at GET /v1/openapi.yaml).
//
// It owns the HTTP side of an order's life: decoding and validating an order
// (every invalid field gets a 4xx naming the field and what is allowed),
// recording it durably in the outbox before anything is dialed, handing it to
// the Dialer, and making every result readable: one attempt at a time
// (GET /v1/calls/{attemptId}) or as a resumable Server-Sent Events stream
// (GET /v1/events, Last-Event-ID: "result" events, one per attempt, and the
// durable "agent" events in the same id sequence; ?types= selects); DELETE /v1/calls/{attemptId} cancels a
// running attempt when the Dialer can. It also serves /healthz (no auth) and
// /metrics. Every other request needs the configured bearer token.
//
// Order fields use camelCase JSON names (contactId, campaignId, number,
// callerId, prompt, ringLimit, metadata, and the flow: onLiveVoice, botUrl,
// agentId, onMachine, voicemailPrompt, safeHarbourPrompt,
// callProgressAnalysisParams), like the Webex campaign fields of DESIGN 3.3. Results are the call.Result JSON of DESIGN 3.2 (snake_case), the
// same bytes in the API, the events and the outbox.
//
// Concurrency: a *Server is safe for concurrent use; Serve or Start is called
// once, Shutdown any number of times from any goroutine. net/http owns one
// goroutine per connection; each SSE stream ends when its client goes, when
// Shutdown is called, or when the outbox is closed.
package api
