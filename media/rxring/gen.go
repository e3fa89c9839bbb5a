package rxring

// The BPF object and its Go loader are generated and committed, so building
// needs no clang. Regenerate with `make generate-bpf` (clang, llvm and
// libbpf-dev; the asm/ headers come from the multiarch include directory).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -type port_entry rxring bpf/rxring.c -- -O2 -g -Wall -Werror -mcpu=v3 -I/usr/include/x86_64-linux-gnu
