// Package carrier is the bench carrier simulator: a SIP UAS (sipgo) that
// answers outbound calls the way real callees do. Each call gets a persona
// — human, machine (greeting then beep), machine_nobeep, busy (486),
// noanswer (180, 183 with ringback early media, never answers), sit (183
// with a special information tone and announcement, then 404/503) or fax
// (answers with CED) — and plays that persona's real audio from
// bench/audio over media.Session RTP legs paced by one shared media.Clock,
// using RTP ports leased from a ports.Pool.
//
// Choosing a persona, in order:
//  1. Config.Choose(number), when set and it returns a non-empty string;
//  2. the number's user part, when it starts with a persona name followed
//     by the end, "-" or ".": sip:busy@…, sip:human-5551234@…,
//     sip:machine_nobeep-7@…; "persona.variant-…" also picks the variant by
//     name or index (sip:sit.ic-1@…, sip:human.0-1@…);
//  3. otherwise a weighted random draw from Config.Mix, seeded by Config.Seed.
//
// Every call's outcome is kept as a CallRecord (Calls, OnCallEnd) with the
// persona and variant (the ground truth for call-progress analysis), final
// SIP code, RTP packets in and out, DTMF digits received and who ended it.
//
// Concurrency: all exported methods of Carrier are safe for concurrent use.
// Each call runs on the goroutine sipgo gives its INVITE; Close cancels
// every call (BYE after answer, 503 before) and waits for all goroutines.
// The packet path takes no lock: counters are atomics.
package carrier
