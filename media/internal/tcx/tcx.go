//go:build linux

// Package tcx holds what media/fastpath and media/rxring share about
// loading a TC program and attaching it to TCX ingress with
// github.com/cilium/ebpf: resolving the interfaces, attaching to each, and
// turning the kernel's answers into errors that say what is missing.
package tcx

import (
	"errors"
	"fmt"
	"net"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// Errs names a package's own sentinel errors and how its messages start.
type Errs struct {
	Op           string // e.g. "fastpath open"
	Permission   error  // wrapped for EPERM / EACCES
	NotSupported error  // wrapped for a kernel without BPF or TCX
	NoInterface  error  // wrapped for an interface that does not exist
	Needs        string // what NotSupported needs, e.g. "Linux >= 6.6 with BPF and TCX"
}

// Classify wraps err (from step what) with e.Permission or
// e.NotSupported when that is what it is, saying what is needed.
func (e Errs) Classify(what string, err error) error {
	var ve *ebpf.VerifierError
	switch {
	case errors.As(err, &ve):
		return fmt.Errorf("%s: %s: verifier rejected the program: %w", e.Op, what, err)
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%s: %s: %w: %v", e.Op, what, e.Permission, err)
	case errors.Is(err, ebpf.ErrNotSupported), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EINVAL) && what != LoadStep:
		return fmt.Errorf("%s: %s: %w: needs %s: %v", e.Op, what, e.NotSupported, e.Needs, err)
	}
	return fmt.Errorf("%s: %s: %w", e.Op, what, err)
}

// LoadStep is the step name Classify expects for loading the program
// (EINVAL there is a program the kernel rejects, not a missing feature).
const LoadStep = "load bpf program"

// Interfaces resolves names in this network namespace.
func (e Errs) Interfaces(names []string) ([]*net.Interface, error) {
	ifcs := make([]*net.Interface, len(names))
	for i, name := range names {
		ifc, err := net.InterfaceByName(name)
		if err != nil {
			return nil, fmt.Errorf("%s: interface %q: %w (%v); interfaces must exist in this network namespace (see ip link)", e.Op, name, e.NoInterface, err)
		}
		ifcs[i] = ifc
	}
	return ifcs, nil
}

// AttachIngress attaches prog to TCX ingress of every interface, first in
// each chain when head is set (else last). On error it detaches what it
// attached.
func (e Errs) AttachIngress(prog *ebpf.Program, ifcs []*net.Interface, head bool) ([]link.Link, error) {
	var links []link.Link
	for _, ifc := range ifcs {
		opts := link.TCXOptions{Interface: ifc.Index, Program: prog, Attach: ebpf.AttachTCXIngress}
		if head {
			opts.Anchor = link.Head()
		}
		l, err := link.AttachTCX(opts)
		if err != nil {
			for _, l := range links {
				_ = l.Close()
			}
			return nil, e.Classify(fmt.Sprintf("attach tcx ingress to %s", ifc.Name), err)
		}
		links = append(links, l)
	}
	return links, nil
}
