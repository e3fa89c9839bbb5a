// Package load is the load driver of `dialedge bench` (DESIGN 3.4): it runs
// the edge under test as a separate child process (`dialedge serve` with a
// generated loopback config), runs the carrier simulator (bench/carrier) in
// this process, drives orders through the edge's control API (POST
// /v1/calls, results over GET /v1/events) and measures: achieved CPS,
// concurrency, the edge process's CPU and RSS (from /proc/<pid>, so the
// simulator and the driver are not counted), RTP send lateness (the edge's
// dialedge_rtp_send_lateness_seconds histogram), RTP loss, setup latency,
// CPA accuracy against the simulator's personas, and results lost.
//
// Modes: ivr (N ports dialled continuously, each answered call gets CPA and
// a prompt), sip (call setup rate), relay-compare (the same bridged RTP load
// through a relay under test and through rtpengine in userspace mode;
// see RelayCompare) and bridge (N customer-agent pairs through dialedge's
// userspace bridge, media.Bridge, in a child process; set up over the ng
// protocol because ports/call does not bridge calls to agents yet).
//
// Run is the entry point; it owns every goroutine and child process it
// starts and returns only after they have ended. A Summary is plain data.
// Nothing in this package is meant to be called concurrently except where a
// method says so.
package load
