// Package sim is the seeded discrete-event pacing simulator behind
// `dialedge bench pacing`. It drives the real pacing engine (pacing/engine)
// on a simulated clock, and baselines (progressive 1:1, a fixed dial ratio
// swept in hindsight, VICIdial's ADAPT_TAPERED) under the same callee and
// agent model, and measures ground truth: occupancy, abandon rate, the worst
// rolling 24 h and hour abandon rates and the recovery time after a
// disturbance (see recovery.go for the definition).
//
// Abandon is a live answer (a person) with no agent free within 2 s of the
// answer. Occupancy is (talk + wrap-up) / staffed time over all agents.
// Rolling windows are judged once they hold enough answers: 24 h windows from
// 100 live answers, hour windows from 20, from the campaign's start (a clock
// hour that holds the start counts like any other).
//
// Nothing sleeps: a run is a heap of timed events. Run is deterministic for a
// given scenario, agent count, seed and pacer. Concurrency: Run and Bench are
// safe to call concurrently (each run owns its world); a Pacer value belongs
// to one run. Bench runs cases on its own worker goroutines and waits for
// them before returning.
package sim
