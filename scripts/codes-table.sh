#!/usr/bin/env bash
# Regenerates the error-code table in docs/errors.md from the Rust code table
# (tests/readme.rs prints the exact table when the page drifts).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test --locked --test readme error_codes_page_lists_every_error_code 2>&1 || true)
table=$(printf '%s\n' "$out" | awk '/^\| code \| HTTP \| cause \|$/{on=1} on && /^\|/{print} on && !/^\|/{if(on)exit}')
[ -n "$table" ] || { echo "docs/errors.md is up to date"; exit 0; }
python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1].strip() + "\n"
p = "docs/errors.md"
s = open(p).read()
s2 = re.sub(r"\| code \| HTTP \| cause \|\n(\|.*\n)+", lambda m: table, s, count=1)
open(p, "w").write(s2)
print("docs/errors.md: table regenerated")
PY
