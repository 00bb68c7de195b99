#!/usr/bin/env bash
# Upload benchmark (issue 4): b2ctl vs the official B2 command-line tool, both uploading the
# same 1 GiB file to the same b2-sim (data on disk) in the same run, same part size (100 MB),
# 4 threads, interleaved, several repetitions; medians reported. Also b2ctl from stdin.
# Peak RSS of each client from GNU time. Installs the official tool into a venv itself.
#
# Usage: bench/upload.sh [REPS] [SIZE_BYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
reps="${1:-3}"
size="${2:-1073741824}"
part=100000000
work="$(mktemp -d /tmp/b2-bench-upload.XXXXXX)"
trap 'kill "${sim_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

venv=target/bench-venv
if [ ! -x "$venv/bin/b2" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet b2
fi
if [ ! -x /usr/bin/time ]; then
    apt-get update -qq && apt-get install -y -qq time
fi
cargo build --release --quiet -p b2-sim -p b2-examples --bin b2-sim --bin b2ctl

head -c "$size" /dev/urandom > "$work/data.bin"
./target/release/b2-sim --port 0 --data-dir "$work/sim" --recommended-part-size "$part" --threads 4 > "$work/sim.out" &
sim_pid=$!
for _ in $(seq 100); do grep -q READY "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
read -r _ key_id key < <(grep '^KEY ' "$work/sim.out")
url=$(awk '/^READY/ {print $2}' "$work/sim.out")
export B2_APPLICATION_KEY_ID="$key_id" B2_APPLICATION_KEY="$key" B2_ENVIRONMENT="$url"
export B2_ACCOUNT_INFO="$work/b2_account_info"
"$venv/bin/b2" account authorize "$key_id" "$key" > /dev/null
./target/release/b2ctl bucket create bench-bucket > /dev/null

# run NAME CMD... : prints "seconds max_rss_kib"
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" > /dev/null 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
    cat "$work/time"
}

declare -A secs rss
for i in $(seq "$reps"); do
    r=$(measure ./target/release/b2ctl upload bench-bucket "$work/data.bin" "ctl-$i" --part-size "$part" --threads 4)
    secs[ctl]+="${r% *} "; rss[ctl]+="${r#* } "
    r=$(measure "$venv/bin/b2" file upload --no-progress --threads 4 --min-part-size "$part" bench-bucket "$work/data.bin" "cli-$i")
    secs[cli]+="${r% *} "; rss[cli]+="${r#* } "
    r=$(measure bash -c "./target/release/b2ctl upload bench-bucket - stdin-$i --part-size $part --threads 4 < '$work/data.bin'")
    secs[stdin]+="${r% *} "; rss[stdin]+="${r#* } "
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.0f", s / t / 1e6 }'; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F)"
echo "upload of $size bytes to b2-sim (data on disk), part size $part, 4 threads, $reps runs, medians"
printf '%-34s %10s %10s %14s\n' client seconds MB/s "peak RSS MiB"
for k in ctl cli stdin; do
    s=$(echo "${secs[$k]}" | median); m=$(echo "${rss[$k]}" | median)
    name=$k; [ $k = ctl ] && name="b2ctl upload FILE"; [ $k = cli ] && name="b2 file upload (official $("$venv/bin/b2" version | awk '{print $6}'))"; [ $k = stdin ] && name="b2ctl upload - (stdin)"
    printf '%-34s %10s %10s %14s\n' "$name" "$s" "$(mb "$s")" "$(awk -v k="$m" 'BEGIN{printf "%.1f", k/1024}')"
done
ctl=$(echo "${secs[ctl]}" | median); cli=$(echo "${secs[cli]}" | median)
awk -v a="$ctl" -v b="$cli" 'BEGIN { printf "b2ctl / official tool throughput: %.2fx\n", b / a }'
