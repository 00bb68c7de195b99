#!/usr/bin/env bash
# Builds the bare-metal ESP32-C3 firmware and prints its sections, its RAM and the SDK's share
# of the code (function symbols by crate; LTO inlines across crates, so code inlined into a
# caller counts for the caller's crate). Fails if the SDK's share passes LIMIT bytes.
# Usage: examples/esp32c3-embassy/measure.sh [LIMIT_BYTES]   (default 98304)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
limit="${1:-98304}"
(cd "$here" && cargo build --release --quiet)
elf="$here/target/riscv32imc-unknown-none-elf/release/b2-esp32c3-embassy"
sec() { # decimal size of a section, 0 if absent
    local name="${1//./\\.}" hex
    hex=$(readelf -S --wide "$elf" | sed -n "s/.*\\] $name  *[A-Z]*  *[0-9a-f]* [0-9a-f]* \\([0-9a-f]*\\) .*/\\1/p")
    echo $((16#${hex:-0}))
}
text=$(sec .text); rodata=$(($(sec .rodata) + $(sec .rodata.wifi)))
iram=$(($(sec .trap) + $(sec .rwtext) + $(sec .rwtext.wifi)))
data=$(($(sec .data) + $(sec .data.wifi))); bss=$(sec .bss)
echo "esp32c3-embassy (riscv32imc-unknown-none-elf, opt-level s, fat LTO):"
echo "  flash: .text $text, .rodata $rodata, IRAM code $iram bytes"
echo "  RAM:   .data $data, .bss $bss bytes (.bss holds the 72 KiB heap esp-radio allocates from, the TLS and TCP buffers, the tasks' futures)"
ram_of() { # decimal size of the first data symbol whose name contains $1
    local hex
    hex=$(nm -S -C "$elf" | awk -v s="$1" '$3 ~ /^[bBdD]$/ && index($0, s) { print $2; exit }')
    echo $((16#${hex:-0}))
}
echo "  of which: main task (the job's whole state: Session, LargeUpload, op buffer, digests, body buffer, transport; Wi-Fi set-up) $(ram_of '__embassy_main::POOL'),"
echo "            TLS + TCP buffers $(ram_of 'TLS_BUFFERS'), embassy-net resources $(ram_of '::RESOURCES'), heap $(ram_of '::HEAP')"
nm -S -C "$elf" | while read -r _ size kind rest; do
    case "$kind" in t|T) echo "$((16#$size)) $rest" ;; esac
done | awk -v text="$text" -v limit="$limit" '
{
    size = $1; name = $0; sub(/^[^ ]+ /, "", name)
    group = "other (core, compiler_builtins, Wi-Fi blobs, firmware)"; best = 1e9
    n = split("b2_core:SDK b2_transport_esp:SDK httparse:SDK sha1:SDK heapless:SDK b2_sensor_logic:job b2_esp32c3_embassy:firmware embedded_tls:TLS p256:TLS p384:TLS aes:TLS aes_gcm:TLS sha2:TLS hkdf:TLS hmac:TLS ecdsa:TLS elliptic_curve:TLS crypto_bigint:TLS primeorder:TLS der:TLS embassy_net:network smoltcp:network esp_radio:radio-hal esp_hal:radio-hal esp_rtos:radio-hal esp_phy:radio-hal embassy_executor:radio-hal embassy_time:radio-hal", cs, " ")
    for (i = 1; i <= n; i++) { split(cs[i], kv, ":"); p = index(name, kv[1] "::"); if (p > 0 && p < best) { best = p; group = kv[2] } }
    by[group] += size
}
END {
    split("SDK job firmware TLS network radio-hal", order, " ")
    for (i = 1; i <= 6; i++) printf "  %-58s %7d\n", order[i], by[order[i]]
    o = "other (core, compiler_builtins, Wi-Fi blobs, firmware)"; printf "  %-58s %7d\n", o, by[o]
    printf "SDK share of .text (b2_core + b2_transport_esp + httparse + sha1 + heapless) = %d bytes, limit %d\n", by["SDK"], limit
    exit (by["SDK"] > 0 && by["SDK"] <= limit) ? 0 : 1
}'
