#!/usr/bin/env bash
# Builds the size probe for a bare-metal target and prints its .text size.
# Usage: examples/esp-size-probe/measure.sh [TARGET] [LIMIT_BYTES]
set -euo pipefail
cd "$(dirname "$0")"
target="${1:-riscv32imc-unknown-none-elf}"
limit="${2:-98304}"
cargo build --release --quiet --target "$target"
elf="target/$target/release/b2-esp-size-probe"
hex=$(readelf -S --wide "$elf" | sed -n 's/.*\] \.text *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p')
text=$((16#$hex))
echo "esp-size-probe $target: .text = $text bytes ($(( (text + 1023) / 1024 )) KiB), limit $limit"
[ "$text" -gt 0 ] && [ "$text" -le "$limit" ]
