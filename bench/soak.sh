#!/usr/bin/env bash
# The chaos soak, longer: SOAK_FILES files (default 3000) through b2-transport-std plus a
# tenth of that through b2-transport-esp, every simulator fault on at once; then the
# kill-and-resume phase several times. Prints the figures of each run.
# Usage: bench/soak.sh [FILES] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-3000}"
rounds="${2:-3}"
for r in $(seq "$rounds"); do
    echo "== round $r"
    SOAK_FILES="$files" cargo test --release -q -p b2-tests --test soak -- --nocapture 2>&1 | grep -E '^soak:|test result|panicked'
    cargo test --release -q -p b2-examples --test kill_resume -- --nocapture 2>&1 | grep -E '^killed|test result|panicked'
done
