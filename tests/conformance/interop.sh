#!/usr/bin/env bash
# Interoperability (issue: proof under load): files uploaded with b2ctl download intact with the
# official B2 command-line tool, and files uploaded with the official tool download intact with
# b2ctl, both against one b2-sim: small and large files, names with unusual characters.
# Ends with "N passed, M failed"; exits non-zero on any failure.
#
# Usage: tests/conformance/interop.sh   (installs the official tool into a venv itself)
set -u -o pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${B2_CLI_VENV:-$CARGO_TARGET_DIR/venv}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/b2-interop.XXXXXX")
PASS=0
FAIL=0
SIM_PID=""
trap '[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $1"; }
check() { local n=$1; shift; if "$@" >"$WORK/out" 2>&1; then ok "$n"; else bad "$n"; tail -n 15 "$WORK/out" | sed 's/^/     | /'; fi; }

if [ ! -x "$VENV/bin/b2" ]; then
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q b2 || { echo "cannot install b2"; exit 1; }
fi
export PYTHONWARNINGS=ignore B2_ACCOUNT_INFO="$WORK/account_info"
(cd "$ROOT" && cargo build -q --release -p b2-sim -p b2-examples --bin b2-sim --bin b2ctl) || exit 1
SIM="$CARGO_TARGET_DIR/release/b2-sim"
CTL="$CARGO_TARGET_DIR/release/b2ctl"

"$SIM" --port 0 --min-part-size 100000 >"$WORK/sim.out" 2>"$WORK/sim.err" &
SIM_PID=$!
for _ in $(seq 100); do grep -q '^READY ' "$WORK/sim.out" 2>/dev/null && break; sleep 0.1; done
read -r _ B2_APPLICATION_KEY_ID B2_APPLICATION_KEY < <(grep '^KEY ' "$WORK/sim.out")
B2_ENVIRONMENT=$(sed -n 's/^READY //p' "$WORK/sim.out")
export B2_APPLICATION_KEY_ID B2_APPLICATION_KEY B2_ENVIRONMENT
b2() { "$VENV/bin/b2" "$@"; }
echo "b2-sim at $B2_ENVIRONMENT; $(b2 version | head -n 1)"
check "official tool authorizes" b2 account authorize "$B2_APPLICATION_KEY_ID" "$B2_APPLICATION_KEY"
check "b2ctl creates the bucket" "$CTL" bucket create interop-bucket

head -c 1000 /dev/urandom >"$WORK/small.bin"
head -c 350017 /dev/urandom >"$WORK/large.bin"   # 4 parts of 100 KB with either tool
: >"$WORK/empty.bin"
names=("plain.txt" "with space/and+plus.bin" "percent%41/é-ü-ñ/😀.dat" "quote'and\"dq & amp.bin" "tilde~dots...bin")

for name in "${names[@]}"; do
    for f in small large empty; do
        n="ctl/$f/$name"
        check "b2ctl uploads $f '$n'" "$CTL" upload interop-bucket "$WORK/$f.bin" "$n" --part-size 100000
        rm -f "$WORK/got"
        check "official tool downloads it intact" bash -c "'$VENV/bin/b2' file download --no-progress 'b2://interop-bucket/$(printf %s "$n" | sed "s/'/'\\\\''/g")' '$WORK/got' && cmp '$WORK/got' '$WORK/$f.bin'"
        n="cli/$f/$name"
        check "official tool uploads $f '$n'" b2 file upload --no-progress --quiet --min-part-size 100000 interop-bucket "$WORK/$f.bin" "$n"
        rm -f "$WORK/got"
        check "b2ctl downloads it intact" bash -c '"$1" download interop-bucket "$2" "$3" && cmp "$3" "$4"' _ "$CTL" "$n" "$WORK/got" "$WORK/$f.bin"
    done
done
check "official tool lists what b2ctl uploaded" bash -c "'$VENV/bin/b2' ls -r b2://interop-bucket/ctl/ | grep -c . | grep -qx 15"
check "b2ctl lists what the official tool uploaded" bash -c "'$CTL' ls interop-bucket cli/ --recursive | grep -c . | grep -qx 15"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
