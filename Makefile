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

# wasm-bindgen-cli must be the exact version of the wasm-bindgen crate in Cargo.lock.
lock_version = $(shell awk '$$0 == "name = \"$(1)\"" { getline; gsub(/"/, "", $$3); print $$3; exit }' Cargo.lock)
WASM_BINDGEN_VERSION := $(call lock_version,wasm-bindgen)

DEV_PORT       ?= 8787
FUZZ_SECONDS   ?= 60
# make load: seconds of traffic per Worker (ours, then the pass-through baseline), and
# rounds of that pair (the memory verdict compares the medians of the rounds).
LOAD_SECONDS   ?= 60
LOAD_ROUNDS    ?= 3
# Gzipped size budgets of the Worker's two wasm modules (docs/benchmarks.md, "Worker
# size" and "Two modules"; the standard library rebuilt, which needs rust-src): the edge's
# (build/index_bg.wasm, what every isolate loads) at the issue's target of 200 KB, and
# the Backend API's (build/api_bg.wasm, loaded on its first call; built without the
# edge's routes) at 208,499 bytes measured plus ~2% for growth.
WASM_GZIP_BUDGET ?= 200000
API_WASM_GZIP_BUDGET ?= 212992

WRANGLER := $(ROOT)/node_modules/.bin/wrangler
export WRANGLER_SEND_METRICS := false

CLIPPY := cargo clippy --locked --all-targets
.PHONY: help tools rust-tools wasm-bindgen npm-tools py-tools interop-tools browser-tools build-worker \
	build-worker-dev dashboard dashboard-test dev load load-smoke \
	test fmt-check clippy doc-check cargo-test wasm-core wasm-vectors wasm-size dry-run e2e interop js js-test bench bench-readme bench-selftest fuzz fuzz-tools fuzz-build fuzz-smoke clean perf-guard

help:
	@echo "make dev    build the dev Worker (build-dev/) and run it on http://127.0.0.1:$(DEV_PORT) (wrangler dev)"
	@echo "make build-worker  the deployable Worker (build/, no dev routes: what wrangler deploy ships)"
	@echo "make test   every gate: fmt, clippy, rustdoc, tests, wasm builds, size budget, dry-run deploy, e2e, js, fuzz smoke, perf guard"
	@echo "make bench  every benchmark, one table (target/bench/report.md; BENCH_QUICK=1: few rounds)"
	@echo "make bench-readme  put the last make bench table into README.md and docs/benchmarks.md"
	@echo "make fuzz   fuzz each target for FUZZ_SECONDS=$(FUZZ_SECONDS)"
	@echo "make fuzz-smoke  each fuzz target for 10 s (part of make test)"
	@echo "make load   LOAD_ROUNDS=$(LOAD_ROUNDS) x LOAD_SECONDS=$(LOAD_SECONDS) of mixed traffic through the Worker and a pass-through (wrangler dev, loopback)"

# ---------------------------------------------------------------- tools
tools: rust-tools wasm-bindgen npm-tools

rust-tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
		|| rustup target add wasm32-unknown-unknown
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
	@rustup component list --installed | grep -qx 'rust-src' || rustup component add rust-src \
		|| echo "rust-tools: no rust-src: the Worker builds with the prebuilt std (scripts/build-worker.mjs)"

wasm-bindgen:
	@test -n "$(WASM_BINDGEN_VERSION)" || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
	@if [ "$$($(BIN)/wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) into .tools"; \
		cargo install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --root "$(TOOLS)" --force; \
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

# Debian packages, installed with apt-get only when one is missing (then after one
# `apt-get update`); nothing to do when all are there. $(call debs,PKG...)
debs = missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -qx 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The interop origins of other languages (tests/interop/origins/): Go with Debian's
# go-jose v2 (built offline, GOPATH=/usr/share/gocode), Ruby with ruby-jwt and rbnacl
# (Ed25519). Python uses PyJWT from `make py-tools`.
INTEROP_DEBS := golang-go golang-gopkg-square-go-jose.v2-dev ruby-jwt ruby-rbnacl
interop-tools:
	@$(call debs,$(INTEROP_DEBS))

# A real browser for js/test/runtimes.test.mjs (driven by playwright-core from js/).
BROWSER_DEBS := chromium
browser-tools:
	@$(call debs,$(BROWSER_DEBS))

# ---------------------------------------------------------------- Worker
# The dashboard (dashboard/, docs/dashboard.md), the Worker's static assets (wrangler.toml
# `[assets]`, not in the wasm): dashboard/src bundled with CodeMirror by esbuild, and the
# npm package's browser entry (make js), into dashboard/dist. Both Worker builds need it:
# wrangler refuses a missing assets directory.
dashboard: js npm-tools
	node dashboard/build.mjs

# The deployable Worker, into build/ (wrangler.toml's `main`: what `wrangler deploy` and
# `make dry-run` ship, what `make wasm-size` measures). No `dev` feature: the dev-only
# routes (/_torii/dev/*, /_torii/devtools/*) are not compiled in.
# scripts/build-worker.mjs: cargo, wasm-bindgen, wasm-opt and esbuild around the Worker's
# own entry module (src/worker/entry.mjs), all pinned project-local tools.
build-worker: tools dashboard
	node scripts/build-worker.mjs --out-dir build --features worker,dalek,edge

# The dev Worker, into build-dev/: the deployable one plus the crate feature `dev` (the
# dev-only routes of src/worker/devtools.rs, answered for loopback requests with
# TORII_DEV_MODE=1), for `make dev` and `make e2e` only; never deploy it. Its own target
# dir: both builds write the same artifact (torii_edge.wasm), so a shared one would
# rebuild the crate at every switch, and under `make -j` could hand one build's wasm to
# the other's bindings.
WORKER_DEV_TARGET_DIR := $(ROOT)/target/worker-dev
build-worker-dev: tools dashboard
	node scripts/build-worker.mjs --out-dir build-dev --features worker,dalek,edge,dev \
		--target-dir $(WORKER_DEV_TARGET_DIR)

.dev.vars:
	@umask 077; printf 'TORII_MASTER_SECRET=%s\nTORII_OPERATOR_SECRET=%s\n' \
		"$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')" \
		"$$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')" > $@
	@echo "created .dev.vars with a random TORII_MASTER_SECRET and TORII_OPERATOR_SECRET (git-ignored)"

dev: build-worker-dev .dev.vars
	$(WRANGLER) d1 migrations apply DB --local
	node scripts/dev.mjs --port $(DEV_PORT)

# ---------------------------------------------------------------- gates
test: fmt-check clippy doc-check cargo-test interop wasm-core wasm-vectors build-worker wasm-size dry-run \
	build-worker-dev e2e dashboard-test js-test bench-selftest perf-guard fuzz-smoke load-smoke
	@echo "make test: all gates passed"

fmt-check: rust-tools
	cargo fmt --all -- --check

# The deployable Worker's feature sets are linted on their own (the edge's module, then
# the Backend API's): code only the dev routes or the API use must be cfg'd out with them
# (dead code here). The API's module is built without `edge` (scripts/build-worker.mjs):
# what only the edge's routes use is allowed to be dead there (src/worker/mod.rs).
clippy: rust-tools
	$(CLIPPY) --no-default-features -- -D warnings
	$(CLIPPY) --no-default-features --features std -- -D warnings
	$(CLIPPY) --no-default-features --features worker,dalek,edge -- -D warnings
	$(CLIPPY) --no-default-features --features worker,dalek,api -- -D warnings
	$(CLIPPY) -- -D warnings
	$(CLIPPY) --all-features -- -D warnings

# Docs are API: rustdoc's warnings (a broken or private intra-doc link, a bad code block)
# fail the build, for the default and the full feature set.
doc-check: rust-tools
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --all-features

# The reference signature backend (ed25519-compact: `std` without the default `dalek`), then
# every feature (the `dalek` backend, the Worker, the npm surface): the vectors and rules
# run against both backends.
cargo-test:
	cargo test --locked --no-default-features --features std
	cargo test --locked --all-features
	cd vendor/ed25519-compact && cargo test --locked --features blind-keys --target-dir $(CURDIR)/target/vendor

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
	@node scripts/wasm-size.mjs build/api_bg.wasm $(API_WASM_GZIP_BUDGET)

dry-run: build-worker
	@out=$$(mktemp -d); trap 'rm -rf "$$out"' EXIT; \
		$(WRANGLER) deploy --dry-run --outdir "$$out"

# The e2e tests run the dev build (build-dev/), and the deployable one (build/) to prove
# it has no dev routes (tests/e2e/devmode.test.mjs).
e2e: build-worker build-worker-dev js py-tools interop-tools
	node --test tests/e2e/

# The dashboard (tests/browser/): in Chromium (playwright-core) against the dev Worker with
# local D1 (its pages, CSP, editor diagnostics and Preview, keys, Try it, axe-core), and its
# files and headers from the deployable one.
dashboard-test: build-worker build-worker-dev npm-tools browser-tools
	node --test tests/browser/

# jose <-> core interop (drives examples/jwt.rs).
interop: npm-tools
	node --test tests/interop/

# The npm package in js/ (filled in by its own Makefile or package.json).
js: rust-tools wasm-bindgen npm-tools
	$(MAKE) -C js

# js/test/runtimes.test.mjs also runs the package in Deno and Bun (npm devDependencies of
# js/) and in Chromium (browser-tools).
js-test: rust-tools wasm-bindgen npm-tools browser-tools
	$(MAKE) -C js test

# Instruction counts (valgrind callgrind) of one native verify and one gateway decision
# against tests/data/perf-baseline.json: a 1.5x slowdown fails (scripts/perf-guard.sh;
# `scripts/perf-guard.sh --bless` after an intended change). No wall clock involved.
perf-guard:
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	scripts/perf-guard.sh

# Load (benches/load/load.mjs, docs/benchmarks.md): LOAD_SECONDS of mixed traffic at 16
# requests in flight through the dev Worker under wrangler dev, key rotation halfway, then
# the same through a bare pass-through Worker, LOAD_ROUNDS times; loopback only. Fails on
# any wrong decision or unexpected 5xx, and when our median steady-state RSS growth per
# request exceeds the pass-through's by more than 10%; reports requests/s, latency and
# workerd memory. load-smoke, one 10 s round, is part of `make test` (no timing or memory
# assertion).
# The harness's own self-tests (benches/load/check.test.mjs) run first.
LOAD_RUN := node benches/load/load.mjs --concurrency 16
load: build-worker-dev npm-tools
	node --test benches/load/
	$(LOAD_RUN) --seconds $(LOAD_SECONDS) --rounds $(LOAD_ROUNDS) --assert-memory

load-smoke: build-worker-dev npm-tools
	node --test benches/load/
	$(LOAD_RUN) --seconds 10

# The self-test of make bench's driver (benches/report/table.test.mjs): the table from
# canned results (shape, verdicts, markers in README.md and docs/benchmarks.md), and the npm,
# edge and API benches run with tiny counts to check the JSON they write. No timing checked.
bench-selftest: build-worker build-worker-dev js
	@$(MAKE) -C js deps
	node --test benches/report/

# ---------------------------------------------------------------- not gates
# Every benchmark once, one after the other, and ONE table (benches/report.mjs): native
# verify (both backends) vs the raw backend and jsonwebtoken, the gateway decision, template
# rendering, npm verify vs jose.jwtVerify, the edge's added latency vs the jose Worker, the
# cold starts, the wasm sizes, the Backend API reads, each beside its target and its floor,
# with the date, machine, load average and tool versions. Each bench's own output is in
# target/bench/logs/; the table in target/bench/report.md. BENCH_QUICK=1: few rounds.
bench: build-worker build-worker-dev js
	@$(MAKE) -C js deps
	node benches/report.mjs

# The last `make bench` table into README.md and docs/benchmarks.md (between the markers).
bench-readme:
	node benches/report.mjs --readme

# cargo-fuzz needs nightly-only rustc flags; RUSTC_BOOTSTRAP lets the machine's stable
# toolchain accept them (no nightly download). cargo-fuzz is installed into .tools on first
# use. All targets are built by one `cargo fuzz build` (one dependency build, shared
# fuzz/target), then each runs for FUZZ_SECONDS on fuzz/corpus/<target> (kept, git-ignored)
# plus the committed seeds in fuzz/seeds/<target>. A crash fails the run; its input is in
# fuzz/artifacts/<target>/ and the log in fuzz/target/fuzz-logs/<target>.log.
CARGO_FUZZ_VERSION ?= 0.13.2
FUZZ_ENV := PATH="$(BIN):$$PATH" RUSTC_BOOTSTRAP=1

fuzz-tools:
	@if [ "$$($(BIN)/cargo-fuzz --version 2>/dev/null)" != "cargo-fuzz $(CARGO_FUZZ_VERSION)" ]; then \
		echo "installing cargo-fuzz $(CARGO_FUZZ_VERSION) into .tools"; \
		cargo install cargo-fuzz --version "=$(CARGO_FUZZ_VERSION)" --locked --root "$(TOOLS)" --force; \
	fi

fuzz-build: fuzz-tools
	cd fuzz && $(FUZZ_ENV) cargo fuzz build

fuzz: fuzz-build
	@cd fuzz && mkdir -p target/fuzz-logs && for t in $$($(FUZZ_ENV) cargo fuzz list); do \
		mkdir -p corpus/$$t; log=target/fuzz-logs/$$t.log; \
		if ! $(FUZZ_ENV) cargo fuzz run $$t corpus/$$t $$([ -d seeds/$$t ] && echo seeds/$$t) -- \
			-max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 >$$log 2>&1; then \
			tail -n 40 $$log; echo "fuzz target $$t failed (log: fuzz/$$log)" >&2; exit 1; \
		fi; \
		runs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' $$log); \
		eps=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
		corp=$$(sed -n 's/.*DONE .* corp: \([^ ]*\) .*/\1/p' $$log); \
		printf 'fuzz %-9s %s, %s exec/s, corpus %s (units/size), fuzz/corpus/%s: %s files\n' \
			$$t "$$runs" "$$eps" "$$corp" $$t "$$(ls corpus/$$t | wc -l)"; \
	done

# About 10 s per target: part of `make test`.
fuzz-smoke:
	@$(MAKE) fuzz FUZZ_SECONDS=10

clean:
	cargo clean
	rm -rf build build-dev .wrangler
