// Package audio owns the bench personas' audio: what a simulated callee
// plays while ringing, after answering, and before rejecting a call.
//
// Nothing here is committed to the repository. A Library generates every
// clip at run time into a cache directory (default
// $XDG_CACHE_HOME/dialedge/audio, or os.UserCacheDir()/dialedge/audio) from
// Debian packages: recorded speech from /usr/share/asterisk/sounds/{en,es,fr,it,ru}
// (asterisk-core-sounds-*-wav), synthetic voices from espeak-ng resampled
// with sox, and call-progress tones synthesized in Go (tones.go: ringback,
// busy, SIT, fax CED/CNG and V.21 flags, answering-machine beeps).
//
// Each persona (human, machine, machine_nobeep, busy, noanswer, sit, fax)
// has several variants so calls differ; the exact timing of each variant
// (pauses, beep pitch and length, CED length, voice speed) is drawn from
// Config.Seed, so a seed always yields the same audio. Clips are 8 kHz mono
// 16-bit PCM; the carrier turns them into media prompts once.
//
// Concurrency: Ensure may be called from several goroutines (it runs once at
// a time). After Ensure returns nil, Variants and Variant are safe for
// concurrent use and the returned Variants are shared and read-only.
// The tone functions are pure and safe everywhere.
package audio
