// Package corpus builds a labelled corpus of calls for call progress
// analysis and scores the amd detector on it.
//
// The calls are made from public material installed from Debian: espeak-ng
// voices (language voices with their variants, pitch and speed), the
// recorded Asterisk prompts (asterisk-core-sounds-{en,es,fr,it,ru}-wav,
// also pitch, tempo and EQ shifted with sox into further speakers), the
// asterisk-moh-opsound-wav music beds, and tones synthesised from amd's tone
// plans (ringback, busy, reorder), SIT, fax/modem tones and beeps. Each call
// is degraded (level, white/pink/babble noise, G.711 µ-law or A-law round
// trip, lost frames) and labelled with its expected result, the speech
// intervals and where the beep starts.
//
// Calls are split train, dev and test by speaker: every speaker (and every
// recorded-voice language with its sox transforms) belongs to exactly one
// split, and the English phrases are split too, so the test split holds
// voices and phrases that tuning never saw (see Speakers and phrases.go).
// Tone calls are split by index. Train and dev also hold extra kinds of
// call (extra.go; the test split is as it was): long live answers said in
// phrases, a short first word and a second try, late first words, machine
// greetings of 3-4.5 s without a beep, greetings read slowly on noisy
// lines, beeps quieter than the voice, and brown noise (a rumble).
//
// A fourth split, holdout (holdout.go), imitates an independent held-out
// corpus: its own phrase lists in five languages, espeak-ng voice/variant
// combinations and languages no other split uses, other Asterisk prompts
// as greetings and answers (with digits, repeated intercept
// announcements), levels over -35..-3 dBFS, brown noise, mains buzz and
// babble made from Asterisk prompts, bursty loss, other beep shapes and
// music segments, also as a bed under speech. It is built only when named
// (CPA_SPLIT=holdout, or cpa-report -split holdout) and is a measuring
// stick: nothing is tuned on it. Its recorded voices are the same Asterisk
// speakers as the other splits' (under other sox transforms).
//
// Synthesised clips are cached under Config.CacheDir (default
// $XDG_CACHE_HOME/dialedge/cpa), outside the repository. Build is
// deterministic for a given Config: the same seed gives the same calls.
//
// Concurrency: Build runs at most Config.Workers synthesis processes at
// once and waits for them before it returns. Evaluate and the report
// functions are pure and safe to call concurrently on distinct inputs.
package corpus
