// Package report renders a bench run (load.Summary) as one self-contained
// HTML file: the JSON summary, a table of the headline figures and SVG
// plots made with gonum.org/v1/plot and inlined (concurrency over time,
// edge CPU and RSS over time, the RTP send-lateness histogram, setup
// latency, the CPA confusion matrix and, for relay-compare, the relays'
// packets per second per core). Functions are pure and safe for concurrent
// use.
package report
