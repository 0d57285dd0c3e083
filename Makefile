# loadpipe: `make demo` runs the pipeline against the reference target;
# `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
RELEASE := target/release
OUT ?= out
SCENARIO ?= scenarios/tasktracker.toml

.PHONY: all build release test fmt clippy demo bench clean

all: build

build:
	$(CARGO) build --workspace --bins

release:
	$(CARGO) build --release --workspace --bins

# fmt, clippy and every test; the integration tests run the real binaries,
# so they are built first.
test:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace --no-fail-fast

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Build, start tasktracker on a free port, run the pipeline, stop it.
demo: release
	scripts/demo.sh

clean:
	$(CARGO) clean
	rm -rf $(OUT)
