#!/usr/bin/env bash
# Runs the device job on QEMU's mps2-an386 (Cortex-M4) against b2-sim on 127.0.0.1.
# Usage: examples/mps2-firmware/run.sh [--size BYTES] [--faults] [--timeout SECS]
# Fails on a non-zero exit of the firmware, a SHA-1 mismatch, or a timeout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size=$((16 << 20))
faults=0
limit=180
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --faults) faults=1; shift ;;
        --timeout) limit="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in qemu-system-arm socat; do
    command -v "$tool" >/dev/null || { echo "run.sh needs $tool (apt-get install qemu-system-arm socat)" >&2; exit 2; }
done

(cd "$here" && cargo build --release --quiet)
elf="$here/target/thumbv7em-none-eabihf/release/b2-mps2-firmware"
(cd "$root" && cargo build --release --quiet -p b2-sim -p b2-examples --bin b2-sim --bin b2ctl)
sim_bin="$root/target/release/b2-sim"
b2ctl="$root/target/release/b2ctl"

work="$(mktemp -d)"
sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# b2-sim on loopback; faults (if any) are switched on only for the device's run.
sim_args=(--port 0)
if [ "$faults" = 1 ]; then
    # Counted from start: the admin calls below (bucket, key) come first, so their
    # JSON calls can meet a fault too; b2ctl retries them like any client.
    sim_args+=(--fail-uploads-every 3 --reset-uploads-every 4 --expire-tokens-every 5
               --too-many-every 7 --retry-after 1 --seed 11)
fi
"$sim_bin" "${sim_args[@]}" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do
    grep -q '^READY ' "$work/sim.out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^READY //p' "$work/sim.out")
read -r master_id master_key < <(sed -n 's/^KEY //p' "$work/sim.out")
[ -n "$url" ] || { echo "b2-sim did not start" >&2; cat "$work/sim.err" >&2; exit 1; }
port="${url##*:}"
admin=(--realm "$url" --key-id "$master_id" --key "$master_key")
"$b2ctl" "${admin[@]}" bucket create sensor-bucket >/dev/null
# Bucket-restricted device key: write files, and read them (to check one download).
read -r dev_id dev_key < <("$b2ctl" "${admin[@]}" key create mps2-device --caps writeFiles,readFiles --bucket sensor-bucket)
umask 077
cat >"$work/b2-device.cfg" <<CFG
key_id=$dev_id
key=$dev_key
realm=$url
nas_size=$size
part_size=5000000
objects=20
CFG
echo "b2-sim at $url (faults: $faults); device key: writeFiles,readFiles on sensor-bucket only; NAS file $size bytes"

start=$(date +%s)
set +e
(cd "$work" && timeout "$limit" qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none \
    -semihosting-config enable=on,target=native \
    -nic "user,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:$port" \
    -kernel "$elf") | tee "$work/console.txt"
rc=${PIPESTATUS[0]}
set -e
secs=$(( $(date +%s) - start ))
if [ "$rc" = 124 ]; then echo "FAIL: QEMU timed out after $limit s" >&2; exit 1; fi
if [ "$rc" != 0 ]; then echo "FAIL: firmware exited with $rc" >&2; exit 1; fi
grep -q '^RESULT: ok' "$work/console.txt" || { echo "FAIL: no RESULT: ok" >&2; exit 1; }

# Every byte of the NAS file: the device's SHA-1 of its source against what b2-sim stored.
want=$(sed -n 's/^NAS file: [0-9]* bytes, sha1 \([0-9a-f]*\).*/\1/p' "$work/console.txt")
"$b2ctl" "${admin[@]}" download sensor-bucket nas/volume1/backup.img "$work/nas.img" >/dev/null
got=$(sha1sum "$work/nas.img" | cut -d' ' -f1)
stored=$(stat -c %s "$work/nas.img")
echo "host check: b2-sim stored $stored bytes, sha1 $got (device said $want)"
[ -n "$want" ] && [ "$got" = "$want" ] && [ "$stored" = "$size" ] || { echo "FAIL: SHA-1 or size mismatch" >&2; exit 1; }
if [ "$faults" = 1 ]; then
    stats=$(curl -fsS "$url/_sim/stats" 2>/dev/null || echo "(curl missing: no stats)")
    echo "b2-sim faults injected: $(echo "$stats" | grep -o '"faults":{[^}]*}' || echo "$stats")"
fi
echo "mps2-an386 run passed: QEMU ran ${secs} s"
