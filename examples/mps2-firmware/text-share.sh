#!/usr/bin/env bash
# Prints the firmware's .text and how its function symbols split by crate (LTO inlines
# across crates: code inlined into a caller counts for the caller's crate).
# Usage: examples/mps2-firmware/text-share.sh [ELF]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
elf="${1:-$here/target/thumbv7em-none-eabihf/release/b2-mps2-firmware}"
hex=$(readelf -S --wide "$elf" | sed -n 's/.*\] \.text *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p')
text=$((16#$hex))
# nm prints sizes in hex; turn them into decimal first (mawk has no strtonum).
nm -S -C "$elf" | while read -r addr size kind rest; do
    case "$kind" in t|T) echo "$((16#$size)) $kind $rest" ;; esac
done | awk -v text="$text" '
{
    size = $1; name = $0; sub(/^[^ ]+ [tT] /, "", name)
    crate = "other (core, compiler_builtins, cortex-m, firmware glue)"
    best = 1e9
    n = split("b2_core b2_transport_esp httparse sha1 heapless b2_sensor_logic smoltcp b2_mps2_firmware", cs, " ")
    for (i = 1; i <= n; i++) { p = index(name, cs[i] "::"); if (p > 0 && p < best) { best = p; crate = cs[i] } }
    by[crate] += size; total += size
}
END {
    sdk = by["b2_core"] + by["b2_transport_esp"] + by["httparse"] + by["sha1"] + by["heapless"]
    printf "mps2-firmware .text = %d bytes (%d KiB); function symbols by crate:\n", text, (text + 1023) / 1024
    n = split("b2_core b2_transport_esp sha1 heapless httparse b2_sensor_logic smoltcp b2_mps2_firmware", order, " ")
    for (i = 1; i <= n; i++) printf "  %-58s %7d\n", order[i], by[order[i]]
    other = "other (core, compiler_builtins, cortex-m, firmware glue)"
    printf "  %-58s %7d\n", other, by[other]
    printf "SDK share (b2_core + b2_transport_esp + httparse + sha1 + heapless) = %d bytes (%.0f %% of .text)\n", sdk, 100 * sdk / text
}'
