#!/usr/bin/env bash
# Sync benchmark: `b2ctl sync` of a tree of small local files to b2-sim, first run and a
# second run with nothing changed (wall time, list calls, class C transactions from
# b2-sim's /_sim/costs, peak RSS of b2ctl), for each tree size given; and the official `b2`
# tool's sync of the same tree (installed from PyPI into a venv, pointed at the same
# b2-sim). Prints the "Sync" section of BENCHMARKS.md and replaces it there (NO_WRITE=1: print
# only).
#
# Usage: bench/sync.sh [FILES...]            (default: 10000 100000)
#   B2_TOO=0 skips the official tool; B2_MAX=N runs it only on trees of at most N files
#   (default 10000: it needs minutes per 10,000 files on a loaded 2-core machine).
#   THREADS (default 8) is the file threads of both tools.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
threads="${THREADS:-8}"
b2_too="${B2_TOO:-1}"
b2_max="${B2_MAX:-10000}"
work="$(mktemp -d /tmp/b2-sync-bench.XXXXXX)"
trap 'kill "${sim_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

venv=target/bench-venv
if [ "$b2_too" = 1 ] && [ ! -x "$venv/bin/b2" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet b2
fi
cargo build --release --quiet -p b2-sim -p b2-examples --bin b2-sim --bin b2ctl
CTL=./target/release/b2ctl
B2="$venv/bin/b2"

./target/release/b2-sim --port 0 --threads 2 > "$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
read -r _ key_id key < <(grep '^KEY ' "$work/sim.out")
url=$(sed -n 's/^READY //p' "$work/sim.out")
export B2_APPLICATION_KEY_ID="$key_id" B2_APPLICATION_KEY="$key" B2_ENVIRONMENT="$url"
export B2_ACCOUNT_INFO="$work/b2_account_info" PYTHONWARNINGS=ignore
$CTL bucket create sync-bench > /dev/null
if [ "$b2_too" = 1 ]; then "$B2" account authorize "$key_id" "$key" > /dev/null; fi

class_c() { curl -s "$url/_sim/costs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["classC"])'; }

# tree DIR N: N files of 100 bytes, 100 to a directory (dirs d000/, d001/, ...).
tree() {
    python3 - "$1" "$2" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100))
    if i % 100 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.txt" % i), "wb") as f:
        f.write(b"%099d\n" % i)
EOF
}

# run LABEL N CMD...: one table row (wall s, peak RSS MiB, list calls, class C).
run() {
    local label=$1 n=$2; shift 2
    local c0; c0=$(class_c)
    if ! /usr/bin/time -f "%e %M" -o "$work/time" "$@" > "$work/out" 2> "$work/err"; then
        echo "FAILED: $label: $*" >&2; tail -5 "$work/err" >&2; exit 1
    fi
    local c1; c1=$(class_c)
    local lists; lists=$(grep -o '[0-9]* list calls' "$work/out" | grep -o '^[0-9]*' || echo "-")
    read -r secs kib < "$work/time"
    printf '| %s | %s | %s | %.1f | %s | %s |\n' "$label" "$n" "$secs" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$lists" "$((c1 - c0))"
}

rows="$work/rows"
: > "$rows"
for n in "${sizes[@]}"; do
    rm -rf "$work/tree"; tree "$work/tree" "$n"
    run "b2ctl sync, first" "$n" $CTL sync "$work/tree" "b2://sync-bench/ctl$n" --threads "$threads" | tee -a "$rows"
    run "b2ctl sync, nothing changed" "$n" $CTL sync "$work/tree" "b2://sync-bench/ctl$n" --threads "$threads" | tee -a "$rows"
    if [ "$b2_too" = 1 ] && [ "$n" -le "$b2_max" ]; then
        run "b2 sync, first" "$n" "$B2" sync --no-progress --threads "$threads" "$work/tree" "b2://sync-bench/b2$n" | tee -a "$rows"
        run "b2 sync, nothing changed" "$n" "$B2" sync --no-progress --threads "$threads" "$work/tree" "b2://sync-bench/b2$n" | tee -a "$rows"
    fi
done

# The section of BENCHMARKS.md (replaced in place; bench/run.sh keeps it).
section="$work/section"
{
echo "## Sync (bench/sync.sh)"
echo
echo "Produced by \`bench/sync.sh ${sizes[*]}\` (B2_MAX=$b2_max) on $(date -u +%Y-%m-%d): $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')), Linux $(uname -r)."
echo "A tree of N files of 100 bytes, 100 to a directory, synced to an empty prefix of the same"
echo "\`b2-sim\` (in memory, 2 server threads), then again with nothing changed; one run of each"
echo "(not medians; this 2-core machine is shared, so times move by tens of percent)."
echo "\`b2ctl sync TREE b2://sync-bench/ctlN --threads $threads\` (release build) and the official tool"
echo "$("$B2" version 2>/dev/null || echo '(not run)'): \`b2 sync --no-progress --threads $threads TREE b2://sync-bench/b2N\`."
echo "Peak RSS is GNU time's maximum resident set of the client process."
echo
echo "| run | files | wall s | peak RSS MiB | list calls (b2ctl's report) | class C on b2-sim |"
echo "|---|---|---|---|---|---|"
cat "$rows"
echo
echo "- List calls: b2ctl lists the destination once per run with \`b2_list_file_names\` in pages"
echo "  of 1,000 (\`b2_list_file_versions\` only with --delete or --keep-days): 1 call for the empty"
echo "  prefix, N/1,000 when it holds N files. Its class C count on b2-sim adds one"
echo "  \`b2_authorize_account\` and one \`b2_list_buckets\` per run (no saved account info here)."
echo "  The official tool asks for pages of 10,000 versions, which b2-sim counts as one class C"
echo "  each; B2 bills one class C transaction per 1,000 names returned, so on B2 both tools pay"
echo "  about N/1,000 for a pass (b2ctl's pages cost the same and take more round trips)."
echo "- Peak RSS of b2ctl does not grow with the tree: the walk holds the entries of the"
echo "  directories on the current path and one listing page, never the tree."
echo "- The official tool's peak RSS grows with the tree: b2sdk's \`LocalFolder.all_files\`"
echo "  collects and sorts every local path before the first comparison."
} > "$section"
echo
cat "$section"
if [ "${NO_WRITE:-0}" != 1 ]; then
    sed '/^## Sync (bench\/sync.sh)/,$d' BENCHMARKS.md \
        | awk '{ l[NR] = $0 } END { n = NR; while (n > 0 && l[n] == "") n--; for (i = 1; i <= n; i++) print l[i] }' > "$work/bm"
    { cat "$work/bm"; echo; cat "$section"; } > BENCHMARKS.md
fi
