# loadpipe: `make demo` runs the pipeline against the reference target;
# `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
# The binaries: under $CARGO_TARGET_DIR when it is set, as cargo puts them.
RELEASE := $(or $(CARGO_TARGET_DIR),target)/release
PREFIX ?= $(HOME)/.cargo
TOOLS := seed hammer aggregate compare chart pgwatch hostwatch tasktracker
OUT ?= out
SCENARIO ?= scenarios/tasktracker.toml

.PHONY: all build release install test fuzz-build fmt clippy demo demo-ws demo-pg compare-arch baseline compare charts bench soak clean

all: build

build:
	$(CARGO) build --workspace --bins

release:
	$(CARGO) build --release --workspace --bins

# The eight tools on PATH: copied into $(PREFIX)/bin (~/.cargo/bin, already on
# PATH wherever rustup installed cargo).
install: release
	install -d $(PREFIX)/bin
	install -m 755 $(addprefix $(RELEASE)/,$(TOOLS)) $(PREFIX)/bin/
	@echo "installed $(TOOLS) into $(PREFIX)/bin"

# fmt, clippy, every test, and the fuzz targets must build. The integration
# tests run the real binaries,
# so those are built first.
test:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast
	$(MAKE) fuzz-build

# The cargo-fuzz targets (fuzz/, its own workspace) build on stable without
# cargo-fuzz or nightly; fuzz/README.md says how to run them.
fuzz-build:
	$(CARGO) build --manifest-path fuzz/Cargo.toml --bins

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Build, start tasktracker on a free port, run the pipeline with hostwatch
# sampling tasktracker beside it, chart both, stop it. USERS, STAGES, THINK,
# PRESET (quick|standard|medium|stress|endurance) and SCENARIO shape the load
# of every demo target (scripts/lib.sh).
demo: release
	scripts/demo.sh

# seed 002's TaskForge test: the HTTP mix beside 50 WebSocket subscribers.
demo-ws: release
	scripts/demo-ws.sh

# The same on PostgreSQL, with pgwatch beside the pipeline and its samples charted.
demo-pg: release
	scripts/demo-pg.sh

# Monolith vs microservices (seed 000): both pipelines, compare side by side, charts.
compare-arch: release
	scripts/arch.sh

# Record a baseline run in out/baseline; `make compare` checks first that it
# exists, runs again into out/run-<time>/ and prints compare's verdict first.
# compare's exit status (1: a regression) is scripts/baseline.sh's; make turns
# any failure into its own 2, so CI runs `scripts/baseline.sh compare`.
baseline: release
	scripts/baseline.sh baseline

compare: release
	scripts/baseline.sh compare

# Redraw the charts of the latest run, with its pg/host samples when it has them.
charts: release
	LATEST=$(OUT)/latest scripts/charts.sh

# Speed and memory goals, each tool side by side with its peers (installs
# wrk, nginx, hyperfine... from Debian's packages). Loopback only, bounded.
bench: release
	aggregate/bench.sh
	hammer/bench.sh
	hammer/bench/tls.sh
	hammer/bench/ws.sh
	hammer/bench/precision.sh
	hammer/bench/conns.sh
	chart/bench.sh
	compare/bench.sh
	seed/bench.sh
	tasktracker/bench.sh
	hostwatch/bench.sh

# Ten minutes at a fixed 200 req/s, RSS of hammer and aggregate sampled every 10 s
# by hostwatch, with its leak check on each.
soak: release
	scripts/soak.sh

clean:
	$(CARGO) clean
	rm -rf $(OUT)
