# Portcullis — build, run and test.
#   make run    install what is missing, build (release) and run the examples
#   make test   run every test (starts its own redis-server on a free loopback port)

SWIFT        ?= swift
APT_PACKAGES := libjavascriptcoregtk-4.1-dev libjs-underscore redis-server redis-sentinel pkg-config openssl
BIN          := .build/release/portcullis
SUDO         := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
# Release builds leave out Swift's run-time exclusivity checks: they cost
# 3-4% of CPU per proxied request, mostly inside SwiftNIO. The test suite
# builds in debug with the checks on, so it still catches a violation.
# They link the Swift runtime and Foundation into the binary
# (--static-swift-stdlib): every retain, release, allocation and task
# switch is then a direct call instead of one through the dynamic linker's
# tables. The static binary spends 5-19% less CPU per request in paired
# runs (docs/operations.md).
# The linker then warns about Foundation's use of mktemp; that is the
# toolchain's archive, not this code. `make build RELEASE_SWIFT_FLAGS=`
# keeps the checks and links the runtime as shared libraries.
RELEASE_SWIFT_FLAGS ?= -Xswiftc -enforce-exclusivity=unchecked --static-swift-stdlib

.PHONY: all deps build run plugins-demo test bench bench-peers bench-pair soak clean help release-flags

all: build

help:
	@echo "make run    install missing packages, build release, serve examples/ on :8080"
	@echo "make plugins-demo  run each example plugin once with portcullis plugin run"
	@echo "make scenarios  replay examples/scenarios in both modes (consistent, then tyk-race)"
	@echo "make test   run all tests (unit, JavaScriptCore, real redis-server)"
	@echo "make build  release build only (RELEASE_SWIFT_FLAGS= keeps Swift's run-time exclusivity checks)"
	@echo "make bench  release benchmarks: the JS engine, then the peer comparison"
	@echo "make bench-peers  Portcullis vs nginx, njs, nginx+Lua, HAProxy+Lua (Benchmarks/README.md)"
	@echo "make bench-pair OLD=bin NEW=bin  two portcullis binaries at once on one row, rounds alternating (ROW=forum-memory)"
	@echo "make soak   two nodes on one Redis under wrk load, keys renewed every second (soak/README.md)"

# Installs the system packages only when something is missing.
deps:
	@missing=""; \
	pkg-config --exists javascriptcoregtk-4.1 2>/dev/null || missing="yes"; \
	command -v redis-server >/dev/null 2>&1 || missing="yes"; \
	command -v redis-sentinel >/dev/null 2>&1 || missing="yes"; \
	command -v pkg-config >/dev/null 2>&1 || missing="yes"; \
	command -v openssl >/dev/null 2>&1 || missing="yes"; \
	[ -f /usr/share/javascript/underscore/underscore.js ] || missing="yes"; \
	if [ -n "$$missing" ]; then \
	  echo "installing $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

build: deps
	$(SWIFT) build -c release --product portcullis $(RELEASE_SWIFT_FLAGS)

# The release build's flags, for the benchmark and soak scripts that build
# their own binary the same way.
release-flags:
	@echo '$(RELEASE_SWIFT_FLAGS)'

# Serves examples/ (examples/tyk.conf) on the in-memory store at http://127.0.0.1:8080.
run: build
	@echo "Serving examples/ on http://127.0.0.1:8080 (Ctrl-C stops). Try:"
	@echo "  curl 'http://127.0.0.1:8080/hello/greet?name=Ada'"
	@echo "  curl -H 'x-session-key: my-key' http://127.0.0.1:8080/forum/greet"
	$(BIN) serve

# Runs each example plugin once on its own and prints what it did.
plugins-demo: build
	@echo "== header-injection.js (pre hook) on examples/requests/get.json"
	$(BIN) plugin run plugins/header-injection.js --request examples/requests/get.json --config examples/plugin-config.json
	@echo "== forum-renewal.js renewing an expired session (clock fixed at 1700000000)"
	$(BIN) plugin run plugins/forum-renewal.js --request examples/requests/renew.json \
	  --session examples/sessions/expired.json --config examples/plugin-config.json --now 1700000000
	@echo "== virtual-endpoint.js"
	$(BIN) plugin run plugins/virtual-endpoint.js --hook virtual --handler helloEndpoint \
	  --request examples/requests/hello.json --config examples/plugin-config.json

# Replays the forum scenarios: all pass, then (expected) the race ones fail under tyk-race.
scenarios: build
	$(BIN) scenario run examples/scenarios/
	-$(BIN) scenario run examples/scenarios/ --mode tyk-race

# Three groups run one after the other, so the heavy ones do not starve the
# timing-sensitive socket and store tests of threads: the rest; the suites
# that drive external processes (the Sentinel failover with five Redis
# processes and two loaded nodes for about 40 s, and the TLS suites with
# openssl, curl and TLS redis-servers); the CPU-bound fuzz suites.
PROCESS_SUITES := SentinelFailoverTests|ListenerTLSTests|RedisTLSAuthTests
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip PortcullisFuzzTests --skip '$(PROCESS_SUITES)'
	$(SWIFT) test --skip-build --filter '$(PROCESS_SUITES)'
	$(SWIFT) test --skip-build --filter PortcullisFuzzTests

bench: deps
	$(SWIFT) build -c release --product MicroBench $(RELEASE_SWIFT_FLAGS)
	LD_PRELOAD=$$(find .build/release/ -maxdepth 1 -name 'libMallocInterposerSwift.so' | head -1) \
	  .build/release/MicroBench | tee Benchmarks/micro-results.txt
	$(MAKE) bench-peers

# Side-by-side with nginx, nginx+njs, nginx+Lua and HAProxy+Lua on loopback;
# writes Benchmarks/peer-results.md. Knobs: DURATION, CONNECTIONS, ONLY, ...
bench-peers:
	bash Benchmarks/peers/run.sh

# Two portcullis binaries served at once on one benchmark row, loaded in
# alternating rounds: the comparison of two builds on a noisy machine.
bench-pair:
	@[ -n "$(OLD)" ] && [ -n "$(NEW)" ] || { echo "make bench-pair needs OLD=<binary> NEW=<binary> (ROW=, ROUNDS=: bash Benchmarks/peers/pair.sh --help)"; exit 2; }
	bash Benchmarks/peers/pair.sh "$(OLD)" "$(NEW)"

# Two nodes on one redis-server under wrk load for SOAK_SECONDS (default 300):
# fails on any 401/non-2xx, error log line or RSS growth; writes soak/last-results.md.
soak:
	bash soak/run.sh

clean:
	rm -rf .build
