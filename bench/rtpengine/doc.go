// Package rtpengine is a client for rtpengine's ng control protocol
// (bencoded dictionaries over UDP, each datagram prefixed with a cookie)
// and a runner for the rtpengine daemon in userspace mode (no kernel
// module: --table=-1) on loopback, used by `dialedge bench relay-compare`.
//
// Encode and Decode implement bencode. A Client is safe for concurrent
// use: requests are matched to replies by cookie. Daemon owns the child
// process; Stop ends it.
package rtpengine
