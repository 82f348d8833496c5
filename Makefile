# torii-edge: `make dev` runs the Worker locally, `make test` is the whole gate (CI runs
# only `.ci/run`, which runs `make test`). Tools are installed on first use into
# project-local folders (.tools/, node_modules/) at the versions pinned here and in
# Cargo.lock / package-lock.json, and reused afterwards.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
MAKEFLAGS += --no-print-directory

ROOT  := $(abspath .)
TOOLS := $(ROOT)/.tools
BIN   := $(TOOLS)/bin

# wasm-bindgen-cli must be the exact version of the wasm-bindgen crate in Cargo.lock;
# worker-build the version of the worker crate.
lock_version = $(shell awk '$$0 == "name = \"$(1)\"" { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)
WASM_BINDGEN_VERSION := $(call lock_version,wasm-bindgen)
WORKER_BUILD_VERSION := $(call lock_version,worker)

DEV_PORT       ?= 8787
FUZZ_SECONDS   ?= 60
# Gzipped size budget of the Worker's wasm.
WASM_GZIP_BUDGET ?= 1048576

WRANGLER := $(ROOT)/node_modules/.bin/wrangler
# worker-build would download wasm-bindgen, wasm-opt and esbuild: point it at ours.
WORKER_BUILD_ENV := \
	WASM_BINDGEN_BIN=$(BIN)/wasm-bindgen \
	WASM_OPT_BIN=$(ROOT)/node_modules/.bin/wasm-opt \
	ESBUILD_BIN=$(ROOT)/node_modules/.bin/esbuild
export WRANGLER_SEND_METRICS := false

CLIPPY := cargo clippy --locked --all-targets
.PHONY: help tools rust-tools wasm-bindgen worker-build-tool npm-tools py-tools build-worker dev \
	test fmt-check clippy cargo-test wasm-core wasm-vectors wasm-size dry-run e2e interop js js-test bench fuzz clean perf-guard

help:
	@echo "make dev    build the Worker and run it on http://127.0.0.1:$(DEV_PORT) (wrangler dev)"
	@echo "make test   every gate: fmt, clippy, tests, wasm builds, size budget, dry-run deploy, e2e, js"
	@echo "make bench  verify benchmark   make fuzz  fuzz each target for FUZZ_SECONDS=$(FUZZ_SECONDS)"

# ---------------------------------------------------------------- tools
tools: rust-tools wasm-bindgen worker-build-tool npm-tools

rust-tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

wasm-bindgen:
	@test -n "$(WASM_BINDGEN_VERSION)" || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
	@if [ "$$($(BIN)/wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) into .tools"; \
		cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --root "$(TOOLS)" --force; \
	fi

worker-build-tool:
	@test -n "$(WORKER_BUILD_VERSION)" || { echo "no worker crate in Cargo.lock" >&2; exit 1; }
	@if [ "$$($(BIN)/worker-build --version 2>/dev/null)" != "$(WORKER_BUILD_VERSION)" ]; then \
		echo "installing worker-build $(WORKER_BUILD_VERSION) into .tools"; \
		cargo install worker-build --version "=$(WORKER_BUILD_VERSION)" --root "$(TOOLS)" --force --locked \
		|| cargo install worker-build --version "=$(WORKER_BUILD_VERSION)" --root "$(TOOLS)" --force; \
	fi

npm-tools: node_modules/.installed

# Python for the PyJWT interop check (tests/e2e/pyjwt.test.mjs): a venv in .tools with the
# exact pins of tests/e2e/requirements.txt, rebuilt when they change.
VENV := $(TOOLS)/venv
PY_REQUIREMENTS := tests/e2e/requirements.txt
py-tools: $(VENV)/.installed

$(VENV)/.installed: $(PY_REQUIREMENTS)
	rm -rf "$(VENV)"
	python3 -m venv "$(VENV)"
	"$(VENV)/bin/pip" install --quiet --disable-pip-version-check --no-input -r $(PY_REQUIREMENTS)
	@cp $(PY_REQUIREMENTS) $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# ---------------------------------------------------------------- Worker
build-worker: tools
	$(WORKER_BUILD_ENV) $(BIN)/worker-build --release --locked --features worker,dalek --no-default-features

.dev.vars:
	@umask 077; printf 'TORII_MASTER_SECRET=%s\nTORII_OPERATOR_SECRET=%s\n' \
		"$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')" \
		"$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')" > $@
	@echo "created .dev.vars with a random TORII_MASTER_SECRET and TORII_OPERATOR_SECRET (git-ignored)"

dev: build-worker .dev.vars
	$(WRANGLER) d1 migrations apply DB --local
	node scripts/dev.mjs --port $(DEV_PORT)

# ---------------------------------------------------------------- gates
test: fmt-check clippy cargo-test interop wasm-core wasm-vectors build-worker wasm-size dry-run e2e js-test perf-guard
	@echo "make test: all gates passed"

fmt-check: rust-tools
	cargo fmt --all -- --check

clippy: rust-tools
	$(CLIPPY) --no-default-features -- -D warnings
	$(CLIPPY) -- -D warnings
	$(CLIPPY) --all-features -- -D warnings

# Default features test the reference signature backend (ed25519-compact); --all-features
# the `dalek` one: the vectors and rules run against both.
cargo-test:
	cargo test --locked
	cargo test --locked --all-features

# The no_std core alone, for wasm32. Built as an rlib: a no_std cdylib would need a
# global allocator and a panic handler, which only the std adapters (js, worker) bring.
wasm-core: rust-tools
	cargo rustc --locked --target wasm32-unknown-unknown --no-default-features --lib --crate-type rlib
	cargo rustc --locked --target wasm32-unknown-unknown --no-default-features --features dalek --lib --crate-type rlib

# The Wycheproof and RFC 8037 vector checks again, compiled for wasm32-unknown-unknown and
# run in Node by wasm-bindgen-test-runner, once per signature backend.
WASM_TEST := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=$(BIN)/wasm-bindgen-test-runner \
	cargo test --locked --target wasm32-unknown-unknown --no-default-features --test wasm_vectors
wasm-vectors: rust-tools wasm-bindgen
	$(WASM_TEST)
	$(WASM_TEST) --features dalek

wasm-size: build-worker
	@node scripts/wasm-size.mjs build/index_bg.wasm $(WASM_GZIP_BUDGET)

dry-run: build-worker
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
		$(WRANGLER) deploy --dry-run --outdir "$$out"

e2e: build-worker js py-tools
	node --test tests/e2e/

# jose <-> core interop (drives examples/jwt.rs).
interop: npm-tools
	node --test tests/interop/

# The npm package in js/ (filled in by its own Makefile or package.json).
js: rust-tools wasm-bindgen npm-tools
	$(MAKE) -C js

js-test: rust-tools wasm-bindgen npm-tools
	$(MAKE) -C js test

# Instruction counts (valgrind callgrind) of one native verify and one gateway decision
# against tests/data/perf-baseline.json: a 1.5x slowdown fails (scripts/perf-guard.sh;
# `scripts/perf-guard.sh --bless` after an intended change). No wall clock involved.
perf-guard:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	scripts/perf-guard.sh

# ---------------------------------------------------------------- not gates
bench:
	cargo bench --locked --bench verify
	cargo bench --locked --bench verify --features dalek
	cargo bench --locked --bench templates
	$(MAKE) build-worker && node benches/edge/bench.mjs
	$(MAKE) js && $(MAKE) -C js bench

# cargo-fuzz needs nightly-only rustc flags; RUSTC_BOOTSTRAP lets the machine's stable
# toolchain accept them (no nightly download). cargo-fuzz is installed into .tools.
fuzz:
	@[ -x $(BIN)/cargo-fuzz ] || cargo install cargo-fuzz --locked --root "$(TOOLS)"
	cd fuzz && for t in $$(PATH="$(BIN):$$PATH" cargo fuzz list); do \
		mkdir -p corpus/$$t; \
		PATH="$(BIN):$$PATH" RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t $$([ -d seeds/$$t ] && echo seeds/$$t) -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

clean:
	cargo clean
	rm -rf build .wrangler
