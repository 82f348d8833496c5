#!/usr/bin/env bash
# Instruction-count regression guard (make perf-guard, part of make test): counts the
# instructions of one native verify and of one per-request gateway decision
# (examples/perf_guard.rs) under valgrind's callgrind — the same count on any machine load,
# so no wall clock is involved — and fails when either is over THRESHOLD × the committed
# baseline (tests/data/perf-baseline.json). Per-operation counts are the difference of two
# runs (N2 − N1 operations), so start-up work cancels out.
#   scripts/perf-guard.sh            check
#   scripts/perf-guard.sh --bless    rewrite the baseline
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=target/release/examples/perf_guard
BASELINE=tests/data/perf-baseline.json
THRESHOLD=${PERF_GUARD_THRESHOLD:-1.5}
N1=100
N2=300
cargo build --locked --release --example perf_guard --quiet
count() { # mode n → instructions
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" "$1" "$2" >/dev/null 2>&1
  awk '/^summary:|^totals:/ { print $2; exit }' "$out"
  rm -f "$out"
}
declare -A per
for mode in verify gateway; do
  a=$(count "$mode" $N1)
  b=$(count "$mode" $N2)
  per[$mode]=$(( (b - a) / (N2 - N1) ))
done
if [ "${1:-}" = "--bless" ]; then
  printf '{\n  "verify": %d,\n  "gateway": %d\n}\n' "${per[verify]}" "${per[gateway]}" > "$BASELINE"
  echo "perf-guard: baseline written: verify ${per[verify]}, gateway ${per[gateway]} instructions per operation"
  exit 0
fi
fail=0
for mode in verify gateway; do
  base=$(node -e "process.stdout.write(String(JSON.parse(require('fs').readFileSync('$BASELINE','utf8'))['$mode']))")
  ratio=$(awk -v a="${per[$mode]}" -v b="$base" 'BEGIN { printf "%.3f", a / b }')
  verdict=ok
  if awk -v r="$ratio" -v t="$THRESHOLD" 'BEGIN { exit !(r > t) }'; then verdict="REGRESSION (over ${THRESHOLD}x)"; fail=1; fi
  printf 'perf-guard: %-8s %9d instructions/op (baseline %9d, %sx) %s\n' "$mode" "${per[$mode]}" "$base" "$ratio" "$verdict"
done
exit $fail
