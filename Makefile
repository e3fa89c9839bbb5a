# dialedge — see README.md. `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)
BIN := bin/dialedge
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Debian packages: the demo and the carrier simulator need the voices and
# sox; the tests also need SIPp, baresip and tshark. Each package is checked
# by a file it installs; apt runs only when one is missing.
DEMO_PKGS := espeak-ng sox \
	asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav \
	asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav
DEMO_MARKERS := /usr/bin/espeak-ng /usr/bin/sox /usr/share/asterisk/sounds/en/vm-intro.wav \
	/usr/share/asterisk/sounds/es /usr/share/asterisk/sounds/fr /usr/share/asterisk/sounds/it \
	/usr/share/asterisk/sounds/ru /usr/share/asterisk/moh
TEST_PKGS := $(DEMO_PKGS) sip-tester baresip tshark iproute2 rtpengine-daemon
TEST_MARKERS := $(DEMO_MARKERS) /usr/bin/sipp /usr/bin/baresip /usr/bin/tshark /usr/sbin/ip /usr/bin/rtpengine

# Packages with goroutines or sockets, run under the race detector too.
RACE_PKGS := ./ports/... ./media/... ./sip/... ./pacing/... ./bench/... ./cmd/...

.PHONY: all build test demo bench lint deps deps-deb deps-demo deps-go clean fuzz
all: build

# apt_install MARKERS PACKAGES: apt-get update once and install when a marker is missing.
define apt_install
	@missing=0; for f in $(1); do [ -e "$$f" ] || missing=1; done; \
	if [ $$missing = 1 ]; then \
		echo ">> installing Debian packages: $(2)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $(2); \
	fi
endef

deps: deps-deb deps-go

deps-deb:
	$(call apt_install,$(TEST_MARKERS),$(TEST_PKGS))

deps-demo:
	$(call apt_install,$(DEMO_MARKERS),$(DEMO_PKGS))

deps-go:
	$(GO) mod download

build: deps-go
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dialedge

test: deps
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -race -timeout 25m $(RACE_PKGS)

demo: deps-demo build
	./$(BIN) demo

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./media/... ./amd/... ./sip/...

fuzz:
	@for p in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list 'Fuzz.*' $$p | grep ^Fuzz); do \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$p || exit 1; done; done

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf bin

# CPU profile of the edge process under the 1000-port IVR load (issue 5):
# the edge serves net/http/pprof (pprof_listen) and the bench fetches a
# profile over the steady part of the run. Read it with
# `go tool pprof -top bin/dialedge edge.prof`.
.PHONY: profile
profile: build
	./$(BIN) bench ivr --ports 1000 --duration 60s --cpuprofile edge.prof --json --report bench-ivr-profile.html > bench-ivr-profile.json
	$(GO) tool pprof -top -nodecount=25 $(BIN) edge.prof | head -35

# Call progress analysis report on the corpus's test split (amd/corpus),
# dialedge and asterisk mode side by side. Clips are cached outside the
# repo ($XDG_CACHE_HOME/dialedge/cpa). CPA_FLAGS=--json for JSON.
.PHONY: cpa-report
cpa-report: deps-deb
	$(GO) run ./cmd/dialedge cpa-report $(CPA_FLAGS)

# Kernel fast path (media/fastpath): regenerate the BPF object and its Go
# loader with bpf2go (cilium/ebpf). Needs clang, llvm and libbpf-dev
# (installed when missing); the generated fastpath_bpfel.{go,o} are
# committed, so `make build` and `make test` need no clang.
BPF_PKGS := clang llvm libbpf-dev
BPF_MARKERS := /usr/bin/clang /usr/bin/llvm-strip /usr/include/bpf/bpf_helpers.h
.PHONY: generate-bpf
generate-bpf:
	$(call apt_install,$(BPF_MARKERS),$(BPF_PKGS))
	$(GO) generate ./media/fastpath ./media/rxring
