#!/usr/bin/env bash
# Runs the device job on QEMU's mps2-an386 (Cortex-M4) against b2-sim on 127.0.0.1.
# Usage: examples/mps2-firmware/run.sh [--size BYTES] [--faults] [--timeout SECS]
#                                      [--kill-resume [--kill-after PARTS] [--reboot-part-size BYTES]]
# Fails on a non-zero exit of the firmware, a SHA-1 mismatch, or a timeout.
# --kill-resume: kills QEMU (SIGKILL) while the NAS file's next part is streaming, once the
# device has saved a checkpoint with PARTS parts done (default 2), boots it again, and fails
# unless the second boot continues the same large file without sending any part the
# checkpoint had again (part uploads counted by b2-sim's /_sim/stats).
# --reboot-part-size: boot 2 runs with another part size, so the checkpoint is for other
# parameters: it must be refused, its unfinished file cancelled and the file sent anew.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
size=$((16 << 20))
faults=0
limit=180
kill_resume=0
kill_after=2
reboot_part_size=""
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --faults) faults=1; shift ;;
        --timeout) limit="$2"; shift 2 ;;
        --kill-resume) kill_resume=1; shift ;;
        --kill-after) kill_after="$2"; shift 2 ;;
        --reboot-part-size) reboot_part_size="$2"; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
for tool in qemu-system-arm socat curl; do
    command -v "$tool" >/dev/null || { echo "run.sh needs $tool (apt-get install qemu-system-arm socat curl)" >&2; exit 2; }
done

(cd "$here" && cargo build --release --quiet)
elf="$here/target/thumbv7em-none-eabihf/release/b2-mps2-firmware"
(cd "$root" && cargo build --release --quiet -p b2-sim -p b2-examples --bin b2-sim --bin b2ctl)
sim_bin="$root/target/release/b2-sim"
b2ctl="$root/target/release/b2ctl"

work="$(mktemp -d)"
sim_pid=""
qemu_pid=""
cleanup() {
    [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
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

qemu_args=(-M mps2-an386 -cpu cortex-m4 -nographic -monitor none
    -semihosting-config enable=on,target=native
    -nic "user,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:$port"
    -kernel "$elf")
# b2-sim's counter of stored uploads (files and parts) and of body bytes received.
sim_stat() { curl -fsS "$url/_sim/stats" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }

if [ "$kill_resume" = 1 ]; then
    # Boot 1, killed: QEMU in the background; the console shows each checkpoint save.
    (cd "$work" && exec qemu-system-arm "${qemu_args[@]}") >"$work/console1.txt" 2>&1 &
    qemu_pid=$!
    deadline=$(( $(date +%s) + limit ))
    until grep -q "^checkpoint: save .*, $kill_after parts done" "$work/console1.txt"; do
        if ! kill -0 "$qemu_pid" 2>/dev/null; then
            cat "$work/console1.txt"; echo "FAIL: the first boot ended before $kill_after parts were checkpointed" >&2; exit 1
        fi
        [ "$(date +%s)" -lt "$deadline" ] || { echo "FAIL: no checkpoint with $kill_after parts within $limit s" >&2; exit 1; }
        sleep 0.05
    done
    # The next part is streaming now (a 5 MB part takes about 0.5 s here): kill mid-part.
    sleep 0.1
    kill -9 "$qemu_pid"
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    cat "$work/console1.txt"
    echo "--- QEMU killed (SIGKILL) ---"
    if grep -q '^RESULT' "$work/console1.txt"; then echo "FAIL: the first boot finished before the kill" >&2; exit 1; fi
    sleep 0.5 # let b2-sim notice the dropped connection
    parts_before=$(sim_stat uploads)
    bytes_before=$(sim_stat bytesIngested)
    checkpointed=$(sed -n 's/^checkpoint: save .*, \([0-9]*\) parts done/\1/p' "$work/console1.txt" | tail -1)
    ckpt_record=$(sed -n 's/^checkpoint: save .*, \([0-9]*\) bytes, .*/\1/p' "$work/console1.txt" | tail -1)
    unfinished=$("$b2ctl" "${admin[@]}" unfinished sensor-bucket)
    echo "after the kill: b2-sim stored $parts_before parts ($bytes_before body bytes received); the last checkpoint saved had $checkpointed parts done ($ckpt_record bytes a slot record); unfinished: $unfinished"
    [ "$(echo "$unfinished" | grep -c backup.img)" = 1 ] || { echo "FAIL: expected one unfinished NAS file after the kill" >&2; exit 1; }
    if [ "$parts_before" != "$checkpointed" ]; then
        echo "FAIL: b2-sim stored $parts_before parts but the checkpoint had $checkpointed: the kill came after the next part was stored (timing), not mid-part" >&2; exit 1
    fi
    if [ -n "$reboot_part_size" ]; then
        sed -i "s/^part_size=.*/part_size=$reboot_part_size/" "$work/b2-device.cfg"
        echo "--- boot 2, part size now $reboot_part_size: the checkpoint is for other parameters ---"
    else
        echo "--- boot 2 ---"
    fi
fi

start=$(date +%s)
set +e
(cd "$work" && timeout "$limit" qemu-system-arm "${qemu_args[@]}") | tee "$work/console.txt"
rc=${PIPESTATUS[0]}
set -e
secs=$(( $(date +%s) - start ))
if [ "$rc" = 124 ]; then echo "FAIL: QEMU timed out after $limit s" >&2; exit 1; fi
if [ "$rc" != 0 ]; then echo "FAIL: firmware exited with $rc" >&2; exit 1; fi
grep -q '^RESULT: ok' "$work/console.txt" || { echo "FAIL: no RESULT: ok" >&2; exit 1; }
for f in "$work"/b2-ckpt-*.bin; do
    [ ! -s "$f" ] || { echo "FAIL: checkpoint $f not cleared after the finish" >&2; exit 1; }
done

if [ "$kill_resume" = 1 ]; then
    summary=$(grep '^SUMMARY ' "$work/console.txt")
    field() { echo "$summary" | grep -o " $1=[^ ]*" | cut -d= -f2; }
    parts=$(field parts); skipped=$(field parts_skipped); sent=$(field parts_sent)
    objects=$(sed -n 's/^uploaded: .* \([0-9]*\) sensor objects (\([0-9]*\) bytes).*/\1 \2/p' "$work/console.txt")
    read -r n_objects object_bytes <<<"$objects"
    parts_after=$(( $(sim_stat uploads) - parts_before - n_objects ))
    bytes_resent=$(( $(sim_stat bytesIngested) - size - object_bytes ))
    resent_what="the part cut by the kill"
    [ -z "$reboot_part_size" ] || resent_what="the cancelled file's parts and the part cut by the kill"
    echo "kill-resume: $parts parts; before the kill $parts_before sent and stored ($checkpointed checkpointed); after the reboot $skipped skipped, $sent sent (b2-sim stored $parts_after); bytes received twice by b2-sim: $bytes_resent ($resent_what); checkpoint $(field checkpoint_bytes) bytes ($(field record_bytes) a slot record)"
    if [ -n "$reboot_part_size" ]; then
        grep -q '^resume: checkpoint for other parameters: its file cancelled, new file' "$work/console.txt" || { echo "FAIL: the checkpoint for other parameters was not refused with its file cancelled" >&2; exit 1; }
        [ "$(field resumed)" = false ] && [ "$skipped" = 0 ] && [ "$sent" = "$parts" ] && [ "$parts_after" = "$parts" ] || { echo "FAIL: expected all $parts parts of the new file sent (device $sent, b2-sim $parts_after, skipped $skipped)" >&2; exit 1; }
    else
        [ "$(field resumed)" = true ] || { echo "FAIL: the second boot did not continue the checkpoint's file" >&2; exit 1; }
        [ "$skipped" = "$checkpointed" ] || { echo "FAIL: skipped $skipped parts, the checkpoint had $checkpointed" >&2; exit 1; }
        [ "$sent" = $(( parts - skipped )) ] && [ "$parts_after" = "$sent" ] || { echo "FAIL: part uploads after the reboot: device $sent, b2-sim $parts_after, expected $(( parts - skipped ))" >&2; exit 1; }
        [ $(( parts_before + parts_after )) = "$parts" ] || { echo "FAIL: b2-sim stored $(( parts_before + parts_after )) parts for a $parts-part file: a stored part was sent again" >&2; exit 1; }
    fi
    [ -z "$("$b2ctl" "${admin[@]}" unfinished sensor-bucket)" ] || { echo "FAIL: an unfinished large file is left" >&2; exit 1; }
fi

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
